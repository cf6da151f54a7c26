"""mns's built-in adapters, registered through the same ``mns_adapters`` hook as any plugin.

- ``canonical``: mns's own tables as Parquet, CSV or JSON Lines (:mod:`mns.builtin.canonical`);
- ``mapping``: any CSV or XLSX export plus a mapping file (:mod:`mns.builtin.mapping`);
- ``audit-form``: completed MN&S audit-form workbooks (:mod:`mns.forms.reader`).
"""

from __future__ import annotations

from collections.abc import Iterator

from mns.plugins.adapter import Adapter
from mns.plugins.hookspec import hookimpl

__all__ = ["mns_adapters"]


@hookimpl
def mns_adapters() -> Iterator[Adapter]:
    """The built-in adapters."""
    from mns.builtin.canonical import ADAPTER as CANONICAL
    from mns.builtin.mapping import ADAPTER as MAPPING
    from mns.forms.reader import form_adapter

    yield CANONICAL
    yield MAPPING
    yield form_adapter()
