"""Audit forms: the XLSX workbook auditors fill, the printable single-case form, and the
adapter that reads filled workbooks back."""

from mns._extras import require

require("forms", "audit forms")  # one line naming mns[forms], not a ModuleNotFoundError

from mns.forms.printable import render_printable, write_printable  # noqa: E402
from mns.forms.reader import form_adapter, read_workbooks, sniff  # noqa: E402
from mns.forms.workbook import build_workbook, form_fields, write_workbook  # noqa: E402

__all__ = [
    "build_workbook",
    "form_adapter",
    "form_fields",
    "read_workbooks",
    "render_printable",
    "sniff",
    "write_printable",
    "write_workbook",
]
