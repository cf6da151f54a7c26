"""The audit-form workbook (XLSX): one row per sampled case, one column per indicator.

:func:`write_workbook` writes a workbook for auditors to fill in a spreadsheet program:

- **Cover**: audit name, audit group (professional | shadow | mixed, a drop-down),
  reference date, auditor, language, plan and sample.
- **Sample**: row 1 has the labels, row 2 the field keys the reader goes by, and each case
  has a row from row 3: its case id and known facts pre-filled (grey), one column per
  indicator with a drop-down (yes/no for flags, 0-3 for ratings, the listed values for
  categories) and a prompt giving the indicator's definition; strengths and protective
  factors (``polarity = "strength"``) come in their own sections (their dimensions), headed in
  their own colour, yes meaning present; then the need group the group decides (a drop-down
  of the plan's need groups when a plan is given), whether the group agreed, the services
  received and notes.
- **Guidance**: every column's label, allowed values and definition; the rating scale; the
  plan's need groups and services.
- **Lists** (hidden): the drop-downs' values. **_mns_form** (hidden): the form's layout,
  which :func:`mns.forms.read_workbooks` reads the filled workbook back by.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from mns._tables import TableLike, materialise
from mns.cells import neutralise_workbook
from mns.errors import MnsError
from mns.forms._layout import (
    COVER,
    FIRST_ROW,
    GUIDANCE,
    LISTS,
    MARKER,
    META,
    SAMPLE,
    Field,
    FieldKind,
    clean_text,
    has_illegal,
    meta_rows,
)
from mns.lang import (
    Kind as IndicatorKind,
    Language,
    LanguageSource,
    language as load_language_by_name,
)
from mns.lang.model import Indicator, Polarity, valid_in
from mns.plan import Plan, load_plan
from mns.records.model import SEXES, Audit, Cohort, Role
from mns.sampling import Sample

__all__ = ["FORM_ROLES", "build_workbook", "form_fields", "write_workbook"]


#: The audit groups a form can be for.
FORM_ROLES = (Role.PROFESSIONAL.value, Role.SHADOW.value, Role.MIXED.value)

#: Known facts copied from ``cases`` into the form when the column has any value.
_KNOWN: tuple[tuple[str, str, str], ...] = (
    ("child_id", "Child ID", FieldKind.TEXT),
    ("reference_date", "Reference date", FieldKind.DATE),
    ("birth_month", "Month of birth", FieldKind.DATE),
    ("age", "Age", FieldKind.INT),
    ("sex", "Sex", FieldKind.CATEGORY),
    ("ethnicity", "Ethnicity", FieldKind.TEXT),
    ("disability", "Disabled", FieldKind.FLAG),
    ("area", "Area", FieldKind.TEXT),
    ("la", "Local authority", FieldKind.TEXT),
    ("cohort", "Cohort", FieldKind.CATEGORY),
    ("agency", "Agency", FieldKind.TEXT),
    ("source_system", "Source system", FieldKind.TEXT),
    ("stratum", "Stratum", FieldKind.TEXT),
    ("sample_weight", "Sample weight", FieldKind.FLOAT),
)
_KNOWN_VALUES = {
    "sex": tuple((s, s) for s in SEXES),
    "cohort": tuple((c.value, c.value) for c in Cohort),
}
_FLAG_VALUES = (("true", "yes"), ("false", "no"))
_RATINGS = ("0", "1", "2", "3")

_GREY = PatternFill("solid", fgColor="E7E6E6")
_HEAD = (PatternFill("solid", fgColor="DDEBF7"), PatternFill("solid", fgColor="FCE4D6"))
_GROUP = PatternFill("solid", fgColor="E2EFDA")
_STRENGTH = PatternFill("solid", fgColor="FFF2CC")  #: strengths' headers: their own colour
_KEY_FONT = Font(italic=True, color="808080", size=8)
_BOLD = Font(bold=True)
_DATE_FORMAT = "yyyy-mm-dd"


def _language(language: LanguageSource) -> Language:
    return load_language_by_name(language)


def _plan(plan: Plan | str | Path | None) -> Plan | None:
    if plan is None or isinstance(plan, Plan):
        return plan
    return load_plan(plan)


def _role(role: Role | str) -> str:
    value = role.value if isinstance(role, Role) else str(role)
    if value not in FORM_ROLES:
        raise MnsError(
            f"audit form: audit group {value!r} is not one of {', '.join(FORM_ROLES)}",
            field="role",
        )
    return value


def _displays(indicator: Indicator) -> tuple[tuple[str, str], ...]:
    """(code, what the drop-down shows) for a category indicator: the labels when they are
    unique and cannot be mistaken for another value's code, else ``label [code]``."""
    codes = {v.code for v in indicator.values}
    labels = [clean_text(v.label).strip() for v in indicator.values]
    folded = [label.casefold() for label in labels]
    plain = all(labels) and len(set(folded)) == len(folded)
    plain = plain and all(
        label not in codes or label == v.code
        for label, v in zip(labels, indicator.values, strict=True)
    )
    if plain:
        return tuple((v.code, label) for v, label in zip(indicator.values, labels, strict=True))
    return tuple(
        (v.code, f"{label} [{v.code}]" if label else v.code)
        for v, label in zip(indicator.values, labels, strict=True)
    )


