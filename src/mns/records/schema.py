"""The canonical Arrow schemas of mns's tables, versioned, and the check that a table meets them.

Tables: ``cases`` (one row per case; fixed columns, then one column per indicator named
``<language>.<code>``), ``services``, ``outcomes``, ``assignments`` and ``issues``.
Category columns are dictionary-encoded strings; plain strings are accepted and converted
by :func:`conform`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from mns.errors import SchemaError
from mns.lang.model import Indicator, Kind, Language

__all__ = [
    "ASSIGNMENTS",
    "CASES",
    "ISSUES",
    "OPTIONAL",
    "OUTCOMES",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "SERVICES",
    "TABLES",
    "cases_schema",
    "check",
    "conform",
    "empty",
    "indicator_field",
    "indicator_type",
]

SCHEMA_VERSION = "1"
CATEGORY = pa.dictionary(pa.int32(), pa.string())


def _schema(name: str, fields: list[pa.Field]) -> pa.Schema:
    return pa.schema(
        fields,
        metadata={b"mns.table": name.encode(), b"mns.schema_version": SCHEMA_VERSION.encode()},
    )


#: Fixed columns of ``cases``; indicator columns follow them.
CASES = _schema(
    "cases",
    [
        pa.field("case_id", pa.string(), nullable=False),
        pa.field("child_id", pa.string()),
        pa.field("reference_date", pa.date32()),
        pa.field("birth_month", pa.date32()),
        pa.field("age", pa.int16()),
        pa.field("sex", CATEGORY),
        pa.field("ethnicity", CATEGORY),
        pa.field("disability", pa.bool_()),
        pa.field("area", CATEGORY),
        pa.field("la", CATEGORY),
        pa.field("cohort", CATEGORY),
        pa.field("agency", CATEGORY),
        pa.field("source_system", CATEGORY),
        pa.field("team", CATEGORY),  # the team (or worker unit) holding the case
    ],
)

SERVICES = _schema(
    "services",
    [
        pa.field("case_id", pa.string(), nullable=False),
        pa.field("child_id", pa.string()),
        pa.field("service", CATEGORY, nullable=False),
        pa.field("detail", CATEGORY),
        pa.field("start_date", pa.date32()),
        pa.field("end_date", pa.date32()),
        pa.field("agency", CATEGORY),
        pa.field("provider", CATEGORY),
    ],
)

OUTCOMES = _schema(
    "outcomes",
    [
        pa.field("case_id", pa.string(), nullable=False),
        pa.field("outcome", CATEGORY, nullable=False),
        pa.field("recorded_on", pa.date32()),
        pa.field("achieved", pa.bool_()),
        pa.field("value", pa.float64()),
        pa.field("detail", pa.string()),
    ],
)

ASSIGNMENTS = _schema(
    "assignments",
    [
        pa.field("case_id", pa.string(), nullable=False),
        pa.field("audit", CATEGORY, nullable=False),
        pa.field("role", CATEGORY, nullable=False),
        pa.field("need_group", CATEGORY),
        pa.field("auditor", CATEGORY),
        pa.field("consensus", pa.bool_()),
        pa.field("notes", pa.string()),
    ],
)

#: Every problem met while reading, located in the user's own file.
ISSUES = _schema(
    "issues",
    [
        pa.field("source", pa.string(), nullable=False),  # the file as the user named it
        pa.field("sheet", pa.string()),  # spreadsheets
        pa.field("row", pa.int64()),  # row number as the user sees it (1 = the header row)
        pa.field("column", pa.string()),  # column letter (spreadsheets) or header name (CSV)
        pa.field("line", pa.int64()),  # XML and JSON Lines
        pa.field("table", pa.string()),  # the mns table the record was meant for
        pa.field("record", pa.string()),  # the record's id when known (case or child id)
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),  # the raw value as read
        pa.field("severity", pa.string(), nullable=False),  # error | warning | note
        pa.field("action", pa.string(), nullable=False),  # rejected | blanked | kept
        pa.field("message", pa.string(), nullable=False),
    ],
)

#: Columns added to a schema after its version came out: nullable, and optional so that a
#: table made before them (a canonical folder written earlier, an adapter's own table) still
#: meets the schema. A table has one when it has something to say in it: :func:`check`
#: checks its type when it is there, :func:`conform` casts it and puts it after the schema's
#: own columns.
OPTIONAL: dict[str, tuple[pa.Field, ...]] = {
    # where in an XML document the problem is: an element path such as
    # /Message/Children/Child[12]/CINdetails[2]/CINreferralDate (local names; [n] counts
    # elements of the same name in the same parent, from 1, as XPath does)
    "issues": (pa.field("path", pa.string()),),
}

SCHEMAS = {
    "cases": CASES,
    "services": SERVICES,
    "outcomes": OUTCOMES,
    "assignments": ASSIGNMENTS,
    "issues": ISSUES,
}
TABLES = tuple(SCHEMAS)


def indicator_type(indicator: Indicator) -> pa.DataType:
    """An indicator's column type: flag -> bool, rating -> int8, category -> dictionary."""
    if indicator.kind is Kind.FLAG:
        return pa.bool_()
    if indicator.kind is Kind.RATING:
        return pa.int8()
    return CATEGORY


