"""Plugins: adapters for record systems, found through pluggy and the ``mns`` entry-point group.

Besides the adapter record, the helpers every adapter author needs for hostile input:
workbooks opened within :class:`Limits` (:func:`check_workbook`, :func:`open_workbook`,
:func:`sheet_rows`) and text whose encoding is found from its bytes (:func:`detect_encoding`,
:func:`decode_text`, :func:`text_head`); and files written whole or not at all
(:func:`replacing`), for adapters that write a return; XML read safely in pieces
(:func:`iterparse`); text read a line at a time (:func:`scan_encoding`, :func:`text_lines`);
ZIP files looked into without inflating them (:func:`head_entries` for ``sniff``,
:func:`zip_entries`, :func:`zip_sources`); rows made typed tables (:class:`RowBatcher`,
:func:`rows_to_batches`, :func:`rows_to_table`, :func:`align`); and what an adapter that
streams (``Adapter.stream``) needs: :data:`Batches`, :func:`collect`.
"""

from mns.plugins.adapter import Adapter, Batches, Option, Source, collect
from mns.plugins.hookspec import hookimpl
from mns.plugins.rows import RowBatcher, align, rows_to_batches, rows_to_table
from mns.plugins.text import (
    Encoding,
    decode_text,
    detect_encoding,
    scan_encoding,
    text_head,
    text_lines,
)
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
from mns.plugins.zip import HeadEntry, ZipEntry, head_entries, is_zip, zip_entries, zip_sources
from mns.records.folder import replacing

__all__ = [
    "DEFAULT_LIMITS",
    "LIMITS_OPTION",
    "Adapter",
    "Batches",
    "Encoding",
    "HeadEntry",
    "Limits",
    "Option",
    "RowBatcher",
    "SheetShape",
    "Source",
    "WorkbookError",
    "WorkbookShape",
    "ZipEntry",
    "align",
    "check_workbook",
    "collect",
    "decode_text",
    "detect_encoding",
    "head_entries",
    "hookimpl",
    "is_zip",
    "iterparse",
    "limits_from",
    "open_workbook",
    "replacing",
    "report_uncached",
    "rows_to_batches",
    "rows_to_table",
    "scan_encoding",
    "sheet_rows",
    "text_head",
    "text_lines",
    "zip_entries",
    "zip_sources",
]