#: What a strength's prompt adds after its definition.
_STRENGTH_PROMPT = "A strength or protective factor: yes when present."


def _rating_prompt(language: Language) -> str:
    return "; ".join(f"{i} {clean_text(label)}" for i, label in enumerate(language.rating_labels))


def _indicator_field(
    language: Language, indicator: Indicator, required: bool, section: str
) -> Field:
    kind = {
        IndicatorKind.FLAG: FieldKind.FLAG,
        IndicatorKind.RATING: FieldKind.RATING,
        IndicatorKind.CATEGORY: FieldKind.CATEGORY,
    }[indicator.kind]
    values: tuple[tuple[str, str], ...]
    if kind == FieldKind.FLAG:
        values = _FLAG_VALUES
    elif kind == FieldKind.RATING:
        values = tuple((r, r) for r in _RATINGS)
    else:
        values = _displays(indicator)
    prompt = clean_text(indicator.definition).strip()
    if kind == FieldKind.RATING:
        prompt = f"{prompt} {_rating_prompt(language)}".strip()
    strength = indicator.polarity is Polarity.STRENGTH
    if strength:
        prompt = f"{prompt} {_STRENGTH_PROMPT}".strip()
    return Field(
        key=f"{language.name}.{indicator.code}",
        label=clean_text(indicator.label).strip() or indicator.code,
        kind=kind,
        table="cases",
        required=required,
        values=values,
        prompt=prompt,
        section=section,
        strength=strength,
    )


def _has_values(table: pa.Table, name: str) -> bool:
    return name in table.column_names and table.column(name).null_count < table.num_rows


def form_fields(
    cases: pa.Table,
    language: Language,
    plan: Plan | None = None,
    *,
    indicators: Sequence[str] | None = None,
    year: int | None = None,
    required: Iterable[str] | None = None,
) -> tuple[Field, ...]:
    """The columns of the Sample sheet for ``cases``, in order."""
    chosen = _chosen_indicators(language, indicators, year)
    keys = {f"{language.name}.{i.code}" for i in chosen}
    extras = ("need_group", "consensus", "services", "notes")
    if required is None:
        needed = {*keys, "need_group"}
    else:
        needed = set()
        for name in required:
            key = name if name in extras or name in keys else f"{language.name}.{name}"
            if key not in keys and key not in extras:
                raise MnsError(
                    f"audit form: required field {name!r} is not a column of this form; use "
                    f"{', '.join(map(repr, extras))} or an indicator of language {language.name!r}",
                    field="required",
                    item=name,
                )
            needed.add(key)
    fields = [
        Field(
            key="case_id",
            label="Case ID",
            kind=FieldKind.ID,
            table="cases",
            required=True,
            prefilled=True,
        )
    ]
    for key, label, kind in _KNOWN:
        if _has_values(cases, key):
            fields.append(
                Field(
                    key=key,
                    label=label,
                    kind=kind,
                    table="cases",
                    prefilled=True,
                    values=_FLAG_VALUES if kind == FieldKind.FLAG else _KNOWN_VALUES.get(key, ()),
                )
            )
    dimension_labels = {d.code: clean_text(d.label).strip() or d.code for d in language.dimensions}
    for ind in chosen:
        key = f"{language.name}.{ind.code}"
        field = _indicator_field(language, ind, key in needed, dimension_labels[ind.dimension])
        fields.append(field)
    if plan is not None and plan.need_groups:
        groups = tuple(
            (g.code, f"{g.code}: {clean_text(g.name).strip()}") for g in plan.need_groups
        )
        prompt = "The need group the audit group decides for this case."
        fields.append(
            Field(
                key="need_group",
                label="Need group",
                kind=FieldKind.CATEGORY,
                table="assignments",
                required="need_group" in needed,
                values=groups,
                prompt=prompt,
            )
        )
    else:
        fields.append(
            Field(
                key="need_group",
                label="Need group",
                kind=FieldKind.TEXT,
                table="assignments",
                required="need_group" in needed,
                prompt="The need group the audit group decides for this case (its code).",
            )
        )
    services = tuple((s.code, clean_text(s.name).strip()) for s in plan.services) if plan else ()
    fields += [
        Field(
            key="consensus",
            label="Group agreed?",
            kind=FieldKind.FLAG,
            table="assignments",
            required="consensus" in needed,
            values=_FLAG_VALUES,
            prompt="yes: the whole group agreed on the need group; no: it was a majority view.",
        ),
        Field(
            key="services",
            label="Services received",
            kind=FieldKind.SERVICES,
            table="services",
            required="services" in needed,
            values=services,
            prompt="The services the case received, as codes separated by ';' (see Guidance).",
        ),
        Field(
            key="notes",
            label="Notes",
            kind=FieldKind.TEXT,
            table="assignments",
            required="notes" in needed,
            prompt="Anything the group wants to record about this case.",
        ),
    ]
    return tuple(fields)


