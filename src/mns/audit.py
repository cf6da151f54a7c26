"""The whole audit as one function: records and a plan in, every analysis out.

:func:`run_audit` classifies the audited cases with the plan's rules, runs every analysis
(profile, extrapolation, matching, agreement between audit groups, change since a baseline,
need by area, capacity against demand, outcomes, and, with ``mns[lca]``, what the data
suggest), puts each table through disclosure control, and returns an :class:`AuditResult`.
``AuditResult.write(folder)`` writes the published tables (CSV with the official symbols,
and Parquet), the plan and ``report.html``; ``mns audit`` and ``mns demo`` do just that, and
``mns report`` rebuilds the report from such a folder.

Published tables (the folder's files, by name) and the analysis that makes each:

==================  ======================================================================
``profile``         :func:`mns.profile` of the classified cases (need groups, demography,
                    indicators, services received)
``extrapolate``     :func:`mns.extrapolate`: cases a year per need group
``match``           :func:`mns.match`: need groups by services
``capacity``        :func:`mns.capacity`: demand against capacity per service
``agreement``       :func:`mns.agreement` of the audit groups' assignments (professional,
                    shadow, ...) and the plan's rules
``compare``         :func:`mns.compare` with the baseline audit (``baseline=``)
``areas``           :func:`mns.areas` of the year's cases (``referrals=``) per area, and
``areas_by_group``  per area and need group (``population=``)
``outcomes``        :func:`mns.outcomes` (when the records have outcomes)
``issues``          :func:`summarise_issues` of every input's issues
``lca_*``           what the data suggest (``suggest=True``, needs ``mns[lca]``)
==================  ======================================================================

The classified cases are record-level data: they are in ``AuditResult.cases`` for the
caller, and never written by :meth:`AuditResult.write`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import importlib.util
import json
from collections.abc import Callable, Iterable, Mapping, Set as AbstractSet
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mns.errors import MnsError
from mns.plan.model import Plan
from mns.records.bundle import Provenance, Records
from mns.records.model import Audit

__all__ = [
    "AUDIT_FILE",
    "REPORT_FILE",
    "AuditResult",
    "load_result",
    "run_audit",
    "summarise_issues",
]

#: What ``AuditResult.write`` puts beside the tables: how the audit was run.
AUDIT_FILE = "audit.json"
REPORT_FILE = "report.html"
PLAN_FILE = "plan.toml"
_SUPPRESSED_KEY = b"mns.suppressed"
_ISSUE_KEYS = ("source", "table", "field", "severity", "action")
#: Roles of the audit groups compared with each other, in the order they are compared.
ROLES = ("professional", "shadow", "mixed")

TableLike: TypeAlias = "pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]"


# --- issues --------------------------------------------------------------------------------


def summarise_issues(issues: TableLike, *, examples: bool = True) -> pa.Table:
    """The problems met while reading, counted by where and what: one row per (source,
    table, field, severity, action) with ``issues`` (how many) and, with ``examples``,
    ``example`` (the message of the first one, in file order; it may quote a value from the
    records). Sorted by those keys."""
    table = _as_table(issues)
    keys = list(_ISSUE_KEYS)
    fields = [*(pa.field(k, pa.string()) for k in keys), pa.field("issues", pa.int64())]
    if examples:
        fields.append(pa.field("example", pa.string()))
    schema = pa.schema(fields)
    if table.num_rows == 0:
        return schema.empty_table()
    plain = pa.table(
        {
            **{k: pc.fill_null(table.column(k).cast(pa.string()), "") for k in keys},
            "message": table.column("message").cast(pa.string()),
            "order": pa.array(range(table.num_rows), pa.int64()),
        }
    )
    grouped = plain.group_by(keys, use_threads=False).aggregate(
        [("order", "count"), ("order", "min")]
    )
    columns: dict[str, Any] = {k: grouped.column(k) for k in keys}
    columns["issues"] = grouped.column("order_count").cast(pa.int64())
    if examples:
        columns["example"] = pc.take(plain.column("message"), grouped.column("order_min"))
    out = pa.table(columns, schema=schema)
    return out.sort_by([(k, "ascending") for k in keys])


def _as_table(data: TableLike) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    return pa.Table.from_batches(list(data))


# --- the result ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True, eq=False)
class AuditResult:
    """Every analysis of one audit, as computed and as published.

    - ``tables``: each analysis table as computed (small counts included: not for
      publication); ``published``: the same after disclosure control (withheld cells are
      null), or the same tables when disclosure control was switched off;
      ``suppressed``: per published table, the withheld cells as (row, column).
    - ``cases``: the audited cases, classified (record-level: never written out).
    - ``sources``: the provenance of each input (``sample``, ``baseline``, ``referrals``).
    - ``min_count``: the disclosure threshold, ``None`` when switched off.
    """

    title: str
    plan: Plan
    plan_text: str
    cases: pa.Table
    tables: Mapping[str, pa.Table]
    published: Mapping[str, pa.Table]
    suppressed: Mapping[str, frozenset[tuple[int, str]]]
    sources: Mapping[str, Provenance]
    min_count: int | None
    reference_date: dt.date | None = None
    notes: tuple[str, ...] = ()

    @property
    def plan_sha256(self) -> str:
        """The SHA-256 of the plan's TOML text."""
        return hashlib.sha256(self.plan_text.encode("utf-8")).hexdigest()

    def report_input(self) -> Any:
        """What the report shows (a :class:`mns.report.ReportInput`)."""
        from mns import __version__
        from mns.report import ReportInput

        return ReportInput(
            title=self.title,
            plan=self.plan,
            tables=self.published,
            suppressed=self.suppressed,
            sources=self.sources,
            min_count=self.min_count,
            reference_date=self.reference_date.isoformat() if self.reference_date else None,
            notes=self.notes,
            plan_sha256=self.plan_sha256,
            mns_version=__version__,
        )

    def report(self) -> str:
        """The HTML report."""
        from mns.report import render_report

        return str(render_report(self.report_input()))

    def write(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write the published tables (``<name>.csv`` with the symbols ``c``, ``z``, ``:``
        and ``<name>.parquet``), ``plan.toml``, ``audit.json`` and ``report.html`` to
        ``folder``; return the report's path. A folder holding other files is an error
        unless ``overwrite``."""
        import pyarrow.parquet as pq

        from mns.disclosure import Disclosed, to_csv

        path = Path(folder)
        if path.exists() and not path.is_dir():
            raise MnsError(f"{str(path)!r} is a file; give a folder for the audit", file=str(path))
        path.mkdir(parents=True, exist_ok=True)
        present = sorted(p.name for p in path.iterdir() if not p.name.startswith("."))
        if present and not overwrite:
            raise MnsError(
                f"folder {str(path)!r} is not empty ({len(present)} files); choose an empty "
                "folder or pass overwrite=True (--overwrite) to replace an earlier audit there",
                file=str(path),
            )
        for name in present:
            old = path / name
            if old.is_file() and (old.suffix in (".csv", ".parquet") or name in _OWN_FILES):
                old.unlink()
        for name, table in self.published.items():
            withheld = self.suppressed.get(name, frozenset())
            marked = _mark(table, withheld)
            pq.write_table(marked, path / f"{name}.parquet")
            disclosed = Disclosed(
                table=table,
                suppressed=_suppressed_table(withheld, table),
                min_count=self.min_count or 1,
                rounding=None,
                totals=pa.table({"label": [], "key": [], "reason": []}),
            )
            to_csv(disclosed, path / f"{name}.csv")
        (path / PLAN_FILE).write_text(self.plan_text, "utf-8")
        (path / AUDIT_FILE).write_text(_audit_json(self), "utf-8")
        report = path / REPORT_FILE
        report.write_text(self.report(), "utf-8")
        return report


_OWN_FILES = (AUDIT_FILE, REPORT_FILE, PLAN_FILE)


def _mark(table: pa.Table, withheld: frozenset[tuple[int, str]]) -> pa.Table:
    cells = sorted(withheld)
    metadata = {**(table.schema.metadata or {}), _SUPPRESSED_KEY: json.dumps(cells).encode()}
    return table.replace_schema_metadata(metadata)


def _suppressed_table(withheld: frozenset[tuple[int, str]], table: pa.Table) -> pa.Table:
    order = sorted(withheld, key=lambda rc: (rc[0], table.column_names.index(rc[1])))
    return pa.table(
        {
            "row": pa.array([r for r, _ in order], pa.int64()),
            "column": pa.array([c for _, c in order], pa.string()),
            "reason": pa.array(["suppressed"] * len(order), pa.string()),
        }
    )


def _audit_json(result: AuditResult) -> str:
    from mns import __version__
    from mns.records.io import provenance_to_json

    data = {
        "mns_audit": 1,
        "mns_version": __version__,
        "title": result.title,
        "plan": PLAN_FILE,
        "plan_sha256": result.plan_sha256,
        "min_count": result.min_count,
        "reference_date": result.reference_date.isoformat() if result.reference_date else None,
        "notes": list(result.notes),
        "tables": sorted(result.published),
        "sources": {
            role: json.loads(provenance_to_json(prov)) for role, prov in result.sources.items()
        },
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def load_result(folder: str | Path) -> Any:
    """The :class:`mns.report.ReportInput` of an audit folder written by
    :meth:`AuditResult.write` (what ``mns report`` renders)."""
    import pyarrow.parquet as pq

    from mns.plan import load_plan
    from mns.records.io import provenance_from_json
    from mns.report import ReportInput

    path = Path(folder)
    meta_file = path / AUDIT_FILE
    if not meta_file.is_file():
        raise MnsError(
            f"{str(path)!r} is not an audit folder: it has no {AUDIT_FILE} "
            "(write one with mns audit ... --out FOLDER)",
            file=str(path),
        )
    try:
        meta = json.loads(meta_file.read_text("utf-8"))
    except ValueError as exc:
        raise MnsError(f"{meta_file}: not valid JSON: {exc}", file=str(meta_file)) from exc
    if meta.get("mns_audit") != 1:
        raise MnsError(
            f"{meta_file}: not an mns audit file (no 'mns_audit': 1)", file=str(meta_file)
        )
    plan = load_plan(path / str(meta.get("plan", PLAN_FILE)))
    tables: dict[str, pa.Table] = {}
    suppressed: dict[str, frozenset[tuple[int, str]]] = {}
    for name in meta.get("tables", []):
        file = path / f"{name}.parquet"
        if not file.is_file():
            raise MnsError(f"{file}: missing (listed in {AUDIT_FILE})", file=str(file))
        table = pq.read_table(file)
        raw = (table.schema.metadata or {}).get(_SUPPRESSED_KEY, b"[]")
        suppressed[name] = frozenset((int(r), str(c)) for r, c in json.loads(raw))
        tables[name] = table
    sources = {
        role: provenance_from_json(json.dumps(prov), str(meta_file))
        for role, prov in meta.get("sources", {}).items()
    }
    return ReportInput(
        title=str(meta.get("title", "Needs audit")),
        plan=plan,
        tables=tables,
        suppressed=suppressed,
        sources=sources,
        min_count=meta.get("min_count"),
        reference_date=meta.get("reference_date"),
        notes=tuple(meta.get("notes", ())),
        plan_sha256=meta.get("plan_sha256"),
        mns_version=str(meta.get("mns_version", "")),
    )


# --- running the audit ---------------------------------------------------------------------


def _plan(plan: Plan | str | Path) -> tuple[Plan, str]:
    from mns.plan import load_plan
    from mns.plan.load import dump_plan

    if isinstance(plan, Plan):
        return plan, dump_plan(plan)
    path = Path(plan)
    loaded = load_plan(path)
    return loaded, path.read_text("utf-8-sig")


def _sampling(
    sample: int, referrals: Records | None, audit: Audit | None, notes: list[str]
) -> Audit:
    if audit is not None:
        if audit.sampling_fraction is None and not audit.strata:
            notes.append(
                f"The audit {audit.name!r} gives no sampling fraction: annual numbers take the "
                "sample to be the year's cases."
            )
        return audit
    if referrals is not None and referrals.cases.num_rows:
        total = referrals.cases.num_rows
        if sample > total:
            raise MnsError(
                f"the sample has {sample} cases but the year's cases (referrals) only {total}: "
                "give the whole period's cases as referrals",
                item="referrals",
            )
        notes.append(
            f"Annual numbers scale the {sample} audited cases up to the {total:,} cases of the "
            f"year (sampling fraction {sample / total:.3f})."
        )
        return Audit(
            name="audit",
            sample_size=sample,
            population_size=total,
            sampling_fraction=sample / total,
        )
    notes.append(
        "No year's cases (referrals) were given: annual numbers take the audited sample to be "
        "the year's cases."
    )
    return Audit(name="audit", sample_size=sample, population_size=sample, sampling_fraction=1.0)


def _roles(assignments: pa.Table) -> list[str]:
    if assignments.num_rows == 0:
        return []
    present = {str(r) for r in assignments.column("role").cast(pa.string()).to_pylist() if r}
    return [r for r in ROLES if r in present]


def _with_rules(assignments: pa.Table, classified: pa.Table) -> pa.Table:
    """The audit groups' assignments plus the plan's rules as the audit group ``rules``."""
    from mns.records import schema

    audit_names = assignments.column("audit").cast(pa.string()).unique().to_pylist()
    audit_name = str(audit_names[0]) if len(audit_names) == 1 and audit_names[0] else "audit"
    n = classified.num_rows
    rules = pa.table(
        {
            "case_id": classified.column("case_id").cast(pa.string()),
            "audit": pa.array([audit_name] * n, pa.string()),
            "role": pa.array(["rules"] * n, pa.string()),
            "need_group": classified.column("need_group").cast(pa.string()),
        }
    )
    canonical = schema.ASSIGNMENTS
    parts = [
        schema.conform(t, "assignments").select(canonical.names).cast(canonical)
        for t in (assignments, rules)
    ]
    return pa.concat_tables(parts)


def run_audit(  # noqa: PLR0915 - one step per analysis, in order
    records: Records,
    plan: Plan | str | Path,
    *,
    baseline: Records | None = None,
    referrals: Records | None = None,
    population: TableLike | None = None,
    audit: Audit | None = None,
    min_count: int = 5,
    disclose: bool = True,
    suggest: bool = False,
    seed: int = 0,
    title: str | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> AuditResult:
    """Run every analysis of an audit and put each table through disclosure control.

    - ``records``: the audited cases (a sample, or every case of a cohort) with their
      services, outcomes, audit groups' assignments and the issues met reading them.
    - ``plan``: a :class:`~mns.plan.Plan` or a plan file.
    - ``baseline``: an earlier audit's records, for the change since then.
    - ``referrals``: the year's cases the sample was drawn from: the sampling fraction for
      annual numbers, and (with ``population``, a table of ``area`` and ``children``) the
      need by area. ``audit``: an :class:`~mns.records.model.Audit` giving the sampling
      fraction instead.
    - ``min_count``: disclosure control withholds counts below it (and what would reveal
      them); ``disclose=False`` switches it off (the report says so).
    - ``suggest``: add "what the data suggest" (latent class analysis; needs ``mns[lca]``),
      fitted from ``seed``.
    - ``out``: also write the result there (:meth:`AuditResult.write`).
    - ``progress``: called with the name of each step as it starts.

    The result does not depend on today's date, the files' names or their order.
    """
    import mns
    from mns.disclosure import disclose as disclose_table

    if not isinstance(records, Records):
        raise TypeError(
            f"run_audit: records must be mns.Records (from mns.read), not {type(records).__name__}"
        )
    if min_count < 1:
        raise MnsError(
            f"min_count = {min_count}: give a whole number, 1 or more", field="min_count"
        )
    step = progress or (lambda _name: None)
    the_plan, plan_text = _plan(plan)
    notes: list[str] = []
    if records.cases.num_rows == 0:
        raise MnsError("the audit has no cases to analyse", item="cases")

    step("classifying")
    cases = _classify(records.cases, the_plan)
    sampling = _sampling(cases.num_rows, referrals, audit, notes)
    tables: dict[str, pa.Table] = {}

    step("profile")
    has_services = records.services.num_rows > 0
    tables["profile"] = mns.profile(
        cases, plan=the_plan, services=records.services if has_services else None
    )
    step("extrapolate")
    tables["extrapolate"] = mns.extrapolate(cases, plan=the_plan, audit=sampling)
    step("match")
    if has_services:
        tables["match"] = mns.match(cases, records.services, the_plan)
    else:
        notes.append(
            "The records have no services received: needs could not be matched with services."
        )
    step("capacity")
    tables["capacity"] = mns.capacity(cases, the_plan, audit=sampling)
    step("agreement")
    roles = _roles(records.assignments)
    if roles:
        assignments = _with_rules(records.assignments, cases)
        sides = [*roles, "rules"]
        tables["agreement"] = mns.agreement(assignments, sides[0], sides[1], *sides[2:])
    if len(roles) < 2:
        notes.append(
            "Only one audit group's need groups were recorded"
            + (" (compared with the plan's rules)." if roles else ": agreement was not measured.")
        )
    if baseline is not None:
        step("compare")
        before = _classify(baseline.cases, the_plan)
        tables["compare"] = mns.compare(before, cases, plan=the_plan)
    if referrals is not None and population is not None:
        step("areas")
        year = _classify(referrals.cases, the_plan)
        people = _as_table(population)
        tables["areas"] = mns.areas(year, people, by=None)
        tables["areas_by_group"] = mns.areas(year, people, plan=the_plan)
    elif population is not None:
        notes.append(
            "A population table was given without the year's cases (referrals): need by "
            "area was not measured."
        )
    if records.outcomes.num_rows:
        step("outcomes")
        tables["outcomes"] = mns.outcomes(cases, records.outcomes, records.services, plan=the_plan)
    inputs = {"sample": records, "baseline": baseline, "referrals": referrals}
    issues = [r.issues for r in inputs.values() if r is not None and r.issues.num_rows]
    all_issues = pa.concat_tables(issues) if issues else records.issues
    tables["issues"] = summarise_issues(all_issues, examples=not disclose)
    if suggest:
        step("what the data suggest")
        tables.update(_suggest(cases, records.assignments, seed))

    step("disclosure control")
    published: dict[str, pa.Table] = {}
    suppressed: dict[str, frozenset[tuple[int, str]]] = {}
    for name, table in tables.items():
        if not disclose:
            published[name], suppressed[name] = table, frozenset()
            continue
        done = disclose_table(table, min_count, **_structure_for(name, table))
        published[name] = done.table
        suppressed[name] = frozenset(
            zip(
                done.suppressed.column("row").to_pylist(),
                done.suppressed.column("column").to_pylist(),
                strict=True,
            )
        )
    if disclose:
        _link_group_sizes(tables, published, suppressed)
    if not disclose:
        notes.append("Disclosure control was switched off: small counts are shown.")
    sources = {role: r.provenance for role, r in inputs.items() if r is not None}
    result = AuditResult(
        title=title or _title(the_plan, records, sampling),
        plan=the_plan,
        plan_text=plan_text,
        cases=cases,
        tables=tables,
        published=published,
        suppressed=suppressed,
        sources=sources,
        min_count=min_count if disclose else None,
        reference_date=_reference_date(records, sampling),
        notes=tuple(notes),
    )
    if out is not None:
        step("writing")
        result.write(out, overwrite=overwrite)
    return result


#: Where each table shows a need group's size, and the cells that would give it away.
_GROUP_SIZES: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {
    "profile": ("need_group", ("count", "share", "share_low", "share_high"), {"variable": "cases"}),
    "extrapolate": (
        "need_group",
        ("sample", "share", "share_low", "share_high", "estimate", "estimate_low", "estimate_high"),
        {},
    ),
    "compare": (
        "need_group",
        (
            "reaudit",
            "reaudit_share",
            "reaudit_low",
            "reaudit_high",
            "change",
            "change_low",
            "change_high",
            "z",
            "p_value",
        ),
        {},
    ),
    "match": ("need_group", ("cases", "received_share", "unmet_share"), {}),
}
#: Columns that show (about) a group's size on the group's other rows (the profile's
#: denominators: the group's cases with the variable known).
_GROUP_SIZE_OTHER_ROWS: dict[str, tuple[str, ...]] = {"profile": ("base",)}


def _link_group_sizes(
    tables: Mapping[str, pa.Table],
    published: dict[str, pa.Table],
    suppressed: dict[str, frozenset[tuple[int, str]]],
) -> None:
    """Withhold a need group's size in every table that shows it once any table withholds it.

    Each table is protected on its own; a size withheld in one table (e.g. by secondary
    suppression in the profile) must not be published by another (the extrapolated cases a
    year give the sample count back). The union of the groups whose size is withheld
    anywhere is withheld everywhere; when that leaves one group alone, the smallest other
    group is withheld with it, so that the sample's total cannot give it away.
    """
    present = {n: spec for n, spec in _GROUP_SIZES.items() if n in published}
    hidden: set[str] = set()
    sizes: dict[str, int] = {}
    for name, (key, columns, where) in present.items():
        table = tables[name]
        size_column = columns[0]
        for row, record in enumerate(table.select([key, size_column, *where]).to_pylist()):
            if any(record[k] != v for k, v in where.items()):
                continue
            group = str(record[key])
            if name == "profile" and record[size_column] is not None:
                sizes[group] = int(record[size_column])
            if (row, size_column) in suppressed[name]:
                hidden.add(group)
    if len(hidden) == 1 and len(sizes) > 1:
        others = sorted((n, g) for g, n in sizes.items() if g not in hidden and n > 0)
        if others:
            hidden.add(others[0][1])
    if not hidden:
        return
    for name, (key, columns, where) in present.items():
        table = published[name]
        keys = [str(k) for k in table.column(key).to_pylist()]
        filters = {k: table.column(k).to_pylist() for k in where}
        extra = {
            (row, column)
            for row, group in enumerate(keys)
            if group in hidden and all(filters[k][row] == v for k, v in where.items())
            for column in columns
            if column in table.column_names
        } | {
            (row, column)
            for row, group in enumerate(keys)
            if group in hidden and not all(filters[k][row] == v for k, v in where.items())
            for column in _GROUP_SIZE_OTHER_ROWS.get(name, ())
            if column in table.column_names
        }
        if extra <= suppressed[name]:
            continue
        cells = suppressed[name] | extra
        suppressed[name] = frozenset(cells)
        published[name] = _withhold(table, extra)


def _withhold(table: pa.Table, cells: AbstractSet[tuple[int, str]]) -> pa.Table:
    """``table`` with ``cells`` (row, column) set to null."""
    by_column: dict[str, set[int]] = {}
    for row, column in cells:
        by_column.setdefault(column, set()).add(row)
    columns = []
    for field in table.schema:
        rows = by_column.get(field.name)
        if not rows:
            columns.append(table.column(field.name))
            continue
        values = table.column(field.name).to_pylist()
        columns.append(
            pa.array([None if i in rows else v for i, v in enumerate(values)], field.type)
        )
    return pa.Table.from_arrays(columns, schema=table.schema)


def _classify(cases: pa.Table, plan: Plan) -> pa.Table:
    import mns

    classified = mns.classify(cases, plan)
    assert isinstance(classified, pa.Table)
    return classified


def _title(plan: Plan, records: Records, audit: Audit | None) -> str:
    where = audit.locality if audit is not None and audit.locality else ""
    year = records.provenance.collection_year
    parts = ["Needs audit"]
    if where:
        parts.append(where)
    if year:
        parts.append(f"{year - 1}-{str(year)[-2:]}")
    return " ".join(parts[:1]) + (": " + " ".join(parts[1:]) if len(parts) > 1 else "")


def _reference_date(records: Records, audit: Audit | None) -> dt.date | None:
    """The date the audit describes: the records', the audit's period end, or the latest
    reference date of its cases."""
    if records.provenance.reference_date is not None:
        return records.provenance.reference_date
    if audit is not None and audit.period_end is not None:
        return audit.period_end
    latest = pc.max(records.cases.column("reference_date")).as_py()
    return latest if isinstance(latest, dt.date) else None


#: How the tables made here (not by an analysis) add up, for disclosure control.
def _structure_for(name: str, table: pa.Table) -> dict[str, Any]:
    from mns.disclosure import structure_of

    if structure_of(table) is not None:
        return {}
    if name == "issues":
        return {"count": "issues", "rows": list(_ISSUE_KEYS)}
    spec = _LCA_STRUCTURES.get(name)
    if spec is not None:
        return dict(spec)
    raise MnsError(f"run_audit: no disclosure structure for the table {name!r}", item=name)


# --- what the data suggest (mns[lca]) ------------------------------------------------------

_LCA_STRUCTURES: dict[str, dict[str, Any]] = {
    "lca_models": {"count": "smallest_class", "rows": "k"},
    "lca_classes": {"count": "cases", "rows": "class", "derived": {"share": ["cases"]}},
    "lca_indicators": {
        "count": "cases",
        "rows": ["class", "event"],
        "derived": {"prevalence": ["cases"]},
    },
    "lca_rules": {"count": "members", "rows": "class"},
    "lca_need_groups": {
        "count": "agreeing",
        "rows": ["class", "need_group"],
        "derived": {"share_of_class": ["agreeing"], "share_of_group": ["agreeing"]},
    },
}


def lca_available() -> bool:
    """Whether "what the data suggest" can run (the optional extra ``mns[lca]``)."""
    return importlib.util.find_spec("stepmix") is not None


def _suggest(cases: pa.Table, assignments: pa.Table, seed: int) -> dict[str, pa.Table]:
    if not lca_available():
        raise MnsError(
            "what the data suggest needs the optional extra mns[lca]: pip install 'mns[lca]'",
            item="suggest",
        )
    from mns.lca import compare_classes, suggest_groups

    language = _indicator_language(cases)
    result = suggest_groups(cases, indicators=language, k=range(2, 9), seed=seed, n_init=3)
    top = result.indicators.filter(pc.less_equal(result.indicators["rank"], 5))
    out = {
        "lca_models": result.models.select(
            ["k", "bic", "sabic", "entropy", "smallest_class", "recommended", "problems"]
        ),
        "lca_classes": result.classes.select(
            ["class", "cases", "share", "distinguishing", "rule", "precision", "recall"]
        ),
        "lca_indicators": top.select(
            ["class", "rank", "event", "label", "cases", "prevalence", "lift"]
        ),
    }
    roles = _roles(assignments)
    if roles:
        comparison = compare_classes(result, assignments, role=roles[0])
        out["lca_need_groups"] = comparison.matching.select(
            ["class", "need_group", "agreeing", "share_of_class", "share_of_group"]
        )
    return out


def _indicator_language(cases: pa.Table) -> str | None:
    """The language with the most indicator columns in ``cases`` (what the analysis models)."""
    counts: dict[str, int] = {}
    for name in cases.column_names:
        language, dot, _ = name.partition(".")
        if dot and language not in ("threshold", "need_group"):
            counts[language] = counts.get(language, 0) + 1
    return max(sorted(counts), key=lambda k: counts[k]) if counts else None
