"""mns's built-in adapters, registered through the same ``mns_adapters`` hook as any plugin.

- ``canonical``: mns's own tables as Parquet, CSV or JSON Lines (:mod:`mns.adapters.canonical`);
- ``mapping``: any CSV or XLSX export plus a mapping file (:mod:`mns.adapters.mapping`).

``import mns`` also exports a function ``mns.adapters()`` (the installed adapters). Python
makes the attribute ``mns.adapters`` this module once it is imported, so the module is
callable and does the same.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

from mns.plugins.adapter import Adapter
from mns.plugins.hookspec import hookimpl

__all__ = ["mns_adapters"]


@hookimpl
def mns_adapters() -> Iterator[Adapter]:
    """The built-in adapters."""
    from mns.adapters.canonical import ADAPTER as CANONICAL
    from mns.adapters.mapping import ADAPTER as MAPPING

    yield CANONICAL
    yield MAPPING


class _CallableModule(types.ModuleType):
    def __call__(self) -> tuple[Adapter, ...]:
        """Every installed adapter, sorted by name (as :func:`mns.plugins.manager.adapters`)."""
        from mns.plugins.manager import adapters

        return adapters()


sys.modules[__name__].__class__ = _CallableModule