def _chosen_indicators(
    language: Language, indicators: Sequence[str] | None, year: int | None
) -> list[Indicator]:
    if indicators is None:
        return [i for i in language.indicators if valid_in(i, year)]
    chosen = []
    for code in indicators:
        bare = code.removeprefix(f"{language.name}.")
        chosen.append(language.indicator(bare))
    return chosen


def _cell_value(field: Field, value: Any, case_id: str) -> Any:
    """What to write in a cell for ``value`` of ``field``; raises on values the form cannot hold."""
    if value is None:
        return None
    where = f"case {case_id!r}, field {field.key!r}"
    if field.kind == FieldKind.FLAG:
        if not isinstance(value, bool):
            raise MnsError(
                f"audit form: {where}: {value!r} is not true or false",
                item=case_id,
                field=field.key,
            )
        return "yes" if value else "no"
    if field.kind == FieldKind.RATING:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
            raise MnsError(
                f"audit form: {where}: {value!r} is not a 0-3 rating", item=case_id, field=field.key
            )
        return int(value)
    if field.kind == FieldKind.CATEGORY:
        for code, display in field.values:
            if code == str(value):
                return display
        allowed = ", ".join(code for code, _ in field.values)
        raise MnsError(
            f"audit form: {where}: {value!r} is not one of the allowed values ({allowed})",
            item=case_id,
            field=field.key,
        )
    if field.kind == FieldKind.DATE:
        return value
    if isinstance(value, str) and has_illegal(value):
        raise MnsError(
            f"audit form: {where}: {value!r} has control characters a spreadsheet cannot hold; "
            "remove them from the records first",
            item=case_id,
            field=field.key,
        )
    return value


def _as_table(cases: TableLike | Sample) -> tuple[pa.Table, Audit | None]:
    if isinstance(cases, Sample):
        return cases.cases, cases.audit
    return materialise(cases, "audit form"), None


def _check_cases(table: pa.Table) -> list[str]:
    if "case_id" not in table.column_names:
        raise MnsError("audit form: the cases have no 'case_id' column", field="case_id")
    if table.num_rows == 0:
        raise MnsError("audit form: there are no cases to put in the form; draw a sample first")
    ids = table.column("case_id").cast(pa.string()).to_pylist()
    seen: set[str] = set()
    for row, case_id in enumerate(ids, start=1):
        if case_id is None or not str(case_id).strip():
            raise MnsError(
                f"audit form: case {row} (counting from 1) has no case_id", field="case_id"
            )
        if case_id in seen:
            raise MnsError(
                f"audit form: case_id {case_id!r} occurs twice", field="case_id", item=case_id
            )
        seen.add(case_id)
    return [str(i) for i in ids]


