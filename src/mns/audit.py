"""The whole audit as one function: records and a plan in, every analysis out.

(Being written; see run_audit below.)
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["summarise_issues"]

_ISSUE_KEYS = ("source", "table", "field", "severity", "action")


def summarise_issues(
    issues: pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch],
) -> pa.Table:
    """The problems met while reading, counted by where and what: one row per (source,
    table, field, severity, action) with ``issues`` (how many) and ``example`` (the message
    of the first one, in file order). Sorted by those keys."""
    table = _as_table(issues)
    keys = list(_ISSUE_KEYS)
    schema = pa.schema(
        [
            *(pa.field(k, pa.string()) for k in keys),
            pa.field("issues", pa.int64()),
            pa.field("example", pa.string()),
        ]
    )
    if table.num_rows == 0:
        return schema.empty_table()
    plain = pa.table(
        {
            **{k: pc.fill_null(table.column(k).cast(pa.string()), "") for k in keys},
            "message": table.column("message").cast(pa.string()),
            "order": pa.array(range(table.num_rows), pa.int64()),
        }
    )
    grouped = plain.group_by(keys, use_threads=False).aggregate(
        [("order", "count"), ("order", "min")]
    )
    first = pc.take(plain.column("message"), grouped.column("order_min"))
    out = pa.table(
        {
            **{k: grouped.column(k) for k in keys},
            "issues": grouped.column("order_count").cast(pa.int64()),
            "example": first,
        },
        schema=schema,
    )
    return out.sort_by([(k, "ascending") for k in keys])


def _as_table(data: pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    return pa.Table.from_batches(list(data))
