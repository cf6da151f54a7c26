"""Small helpers on pyarrow columns shared by the reader's modules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["mask", "plain"]


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