def _column_values(table: pa.Table, key: str) -> list[Any]:
    column = table.column(key)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    values: list[Any] = column.to_pylist()
    return values


def _list_columns(fields: Sequence[Field]) -> tuple[list[Field], dict[str, str]]:
    """Each distinct drop-down list gets a column of the Lists sheet: the fields whose lists
    are written (one per column), and the range formula for every field key with a list."""
    columns: list[Field] = []
    ranges: dict[tuple[str, ...], str] = {}
    by_key: dict[str, str] = {}
    for field in fields:
        if not field.values or field.kind == FieldKind.SERVICES:
            continue
        if field.displays not in ranges:
            columns.append(field)
            column = get_column_letter(len(columns))
            last = len(field.values) + 1
            ranges[field.displays] = f"{quote_sheetname(LISTS)}!${column}$2:${column}${last}"
        by_key[field.key] = ranges[field.displays]
    return columns, by_key


def _lists_sheet(wb: Workbook, columns: Sequence[Field]) -> None:
    ws = wb.create_sheet(LISTS)
    ws.sheet_state = "hidden"
    for number, field in enumerate(columns, start=1):
        ws.cell(row=1, column=number, value=field.key)
        for row, display in enumerate(field.displays, start=2):
            ws.cell(
                row=row,
                column=number,
                value=int(display) if field.kind == FieldKind.RATING else display,
            )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sample_sheet(
    wb: Workbook,
    fields: Sequence[Field],
    table: pa.Table,
    ids: Sequence[str],
    ranges: Mapping[str, str],
) -> None:
    ws = wb.create_sheet(SAMPLE)
    last_row = FIRST_ROW + len(ids) - 1
    sections: list[str] = []
    for number, field in enumerate(fields, start=1):
        column = get_column_letter(number)
        head = ws.cell(row=1, column=number, value=field.label + (" *" if field.required else ""))
        head.font = _BOLD
        head.alignment = Alignment(wrap_text=True, vertical="top")
        if field.section:
            if field.section not in sections:
                sections.append(field.section)
            head.fill = _STRENGTH if field.strength else _HEAD[(len(sections) - 1) % 2]
        elif field.prefilled:
            head.fill = _GREY
        elif field.table != "cases":
            head.fill = _GROUP
        key = ws.cell(row=2, column=number, value=field.key)
        key.font = _KEY_FONT
        ws.column_dimensions[column].width = 40 if field.key == "notes" else 14
        values = _column_values(table, field.key) if field.key in table.column_names else None
        if values is not None:
            for offset, (case_id, value) in enumerate(zip(ids, values, strict=True)):
                cell = ws.cell(row=FIRST_ROW + offset, column=number)
                cell.value = (
                    case_id if field.key == "case_id" else _cell_value(field, value, case_id)
                )
                if field.kind == FieldKind.DATE:
                    cell.number_format = _DATE_FORMAT
                if field.prefilled:
                    cell.fill = _GREY
        if field.key in ranges:
            dv = DataValidation(
                type="list",
                formula1=ranges[field.key],
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="stop",
                errorTitle="Not on the list",
                error=_short(f"{field.label}: choose one of the drop-down's values.", 225),
                showInputMessage=bool(field.prompt),
                promptTitle=_short(field.label, 32),
                prompt=_short(field.prompt, 255) if field.prompt else None,
            )
            dv.add(f"{column}{FIRST_ROW}:{column}{last_row}")
            ws.add_data_validation(dv)
    ws.row_dimensions[1].height = 75
    ws.freeze_panes = ws["B3"]


