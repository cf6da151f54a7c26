"""The hooks a plugin may implement. Every hook is prefixed ``mns_``."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from mns.plugins.adapter import Adapter
from mns.plugins.engine import EngineFactory

__all__ = ["hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("mns")
hookimpl = pluggy.HookimplMarker("mns")


class Specs:
    """Hook specifications of the ``mns`` project."""

    @hookspec
    def mns_adapters(self) -> Iterable[Adapter]:
        """Adapters this plugin provides.

        Example::

            import mns

            @mns.hookimpl
            def mns_adapters():
                yield mns.Adapter(
                    name="acme-export",
                    description="ACME case system nightly export (CSV)",
                    suffixes=(".acme",),
                    sniff=lambda head: head.startswith(b"ACME;"),
                    read=read_acme,  # (sources, options) -> mns.Records
                    tables=("cases", "services"),
                )
        """
        yield from ()

    @hookspec
    def mns_engines(self) -> Iterable[EngineFactory]:
        """Engines this plugin provides: where mns computes (``engine="name"``,
        ``mns.engines.get("name:target")``, ``mns audit --engine name``).

        Example::

            import mns

            @mns.hookimpl
            def mns_engines():
                yield mns.EngineFactory(
                    name="threads",
                    description="a thread pool in this process",
                    make=lambda target, *, workers, timeout: Threads(workers or 4),
                )
        """
        yield from ()
