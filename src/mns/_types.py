"""Type names shared by every layer, kept below them all (no mns imports here)."""

__all__ = ["IndicatorValue"]

#: What one indicator holds for one case: a flag, a 0-3 rating, a category code, or missing.
#: A real union (not a string), so that cattrs finds its structure hook.
IndicatorValue = bool | int | str | None