def _cover_sheet(
    ws: Worksheet,
    *,
    audit: Audit,
    role: str,
    reference_date: dt.date | None,
    auditor: str | None,
    language: Language,
    plan: Plan | None,
    cases: int,
) -> dict[str, str]:
    ws.title = COVER
    ws["A1"] = "Matching Needs and Services: audit form"
    ws["A1"].font = Font(bold=True, size=14)
    rows: list[tuple[str, str, Any]] = [
        ("audit", "Audit", audit.name),
        ("role", "Audit group (professional, shadow or mixed)", role),
        ("reference_date", "Reference date", reference_date),
        ("auditor", "Auditor(s)", auditor),
    ]
    cells: dict[str, str] = {}
    for offset, (key, label, value) in enumerate(rows):
        row = 3 + offset
        ws.cell(row=row, column=1, value=label).font = _BOLD
        cell = ws.cell(
            row=row, column=2, value=clean_text(value) if isinstance(value, str) else value
        )
        if key == "reference_date":
            cell.number_format = _DATE_FORMAT
        cells[key] = f"B{row}"
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(FORM_ROLES) + '"',
        allow_blank=False,
        showErrorMessage=True,
        errorTitle="Audit group",
        error="Choose professional, shadow or mixed.",
    )
    dv.add(cells["role"])
    ws.add_data_validation(dv)
    info: list[tuple[str, str]] = [
        (
            "Language",
            clean_text(f"{language.name} {language.version}: {language.title}".strip(": ")),
        ),
        ("Plan", clean_text(plan.name) if plan else "(none: write need-group codes)"),
        ("Cases", str(cases)),
    ]
    if audit.population_size:
        fraction = (audit.sampling_fraction or 0) * 100
        sampled = f"{audit.sample_size} of {audit.population_size} cases ({fraction:.1f}%)"
        if audit.strata:
            sampled += f", in {len(audit.strata)} strata"
        info.append(("Sample", sampled))
    if audit.sample_frame:
        info.append(("Sample frame", clean_text(audit.sample_frame)))
    for offset, (label, value) in enumerate(info):
        row = 8 + offset
        ws.cell(row=row, column=1, value=label).font = _BOLD
        ws.cell(row=row, column=2, value=value)
    note = 9 + len(info)
    ws.cell(
        row=note,
        column=1,
        value=(
            "Fill one row of the Sample sheet per case: choose from the drop-downs, leave grey "
            "cells as they are, and keep row 2 (the field keys) unchanged. Columns marked * are "
            "required. The Guidance sheet defines every column."
        ),
    ).alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=note, start_column=1, end_row=note, end_column=2)
    ws.row_dimensions[note].height = 60
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 60
    return cells


def _allowed_text(field: Field) -> str:
    if field.kind == FieldKind.SERVICES:
        codes = "; ".join(f"{code} = {name}" for code, name in field.values)
        return "service codes separated by ';'" + (f": {codes}" if codes else "")
    if field.kind == FieldKind.CATEGORY and field.values:
        return "; ".join(
            display
            if display == code or display.endswith(f"[{code}]") or display.startswith(f"{code}:")
            else f"{display} ({code})"
            for code, display in field.values
        )
    if field.strength:
        return " / ".join(field.displays) + " (yes: the strength is present)"
    if field.values:
        return " / ".join(field.displays)
    return {
        FieldKind.DATE: "a date",
        FieldKind.INT: "a whole number",
        FieldKind.FLOAT: "a number",
    }.get(field.kind, "text")


def _guidance_sheet(
    wb: Workbook, fields: Sequence[Field], language: Language, plan: Plan | None
) -> None:
    ws = wb.create_sheet(GUIDANCE)
    ws["A1"] = "Guidance: what every column of the Sample sheet means"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A3"] = "Ratings (0-3)"
    ws["A3"].font = _BOLD
    row = 4
    for rating, label in enumerate(language.rating_labels):
        ws.cell(row=row, column=1, value=rating)
        ws.cell(row=row, column=2, value=clean_text(label))
        row += 1
    row += 1
    headers = (
        "Column",
        "Field key",
        "Section",
        "Label",
        "Required",
        "Allowed values",
        "Definition",
    )
    for number, title in enumerate(headers, start=1):
        ws.cell(row=row, column=number, value=title).font = _BOLD
    definitions = {
        f"{language.name}.{i.code}": clean_text(i.definition) for i in language.indicators
    }
    for number, field in enumerate(fields, start=1):
        row += 1
        definition = definitions.get(field.key) or field.prompt
        cells = (
            get_column_letter(number),
            field.key,
            field.section,
            field.label,
            "yes" if field.required else "",
            _allowed_text(field),
            definition,
        )
        for position, value in enumerate(cells, start=1):
            ws.cell(row=row, column=position, value=value).alignment = Alignment(
                wrap_text=True, vertical="top"
            )
    if plan is not None and plan.need_groups:
        row += 2
        ws.cell(row=row, column=1, value="Need groups").font = _BOLD
        for group in plan.need_groups:
            row += 1
            ws.cell(row=row, column=1, value=group.code)
            ws.cell(row=row, column=4, value=clean_text(group.name))
            ws.cell(row=row, column=7, value=clean_text(group.description))
    for letter, width in zip("ABCDEFG", (8, 28, 22, 36, 9, 40, 60), strict=True):
        ws.column_dimensions[letter].width = width


