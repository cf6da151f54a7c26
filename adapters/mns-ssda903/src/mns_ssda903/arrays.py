"""Small helpers on pyarrow columns shared by the reader's modules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["WHITESPACE", "holds", "mask", "plain"]

#: the characters trimmed from values, as the DfE validator trims them
WHITESPACE = b" \t\r\n\x0b\x0c"


def mask(array: Any) -> np.ndarray:
    """A numpy boolean mask from a pyarrow boolean array (null counts as false)."""
    if array.null_count:
        array = pc.fill_null(array, False)
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def plain(table: pa.Table, column: str) -> pa.Array:
    """A column as one array, dictionary-encoded columns decoded to their values."""
    values = table.column(column).combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    return values


def holds(values: pa.Array, characters: bytes) -> bool:
    """Whether any of ``characters`` is in the bytes of ``values`` (a quick, conservative
    look at the data buffer, so that a column without them skips a pass)."""
    data = values.buffers()[2] if len(values) else None
    if data is None:
        return False
    raw = np.frombuffer(data, dtype=np.uint8)
    return any(bool((raw == c).any()) for c in characters)
