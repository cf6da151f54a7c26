"""The engine-factory record: how a plugin offers an engine (Spark, Ray, a batch system) that
``mns.engines.get("name")``, ``engine="name"`` and ``mns audit --engine name`` can start.

The record names the engine and gives a function that makes it; the engine itself subclasses
:class:`mns.engines.Engine` (see ``docs/reference/engines.md``, "Writing an engine"). This
module imports nothing of :mod:`mns.engines`, so plugins sit below the engines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import attrs

__all__ = ["BUILTIN_ENGINES", "EngineFactory"]

#: The engines mns itself provides; a plugin cannot take their names.
BUILTIN_ENGINES: Final = ("local", "processes", "dask")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def _name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"EngineFactory: name {value!r} must be lower case letters, digits, '-' or '_', "
            "starting with a letter (it is given as engine='name' and --engine name)"
        )
    if value in BUILTIN_ENGINES:
        raise ValueError(
            f"EngineFactory: name {value!r} is one of mns's own engines "
            f"({', '.join(BUILTIN_ENGINES)}); choose another"
        )


@attrs.frozen(kw_only=True)
class EngineFactory:
    """An engine a plugin provides, by name.

    ``make(target, *, workers, timeout)`` returns a new, closed :class:`mns.engines.Engine`:
    ``target`` is what follows the name and a colon in ``"name:target"`` (an address, a
    profile; None without it), ``workers`` the number of workers asked for (None: the
    engine's choice) and ``timeout`` the longest wait for a result in seconds (None: no
    limit). ``plugin`` is set by the plugin manager to the plugin that gave the factory.
    """

    name: str = attrs.field(validator=_name)
    description: str
    make: Callable[..., Any] = attrs.field(eq=False)
    plugin: str = attrs.field(default="", eq=False)

    def __attrs_post_init__(self) -> None:
        if not callable(self.make):
            raise TypeError(f"EngineFactory {self.name!r}: make must be callable")
        if not isinstance(self.description, str):
            raise TypeError(f"EngineFactory {self.name!r}: description must be text")