def build_workbook(
    cases: TableLike | Sample,
    *,
    language: LanguageSource = "mns",
    plan: Plan | str | Path | None = None,
    audit: str | Audit | None = None,
    role: Role | str = Role.PROFESSIONAL,
    reference_date: dt.date | None = None,
    auditor: str | None = None,
    indicators: Sequence[str] | None = None,
    year: int | None = None,
    required: Iterable[str] | None = None,
) -> Workbook:
    """The audit-form workbook as an openpyxl ``Workbook`` (see :func:`write_workbook`)."""
    table, sampled = _as_table(cases)
    ids = _check_cases(table)
    lang = _language(language)
    the_plan = _plan(plan)
    role_value = _role(role)
    if isinstance(audit, Audit):
        the_audit = audit
    elif audit is not None:
        the_audit = sampled if sampled is not None and sampled.name == audit else Audit(name=audit)
    else:
        the_audit = sampled if sampled is not None else Audit(name="audit")
    if reference_date is None:
        reference_date = the_audit.period_end
    fields = form_fields(table, lang, the_plan, indicators=indicators, year=year, required=required)

    wb = Workbook()
    wb.properties.title = f"mns audit form: {clean_text(the_audit.name)}"
    wb.properties.keywords = MARKER
    wb.properties.creator = "mns"
    first = wb.active
    assert isinstance(first, Worksheet)
    cover = _cover_sheet(
        first,
        audit=the_audit,
        role=role_value,
        reference_date=reference_date,
        auditor=auditor,
        language=lang,
        plan=the_plan,
        cases=len(ids),
    )
    list_columns, ranges = _list_columns(fields)
    _sample_sheet(wb, fields, table, ids, ranges)
    _guidance_sheet(wb, fields, lang, the_plan)
    _lists_sheet(wb, list_columns)
    meta = wb.create_sheet(META)
    meta.sheet_state = "hidden"
    settings = [
        ("language", lang.name),
        ("language_version", lang.version),
        ("plan", the_plan.name if the_plan else ""),
        ("audit", the_audit.name),
    ]
    for row in meta_rows(fields, settings, cover.items()):
        meta.append([clean_text(v) if isinstance(v, str) else v for v in row])
    wb.active = 0
    return neutralise_workbook(wb)  # case ids, names and codes are text, never formulas


def write_workbook(
    path: str | Path,
    cases: TableLike | Sample,
    *,
    language: LanguageSource = "mns",
    plan: Plan | str | Path | None = None,
    audit: str | Audit | None = None,
    role: Role | str = Role.PROFESSIONAL,
    reference_date: dt.date | None = None,
    auditor: str | None = None,
    indicators: Sequence[str] | None = None,
    year: int | None = None,
    required: Iterable[str] | None = None,
) -> Path:
    """Write the audit-form workbook for ``cases`` (a table or a :class:`~mns.sampling.Sample`)
    to ``path`` (``.xlsx``) and return the path.

    ``language`` is a shipped language's name, a language file or a
    :class:`~mns.lang.Language`; ``plan`` (a :class:`~mns.plan.Plan` or a plan file) gives the
    need-group drop-down and the service codes. ``audit`` names the audit (default: the
    sample's audit); ``role`` is the audit group (``"professional"``, ``"shadow"`` or
    ``"mixed"``); ``reference_date`` defaults to the audit's ``period_end``. ``indicators``
    picks a subset of the language's indicators (default: all, or those valid in ``year``).
    ``required`` lists the fields that must be filled (default: every indicator and
    ``need_group``); a blank required cell is reported when the form is read back.
    Raises :class:`~mns.errors.MnsError` if a case has no id, an id repeats, or a known value
    cannot go in the form.
    """
    wb = build_workbook(
        cases,
        language=language,
        plan=plan,
        audit=audit,
        role=role,
        reference_date=reference_date,
        auditor=auditor,
        indicators=indicators,
        year=year,
        required=required,
    )
    from mns.records.folder import replacing

    target = Path(path)
    with replacing(target) as temporary:
        wb.save(temporary)
    return target
