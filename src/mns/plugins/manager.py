"""The plugin manager: finds plugins through the ``mns`` entry-point group and collects
adapters and engines.

Built-in adapters (module :mod:`mns.builtin`, plugin name ``builtin``) are always
registered, through the same hook as third-party plugins. Other plugins are loaded from the
``mns`` entry-point group unless the environment variable ``MNS_AUTOLOAD`` says otherwise:

- unset or ``1``: load every entry point;
- ``0``: load none (tests do this, and register their plugins by hand);
- ``name1,name2``: load only the entry points with these names (an allow-list).

A plugin that fails to load (import error, misspelled hook, a hook that raises or yields
something other than :class:`mns.Adapter`) is warned about with :class:`PluginWarning`,
recorded in :func:`failures`, and left out; the others keep working. Two adapters with the
same name are an :class:`mns.AdapterError` naming every provider; two engines with the same
name, an :class:`mns.EngineError`.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.metadata
import os
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, cast

import attrs
import pluggy

from mns.errors import AdapterError, EngineError
from mns.plugins import hookspec
from mns.plugins.adapter import Adapter
from mns.plugins.engine import BUILTIN_ENGINES, EngineFactory

__all__ = [
    "AUTOLOAD_ENV",
    "BUILTIN",
    "GROUP",
    "Failure",
    "Manager",
    "PluginWarning",
    "adapter",
    "adapters",
    "engines",
    "failures",
    "get_manager",
    "use_manager",
]

GROUP = "mns"  #: the entry-point group (and pluggy project name)
AUTOLOAD_ENV = "MNS_AUTOLOAD"
BUILTIN = "builtin"  #: plugin name of mns's own adapters


class PluginWarning(UserWarning):
    """A plugin could not be loaded; the others keep working."""


@attrs.frozen(kw_only=True)
class Failure:
    """A plugin that failed to load, and why."""

    plugin: str  #: the entry-point (or registration) name
    target: str  #: what it points at, e.g. ``"acme_mns:plugin"``
    error: str  #: the error, as ``Type: message``


def _autoload_setting(value: str | None) -> bool | frozenset[str]:
    if value is None or value.strip() in ("", "1"):
        return True
    if value.strip() == "0":
        return False
    return frozenset(name.strip() for name in value.split(",") if name.strip())


class Manager(pluggy.PluginManager):
    """mns's pluggy manager: the hookspecs, the built-in adapters, and the plugins' adapters.

    ``autoload``: ``True`` loads every entry point of the ``mns`` group, ``False`` none, a
    set of names only those; ``None`` reads ``MNS_AUTOLOAD``.
    """

    def __init__(self, *, autoload: bool | frozenset[str] | None = None) -> None:
        super().__init__(GROUP)
        self.add_hookspecs(hookspec.Specs)
        self._failures: list[Failure] = []
        self._collected: tuple[Adapter, ...] | None = None
        self._engines: tuple[EngineFactory, ...] | None = None
        # the module, not the ``mns.adapters()`` function that ``import mns`` also exports
        self.register(importlib.import_module("mns.builtin"), name=BUILTIN)
        self.check_pending()
        if autoload is None:
            autoload = _autoload_setting(os.environ.get(AUTOLOAD_ENV))
        if autoload is not False:
            self.load_entry_points(None if autoload is True else autoload)

    # --- discovery -----------------------------------------------------------------------

    def load_entry_points(self, names: frozenset[str] | None = None) -> int:
        """Load the ``mns`` entry points (only ``names`` when given); return how many loaded.

        Each entry point is isolated: one that fails is warned about and recorded.
        """
        count = 0
        points = sorted(
            importlib.metadata.entry_points(group=GROUP), key=lambda ep: (ep.name, ep.value)
        )
        for ep in points:
            if names is not None and ep.name not in names:
                continue
            if self.has_plugin(ep.name) or self.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._fail(ep.name, ep.value, exc)
                continue
            if self.add(plugin, name=ep.name, target=ep.value):
                count += 1
        return count

    def add(self, plugin: object, *, name: str | None = None, target: str = "") -> bool:
        """Register ``plugin`` (a module or object with hookimpls), isolating its failure:
        returns ``False`` (and records a :class:`Failure`) if it cannot be registered."""
        label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        target = target or getattr(plugin, "__name__", "") or repr(plugin)
        try:
            self.register(plugin, name=label)
            self.check_pending()
        except Exception as exc:
            with contextlib.suppress(Exception):
                self.unregister(name=label)
            self._fail(label, target, exc)
            return False
        return True

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        self._collected = self._engines = None
        return super().register(plugin, name)

    def unregister(self, plugin: Any = None, name: str | None = None) -> Any:
        self._collected = self._engines = None
        return super().unregister(plugin, name)

    def _fail(self, plugin: str, target: str, exc: BaseException) -> None:
        failure = Failure(plugin=plugin, target=target, error=f"{type(exc).__name__}: {exc}")
        self._failures.append(failure)
        warnings.warn(
            f"mns plugin {plugin!r} ({target}) failed to load and is left out: {failure.error}",
            PluginWarning,
            stacklevel=3,
        )

    def failures(self) -> tuple[Failure, ...]:
        """Plugins that failed to load, in the order they failed."""
        if self._collected is None:
            self.adapters()  # collecting may record failures of hooks that raise
        return tuple(self._failures)

    # --- adapters ------------------------------------------------------------------------

    def adapters(self) -> tuple[Adapter, ...]:
        """Every adapter, sorted by name, each with ``plugin`` set to the plugin that gave it.

        Raises :class:`mns.AdapterError` if two plugins (or one plugin twice) give the same name.
        """
        if self._collected is None:
            self._collected = self._collect()
        return self._collected

    def adapter(self, name: str) -> Adapter:
        """The adapter called ``name``; the error lists the known names."""
        for item in self.adapters():
            if item.name == name:
                return item
        names = [a.name for a in self.adapters()]
        known = ", ".join(names) or "none"
        close = difflib.get_close_matches(name, names, n=2, cutoff=0.6)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise AdapterError(f"unknown adapter {name!r}{hint}; known adapters: {known}", adapter=name)

    def _gather(self, hook: str, kind: type[Any], record: str) -> dict[str, list[Any]]:
        """What every plugin's ``hook`` yields, by name, each with ``plugin`` set; a plugin
        whose hook raises or yields something other than ``kind`` is left out (recorded)."""
        found: dict[str, list[Any]] = {}
        for impl in getattr(self.hook, hook).get_hookimpls():
            plugin = self.get_name(impl.plugin) or impl.plugin_name
            try:
                yielded = list(cast(Iterable[object], impl.function()))
                items = [item for item in yielded if isinstance(item, kind)]
                for item in yielded:
                    if not isinstance(item, kind):
                        raise TypeError(
                            f"{hook} yielded {type(item).__name__} {item!r}; "
                            f"yield {record}(...) records"
                        )
            except Exception as exc:
                self._fail(plugin, getattr(impl.plugin, "__name__", plugin), exc)
                continue
            for item in items:
                found.setdefault(item.name, []).append(attrs.evolve(item, plugin=plugin))
        return found

    def _collect(self) -> tuple[Adapter, ...]:
        found = self._gather("mns_adapters", Adapter, "mns.Adapter")
        clashes = {name: items for name, items in found.items() if len(items) > 1}
        if clashes:
            lines = [
                f"adapter {name!r} is provided by plugins "
                + ", ".join(repr(a.plugin) for a in items)
                for name, items in sorted(clashes.items())
            ]
            raise AdapterError(
                "; ".join(lines) + ". Adapter names must be unique: uninstall one of them, or "
                f"leave one out with {AUTOLOAD_ENV}=<allowed entry-point names>",
                adapter=sorted(clashes)[0],
            )
        return tuple(items[0] for _, items in sorted(found.items()))

    # --- engines -------------------------------------------------------------------------

    def engines(self) -> tuple[EngineFactory, ...]:
        """Every plugin's engine factory, sorted by name (mns's own engines are not plugins).

        Raises :class:`mns.EngineError` if two plugins give the same name."""
        if self._engines is None:
            found = self._gather("mns_engines", EngineFactory, "mns.EngineFactory")
            clashes = {name: items for name, items in found.items() if len(items) > 1}
            if clashes:
                name, items = sorted(clashes.items())[0]
                raise EngineError(
                    f"engine {name!r} is provided by plugins "
                    + ", ".join(repr(e.plugin) for e in items)
                    + ". Engine names must be unique: uninstall one of them, or leave one out "
                    f"with {AUTOLOAD_ENV}=<allowed entry-point names>",
                    engine=name,
                    reason="setup",
                )
            self._engines = tuple(items[0] for _, items in sorted(found.items()))
        return self._engines

    def engine(self, name: str) -> EngineFactory:
        """The plugin engine called ``name``; a ValueError lists every engine's name."""
        for item in self.engines():
            if item.name == name:
                return item
        names = [*BUILTIN_ENGINES, *(e.name for e in self.engines())]
        close = difflib.get_close_matches(name, names, n=2, cutoff=0.6)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise ValueError(
            f"engine {name!r} is not one of {', '.join(map(repr, names))}{hint}: mns's own "
            "engines, then the engines of installed plugins (mns_engines)"
        )


_manager: Manager | None = None


def get_manager() -> Manager:
    """The process-wide manager, created (and plugins loaded) on first use."""
    global _manager  # noqa: PLW0603 - one lazily built manager per process
    if _manager is None:
        _manager = Manager()
    return _manager


@contextlib.contextmanager
def use_manager(manager: Manager | None) -> Iterator[Manager | None]:
    """Make ``manager`` the process-wide manager inside the ``with`` block (tests use this)."""
    global _manager  # noqa: PLW0603
    before = _manager
    _manager = manager
    try:
        yield manager
    finally:
        _manager = before


def adapters() -> tuple[Adapter, ...]:
    """Every installed adapter, sorted by name; each one's ``plugin`` names who gave it."""
    return get_manager().adapters()


def adapter(name: str) -> Adapter:
    """The installed adapter called ``name``."""
    return get_manager().adapter(name)


def engines() -> tuple[EngineFactory, ...]:
    """Every installed plugin's engine factory, sorted by name."""
    return get_manager().engines()


def failures() -> tuple[Failure, ...]:
    """The plugins that failed to load, with their errors (``mns adapters`` lists them)."""
    return get_manager().failures()
