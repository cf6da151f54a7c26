"""Plugins: adapters for record systems, found through pluggy and the ``mns`` entry-point group.

Besides the adapter record, the helpers every adapter author needs for hostile input:
workbooks opened within :class:`Limits` (:func:`check_workbook`, :func:`open_workbook`,
:func:`sheet_rows`) and text whose encoding is found from its bytes (:func:`detect_encoding`,
:func:`decode_text`, :func:`text_head`); and files written whole or not at all
(:func:`replacing`), for adapters that write a return; XML read safely in pieces
(:func:`iterparse`).
"""

from mns.plugins.adapter import Adapter, Option, Source
from mns.plugins.hookspec import hookimpl
from mns.plugins.text import Encoding, decode_text, detect_encoding, text_head
from mns.plugins.workbook import (
    DEFAULT_LIMITS,
    LIMITS_OPTION,
    Limits,
    SheetShape,
    WorkbookError,
    WorkbookShape,
    check_workbook,
    limits_from,
    open_workbook,
    report_uncached,
    sheet_rows,
)
from mns.plugins.xml import iterparse
from mns.records.folder import replacing

__all__ = [
    "DEFAULT_LIMITS",
    "LIMITS_OPTION",
    "Adapter",
    "Encoding",
    "Limits",
    "Option",
    "SheetShape",
    "Source",
    "WorkbookError",
    "WorkbookShape",
    "check_workbook",
    "decode_text",
    "detect_encoding",
    "hookimpl",
    "iterparse",
    "limits_from",
    "open_workbook",
    "replacing",
    "report_uncached",
    "sheet_rows",
    "text_head",
]
