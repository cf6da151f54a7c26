"""mns's built-in adapters, registered through the same ``mns_adapters`` hook as any plugin.

- ``canonical``: mns's own tables as Parquet, CSV or JSON Lines (:mod:`mns.builtin.canonical`);
- ``mapping``: any CSV or XLSX export plus a mapping file (:mod:`mns.builtin.mapping`);
- ``audit-form``: completed MN&S audit-form workbooks (:mod:`mns.forms.reader`).
"""

from __future__ import annotations

from collections.abc import Iterator

from mns.plugins.adapter import Adapter
from mns.plugins.hookspec import hookimpl
from mns.records.bundle import Records

__all__ = ["mns_adapters"]


@hookimpl
def mns_adapters() -> Iterator[Adapter]:
    """The built-in adapters."""
    from mns.builtin.canonical import ADAPTER as CANONICAL
    from mns.builtin.mapping import ADAPTER as MAPPING

    yield CANONICAL
    yield MAPPING
    try:
        from mns.forms.reader import form_adapter
    except ImportError as exc:  # mns[forms] is not installed: reading a form names the extra
        yield _form_adapter_needing_extra(str(exc))
    else:
        yield form_adapter()


def _form_adapter_needing_extra(reason: str) -> Adapter:
    from mns._extras import require
    from mns.errors import AdapterError

    def read(sources: object, options: object) -> Records:
        require("forms", "reading audit forms")
        raise AdapterError(f"the audit-form adapter could not be loaded: {reason}")

    return Adapter(
        name="audit-form",
        description="Filled mns audit-form workbooks (needs mns[forms], not installed)",
        read=read,
        suffixes=(".xlsx",),
        tables=("cases", "assignments", "services"),
    )
