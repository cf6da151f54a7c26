"""The files that used to kill or hang a read, each run by ``python -m tests.hostile.killers``
in a child process (so that a regression fails a test instead of aborting the test run).

Prints one JSON object: for each case, what the read gave (``issues`` located, or the error's
class and message). The test module asserts on it, and on the child's peak memory.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from mns.errors import MnsError
from mns.records.issues import rejected
from tests.hostile import seeds
from tests.hostile.xlsx import bomb_xlsx, build_xlsx, cells_from_rows, replace_part
from tests.peak import peak_mib

FAR = "XFD1048576"
PEAK = "peak_mib"


def _outcome(seed: seeds.Seed, data: bytes) -> dict[str, Any]:
    try:
        records = seeds.read(seed, data)
    except MnsError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    issues = records.issues.to_pylist()
    return {
        "cases": records.cases.num_rows,
        "rejected": rejected(records.issues),
        "issues": [{k: i[k] for k in ("sheet", "row", "column", "message")} for i in issues],
    }


def _with_far_cell(part: bytes) -> bytes:
    """A worksheet part with one more value, at XFD1048576."""
    cell = f'<row r="1048576"><c r="{FAR}" t="inlineStr"><is><t>far</t></is></c></row>'
    return part.replace(b"</sheetData>", cell.encode() + b"</sheetData>")


def _with_dimension(part: bytes) -> bytes:
    """A worksheet part whose ``<dimension>`` claims the whole grid."""
    claim = f'<dimension ref="A1:{FAR}"/>'.encode()
    if b"<dimension" in part:
        start = part.index(b"<dimension")
        end = part.index(b">", start) + 1
        return part[:start] + claim + part[end:]
    return part.replace(b"<sheetData>", claim + b"<sheetData>")


def _form_part(seed: seeds.Seed) -> str:
    """The part holding the audit form's Sample sheet."""
    import io
    import zipfile

    from mns.plugins import check_workbook

    shape = check_workbook(seed.data)
    assert zipfile.ZipFile(io.BytesIO(seed.data)).read(shape.sheet("Sample").part)
    return shape.sheet("Sample").part


def annex_far_cell() -> dict[str, Any]:
    seed = seeds.annex_a()
    return _outcome(seed, replace_part(seed.data, "xl/worksheets/sheet1.xml", _with_far_cell))


def mapping_far_cell() -> dict[str, Any]:
    seed = seeds.mapping_xlsx()
    return _outcome(seed, replace_part(seed.data, "xl/worksheets/sheet1.xml", _with_far_cell))


def form_far_cell() -> dict[str, Any]:
    seed = seeds.audit_form()
    return _outcome(seed, replace_part(seed.data, _form_part(seed), _with_far_cell))


def mapping_lying_dimension() -> dict[str, Any]:
    seed = seeds.mapping_xlsx()
    return _outcome(seed, replace_part(seed.data, "xl/worksheets/sheet1.xml", _with_dimension))


def form_lying_dimension() -> dict[str, Any]:
    seed = seeds.audit_form()
    return _outcome(seed, replace_part(seed.data, _form_part(seed), _with_dimension))


def annex_zip_bomb() -> dict[str, Any]:
    return _outcome(seeds.annex_a(), bomb_xlsx(1600))


def mapping_zip_bomb_lying() -> dict[str, Any]:
    return _outcome(seeds.mapping_xlsx(), bomb_xlsx(200, declared=4096))


def mapping_catastrophic_pattern() -> dict[str, Any]:
    mapping = {
        **seeds.MAPPING,
        "fields": {**seeds.MAPPING["fields"], "age": {"column": "Age", "pattern": "^(a+)+$"}},
    }
    rows = [["C1", "Male", "01/03/2015", "a" * 5000 + "!", ""]]
    data = build_xlsx({"Export": cells_from_rows([seeds.MAPPING_HEADER, *rows])})
    seed = seeds.Seed("export.xlsx", data, seeds.mapping_xlsx().adapter, {"mapping": mapping})
    return _outcome(seed, data)


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    f.__name__: f
    for f in (
        annex_far_cell,
        mapping_far_cell,
        form_far_cell,
        mapping_lying_dimension,
        form_lying_dimension,
        annex_zip_bomb,
        mapping_zip_bomb_lying,
        mapping_catastrophic_pattern,
    )
}


def main() -> None:
    results: dict[str, Any] = {name: case() for name, case in CASES.items()}
    results[PEAK] = peak_mib()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
