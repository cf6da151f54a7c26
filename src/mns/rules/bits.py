"""Kleene truth values of a batch's rows as two packed bitmaps: where a condition is true, and
where it is false (neither: unknown).

Arrow's and/or/not kernels on bool arrays with nulls cost tens of microseconds a call; the same
logic on two bitmaps is one numpy operation on an eighth of a byte a row: ``a and b`` is true
where both are true and false where either is false. Bitmaps are numpy ``uint8`` arrays in
Arrow's bit order (least significant bit first); the bits past the last row mean nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

__all__ = ["Bitmap", "Truth", "packed", "unpacked", "valid_bits", "values"]

Bitmap = npt.NDArray[np.uint8]


def _size(n: int) -> int:
    return (n + 7) // 8


def packed(flags: npt.NDArray[np.bool_]) -> Bitmap:
    """One bit a row from a bool array."""
    return np.packbits(flags, bitorder="little")


def unpacked(bits: Bitmap, n: int) -> npt.NDArray[np.bool_]:
    """A bool array of the first ``n`` rows."""
    return np.unpackbits(bits, count=n, bitorder="little").view(np.bool_)


def _bitmap(buffer: pa.Buffer, offset: int, n: int) -> Bitmap:
    """The ``n`` bits of ``buffer`` from bit ``offset``, starting at bit 0 (a view when the
    offset is whole bytes)."""
    raw = np.frombuffer(buffer, np.uint8)
    if offset % 8 == 0:
        return raw[offset // 8 : offset // 8 + _size(n)]
    return packed(np.unpackbits(raw, count=offset + n, bitorder="little")[offset:].view(np.bool_))


def valid_bits(array: pa.Array) -> Bitmap | None:
    """Where ``array`` has a value, or None when it has no nulls."""
    if array.null_count == 0:
        return None
    if isinstance(array, pa.NullArray):
        return np.zeros(_size(len(array)), np.uint8)
    return _bitmap(array.buffers()[0], array.offset, len(array))


def values(array: pa.Array) -> npt.NDArray[Any] | None:
    """The values of a fixed-width numeric or ``date32`` array as numpy (a view; the values
    under nulls are arbitrary), or None for other types. ``date32`` gives days since 1970."""
    typ = array.type
    if pa.types.is_date32(typ):
        dtype: Any = np.int32
    elif pa.types.is_integer(typ) or pa.types.is_floating(typ):
        dtype = typ.to_pandas_dtype()
    else:
        return None
    start = array.offset
    return np.frombuffer(array.buffers()[1], dtype)[start : start + len(array)]


class Truth:
    """Where a condition is true and where it is false, for ``n`` rows."""

    __slots__ = ("false", "true")

    def __init__(self, true: Bitmap, false: Bitmap) -> None:
        self.true = true
        self.false = false

    @classmethod
    def constant(cls, value: bool | None, n: int) -> Truth:
        """The same value on every row (None: unknown)."""
        ones, zeros = np.full(_size(n), 0xFF, np.uint8), np.zeros(_size(n), np.uint8)
        if value is None:
            return cls(zeros, zeros)
        return cls(ones, zeros) if value else cls(zeros, ones)

    @classmethod
    def of(cls, value: Any, n: int) -> Truth:
        """From an Arrow bool array or scalar (a null is unknown)."""
        if isinstance(value, pa.Scalar):
            return cls.constant(value.as_py(), n)
        data = _bitmap(value.buffers()[1], value.offset, n)
        return cls.where(data, valid_bits(value))

    @classmethod
    def where(cls, held: Bitmap, valid: Bitmap | None) -> Truth:
        """True where ``held``, false elsewhere, unknown where not ``valid`` (None: all)."""
        if valid is None:
            return cls(held, ~held)
        return cls(held & valid, ~held & valid)

    def __invert__(self) -> Truth:
        return Truth(self.false, self.true)

    def __and__(self, other: Truth) -> Truth:
        return Truth(self.true & other.true, self.false | other.false)

    def __or__(self, other: Truth) -> Truth:
        return Truth(self.true | other.true, self.false & other.false)

    def unknown(self) -> Bitmap:
        """Where the condition is neither true nor false."""
        return ~(self.true | self.false)

    def arrow(self, n: int) -> pa.Array:
        """As an Arrow bool array, null where unknown (Arrow counts the nulls when asked)."""
        valid = pa.py_buffer(self.true | self.false)
        return pa.Array.from_buffers(pa.bool_(), n, [valid, pa.py_buffer(self.true)])