def indicator_field(language: Language, indicator: Indicator) -> pa.Field:
    """The ``cases`` column of one indicator, named ``<language>.<code>``."""
    return pa.field(f"{language.name}.{indicator.code}", indicator_type(indicator))


def cases_schema(languages: Iterable[Language] = (), year: int | None = None) -> pa.Schema:
    """The ``cases`` schema with a column per indicator of ``languages`` (valid in ``year``)."""
    from mns.lang.model import valid_in

    extra = [
        indicator_field(lang, ind)
        for lang in languages
        for ind in lang.indicators
        if valid_in(ind, year)
    ]
    return pa.schema([*CASES, *extra], metadata=CASES.metadata)


def empty(name: str) -> pa.Table:
    """An empty table of the canonical schema ``name``."""
    return SCHEMAS[name].empty_table()


def _same_logical(actual: pa.DataType, expected: pa.DataType) -> bool:
    def is_text(t: pa.DataType) -> bool:
        return bool(pa.types.is_string(t) or pa.types.is_large_string(t))

    def is_dict_text(t: pa.DataType) -> bool:
        return bool(pa.types.is_dictionary(t) and is_text(t.value_type))

    if actual == expected:
        return True
    if pa.types.is_dictionary(expected) or pa.types.is_string(expected):
        return is_text(actual) or is_dict_text(actual)
    if pa.types.is_integer(expected):
        return bool(pa.types.is_integer(actual))
    return False


def check(table: pa.Table | pa.Schema, name: str) -> None:
    """Raise :class:`SchemaError` unless ``table`` has every column of the canonical schema
    ``name`` with a compatible type (extra columns are allowed: indicator columns, need_group;
    :data:`OPTIONAL` ones may be absent)."""
    schema = table if isinstance(table, pa.Schema) else table.schema
    expected = SCHEMAS[name]
    optional = {f.name for f in OPTIONAL.get(name, ())}
    problems = []
    for field in [*expected, *OPTIONAL.get(name, ())]:
        if field.name not in schema.names:
            if field.name not in optional:
                problems.append(f"column {field.name!r} is missing")
            continue
        actual = schema.field(field.name).type
        if not _same_logical(actual, field.type):
            problems.append(f"column {field.name!r} is {actual}, expected {field.type}")
    if problems:
        raise SchemaError(
            f"{name} table does not meet schema v{SCHEMA_VERSION}: " + "; ".join(problems),
            item=name,
        )


def conform(table: pa.Table, name: str) -> pa.Table:
    """``table`` with the canonical columns of ``name`` first, in order and cast to their types,
    then the :data:`OPTIONAL` ones it has; canonical columns it lacks are added as nulls,
    extra columns are kept after them."""
    expected = SCHEMAS[name]
    wanted = [
        *expected,
        *(f for f in OPTIONAL.get(name, ()) if f.name in table.column_names),
    ]
    columns, fields = [], []
    for field in wanted:
        if field.name in table.column_names:
            column = table.column(field.name)
            if column.type != field.type:
                column = column.cast(field.type)
        else:
            column = pa.nulls(table.num_rows, field.type)
        columns.append(column)
        fields.append(field)
    known = {f.name for f in wanted}
    for name_ in table.column_names:
        if name_ not in known:
            columns.append(table.column(name_))
            fields.append(table.schema.field(name_))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=expected.metadata))
