"""The hooks a plugin may implement. Every hook is prefixed ``mns_``."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from mns.plugins.adapter import Adapter

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
