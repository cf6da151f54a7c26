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
``capacity``        :func:`mns.capacity`: demand against capacity per service (places, costs)
``budget``          :func:`mns.budget`: the cost of the demand by service, need group and agency
``placements``      :func:`mns.placements`: looked-after children by need group and placement
                    type, places and lengths of stay (when the records have placements)
``agreement``       :func:`mns.agreement` of the audit groups' assignments (professional,
                    shadow, ...) and the plan's rules
``compare``         :func:`mns.compare` with the baseline audit (``baseline=``)
``plan_changes``    :func:`mns.plan_changes`: what changed from the previous plan
                    (``previous_plan=``): the plans' own figures, no count of children
``areas``           :func:`mns.areas` of the year's cases (``referrals=``) per area, and
``areas_by_group``  per area and need group (``population=``)
``outcomes``        :func:`mns.outcomes` (when the records have outcomes), against the plan's
                    targets
``what_works``      :func:`mns.what_works`: outcomes of the children who received each service
                    and of those who did not (an association, not an effect); with a
                    baseline, ``outcomes_change`` (:func:`mns.outcomes_change`) sets the
                    outcomes beside the baseline audit's
``rules_panel``     :func:`mns.rules_vs_panel`: each need group's rule beside the panel
``teams``           :func:`mns.teams`: caseloads by team and need group, and how
                    concentrated each team's work is (when the cases carry a ``team``)
``issues``          :func:`summarise_issues` of every input's issues
``lca_*``           what the data suggest (``suggest=True``, needs ``mns[lca]``)
==================  ======================================================================

Every planning table uses one grouping of the cases (``groups=``, :func:`mns.assign`): by
default the professional panel's decisions when the records hold them, the plan's rules
otherwise; service thresholds always come from the plan's rules. ``audit.json`` records it
(``"groups"``) and the report names it.

Who took part in the audit's groups (``participation=``, :mod:`mns.participation`) is not a
table: ``AuditResult.write`` writes it as ``participation.toml`` and the report's "Who took
part" section shows it.

The classified cases and ``AuditResult.internal`` (``disagreements``: the cases where the
rules and the panel differ, by case id) are record-level data: for the caller and the
planning group, never written by :meth:`AuditResult.write` nor in the published tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import importlib.util
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from mns._tables import TableLike, materialise
from mns.classification import UNASSIGNED, UNKNOWN
from mns.converters import describe_errors, from_metadata, make_json_converter, to_metadata
from mns.disclosure import INTERNAL_NOTE, SAMPLE, Block, Publication, Structure
from mns.errors import MnsError
from mns.grouping import (
    DISPUTED,
    NO_CONSENSUS,
    NOT_AUDITED,
    NOT_PLACED,
    ROLES,
    RULES,
    assign,
    describe as describe_groups,
    summary_of,
)
from mns.participation import (
    PARTICIPATION_FILE,
    Participation,
    dump_participation,
    load_participation,
)
from mns.plan.model import Plan
from mns.records import folder as outputs
from mns.records.bundle import Provenance, Records, publishable
from mns.records.issues import publishable as publishable_issues
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
#: What disclosure control withheld per table (``<WITHHELD_FILE>`` and its CSV twin).
WITHHELD_FILE = "disclosure.parquet"
#: Beside an internal audience's files: the marker no reader of the folder can miss.
INTERNAL_FILE = "INTERNAL - NOT FOR PUBLICATION.txt"
_AUDIENCE_KEY = b"mns.audience"
_SUPPRESSED_KEY = b"mns.suppressed"
_ISSUE_KEYS = ("source", "table", "field", "severity", "action")
#: Rows of the group tables that are no need group: when a small group forces one more group
#: size out, disclosure control withholds these first.
_NO_NEED_GROUP = frozenset({UNASSIGNED, UNKNOWN, NOT_PLACED, NOT_AUDITED, DISPUTED, NO_CONSENSUS})

# --- issues --------------------------------------------------------------------------------


def summarise_issues(issues: TableLike, *, examples: bool = True) -> pa.Table:
    """The problems met while reading, counted by where and what: one row per (source,
    table, field, severity, action) with ``issues`` (how many) and, with ``examples``,
    ``example`` (the message of the first one, in file order; it may quote a value from the
    records). Sorted by those keys."""
    table = materialise(issues, "issues")
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
            # a summary of issues not listed (past the read's limits) counts what it stands for
            "weight": pc.fill_null(table.column("count").cast(pa.int64()), 1)
            if "count" in table.column_names
            else pa.array([1] * table.num_rows, pa.int64()),
        }
    )
    grouped = plain.group_by(keys, use_threads=False).aggregate(
        [("weight", "sum"), ("order", "min")]
    )
    columns: dict[str, Any] = {k: grouped.column(k) for k in keys}
    columns["issues"] = grouped.column("weight_sum").cast(pa.int64())
    if examples:
        columns["example"] = pc.take(plain.column("message"), grouped.column("order_min"))
    out = pa.table(columns, schema=schema)
    return out.sort_by([(k, "ascending") for k in keys])


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
    #: the grouping the planning tables use (:func:`mns.assign`: ``rules``, a role...)
    groups: str = "rules"
    #: whether the annual numbers take the cases to be the whole year's (``census=True``)
    census: bool = False
    #: record-level tables for the planning group only (``disagreements``): never published,
    #: never written, never in the public report
    internal: Mapping[str, pa.Table] = attrs.field(factory=dict)
    #: ``"public"`` (disclosure-controlled) or ``"internal"`` (small numbers shown)
    audience: str = "public"
    #: what disclosure control withheld per published table (``table``, ``cells``,
    #: ``withheld``, ``primary``, ``secondary``, ``derived``); None for the internal audience
    withheld: pa.Table | None = None
    #: who took part in the audit's groups (:mod:`mns.participation`), when recorded
    participation: Participation | None = None

    @property
    def plan_sha256(self) -> str:
        """The SHA-256 of the plan's TOML text."""
        return hashlib.sha256(self.plan_text.encode("utf-8")).hexdigest()

    def report_input(self) -> Any:
        """What the report shows (a :class:`mns.report.ReportInput`)."""
        from mns._version import __version__
        from mns.report import ReportInput

        return ReportInput(
            title=self.title,
            plan=self.plan,
            # the planning group's working copy lists the disagreeing cases; a public one never
            tables={**self.published, **(self.internal if self.audience == "internal" else {})},
            suppressed=self.suppressed,
            sources=self.sources,
            min_count=self.min_count,
            reference_date=self.reference_date.isoformat() if self.reference_date else None,
            notes=self.notes,
            plan_sha256=self.plan_sha256,
            mns_version=__version__,
            groups=describe_groups(self.groups),
            census=self.census,
            audience=self.audience,
            withheld=self.withheld,
            participation=self.participation,
        )

    def report(self) -> str:
        """The HTML report."""
        from mns.report import render_report

        return str(render_report(self.report_input()))

    def write(
        self, folder: str | Path, *, overwrite: bool = False, inputs: Iterable[str | Path] = ()
    ) -> Path:
        """Write the published tables (``<name>.csv`` with the symbols ``c``, ``z``, ``:``
        and ``<name>.parquet``, all of them in ``tables.xlsx``), ``plan.toml``, ``audit.json``
        and ``report.html`` to
        ``folder``, whole or not at all, with ``manifest.mns.json`` (:mod:`mns.records.folder`);
        return the report's path. A folder holding other files is an error unless
        ``overwrite``, which replaces only the files mns wrote there. A folder equal to or
        inside one of ``inputs`` (the records' paths) is refused."""
        import pyarrow.parquet as pq

        from mns.disclosure import Disclosed, to_csv
        from mns.report.workbook import write_tables_workbook

        path = Path(folder)
        if path.exists() and not path.is_dir():
            raise MnsError(f"{str(path)!r} is a file; give a folder for the audit", file=str(path))
        # whole or not at all, with a manifest; overwrite replaces only what mns wrote
        with outputs.writing(path, kind="audit", overwrite=overwrite, inputs=inputs) as staging:
            internal = self.audience == "internal"
            for name, table in self.published.items():
                withheld = self.suppressed.get(name, frozenset())
                marked = _mark(table, withheld, self.audience)
                pq.write_table(marked, staging / f"{name}.parquet")
                disclosed = Disclosed(
                    table=table,
                    suppressed=_suppressed_table(withheld, table),
                    min_count=self.min_count or 1,
                    rounding=None,
                    totals=pa.table({"label": [], "key": [], "reason": []}),
                )
                # the internal copy's CSV files say so in their name: no reader can miss it
                to_csv(disclosed, staging / f"{name}{'.internal' if internal else ''}.csv")
            write_tables_workbook(
                staging,
                title=self.title,
                published=self.published,
                suppressed=self.suppressed,
                audience=self.audience,
                min_count=self.min_count,
            )
            if self.withheld is not None:
                pq.write_table(self.withheld, staging / WITHHELD_FILE)
                to_csv(
                    Disclosed(
                        table=self.withheld,
                        suppressed=_suppressed_table(frozenset(), self.withheld),
                        min_count=self.min_count or 1,
                        rounding=None,
                        totals=pa.table({"label": [], "key": [], "reason": []}),
                    ),
                    staging / Path(WITHHELD_FILE).with_suffix(".csv"),
                )
            if internal:
                (staging / INTERNAL_FILE).write_text(
                    f"{INTERNAL_NOTE[0].upper()}{INTERNAL_NOTE[1:]}.\n\nThe files in this folder "
                    "were written for the planning group (mns audit --audience internal): they "
                    "show every count, however small. Publish only an audit run for the public "
                    "audience (the default).\n",
                    "utf-8",
                )
            (staging / PLAN_FILE).write_text(self.plan_text, "utf-8")
            if self.participation is not None:
                (staging / PARTICIPATION_FILE).write_text(
                    dump_participation(self.participation), "utf-8"
                )
            (staging / AUDIT_FILE).write_text(_audit_json(self), "utf-8")
            (staging / REPORT_FILE).write_text(self.report(), "utf-8")
        return path / REPORT_FILE


def _mark(table: pa.Table, withheld: frozenset[tuple[int, str]], audience: str) -> pa.Table:
    cells = sorted(withheld)
    metadata = {
        **(table.schema.metadata or {}),
        _SUPPRESSED_KEY: to_metadata(cells),
        _AUDIENCE_KEY: (INTERNAL_NOTE if audience == "internal" else "public").encode(),
    }
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


@attrs.frozen(kw_only=True)
class _AuditFile:
    """``audit.json``: what an audit folder holds besides its tables (version 1)."""

    mns_audit: int = 1
    mns_version: str = ""
    title: str = "Needs audit"
    plan: str = PLAN_FILE
    plan_sha256: str | None = None
    min_count: int | None = None
    reference_date: dt.date | None = None
    notes: tuple[str, ...] = ()
    groups: str | None = None
    census: bool | None = None
    audience: str = "public"
    tables: tuple[str, ...] = ()
    sources: Mapping[str, Any] = attrs.field(factory=dict)  #: provenance per role, as written


def _audit_json(result: AuditResult) -> str:
    from mns._version import __version__
    from mns.records.provenance import provenance_to_json

    data = _AuditFile(
        mns_version=__version__,
        title=result.title,
        plan_sha256=result.plan_sha256,
        min_count=result.min_count,
        reference_date=result.reference_date,
        notes=tuple(result.notes),
        groups=result.groups,
        census=result.census,
        audience=result.audience,
        tables=tuple(sorted(result.published)),
        sources={
            role: json.loads(provenance_to_json(prov)) for role, prov in result.sources.items()
        },
    )
    return json.dumps(_JSON.unstructure(data), indent=2, sort_keys=True) + "\n"


def _read_audit_file(file: Path) -> _AuditFile:
    try:
        raw = json.loads(file.read_text("utf-8"))
    except ValueError as exc:
        raise MnsError(f"{file}: not valid JSON: {exc}", file=str(file)) from exc
    if not isinstance(raw, dict) or raw.get("mns_audit") != 1:
        raise MnsError(f"{file}: not an mns audit file (no 'mns_audit': 1)", file=str(file))
    try:
        return _JSON.structure(raw, _AuditFile)
    except Exception as exc:  # cattrs' grouped errors, in the file's own terms
        problems = "; ".join(
            f"{place}: {message}" for place, message in describe_errors(exc, raw, {}, "audit")
        )
        raise MnsError(f"{file}: {problems}", file=str(file)) from None


_JSON = make_json_converter()


def load_result(folder: str | Path) -> Any:
    """The :class:`mns.report.ReportInput` of an audit folder written by
    :meth:`AuditResult.write` (what ``mns report`` renders)."""
    import pyarrow.parquet as pq

    from mns.plan import load_plan
    from mns.records.provenance import provenance_from_json
    from mns.report import ReportInput

    path = Path(folder)
    meta_file = path / AUDIT_FILE
    if not meta_file.is_file():
        raise MnsError(
            f"{str(path)!r} is not an audit folder: it has no {AUDIT_FILE} "
            "(write one with mns audit ... --out FOLDER)",
            file=str(path),
        )
    outputs.check(path, kind="audit")  # written whole, nothing missing or changed since
    meta = _read_audit_file(meta_file)
    plan = load_plan(path / meta.plan)
    tables: dict[str, pa.Table] = {}
    suppressed: dict[str, frozenset[tuple[int, str]]] = {}
    for name in meta.tables:
        file = path / f"{name}.parquet"
        if not file.is_file():
            raise MnsError(f"{file}: missing (listed in {AUDIT_FILE})", file=str(file))
        table = pq.read_table(file)
        raw = (table.schema.metadata or {}).get(_SUPPRESSED_KEY)
        cells = from_metadata(raw, list[tuple[int, str]], _SUPPRESSED_KEY, default=[])
        suppressed[name] = frozenset(cells)
        tables[name] = table
    sources = {
        role: provenance_from_json(json.dumps(prov), str(meta_file))
        for role, prov in meta.sources.items()
    }
    return ReportInput(
        title=meta.title,
        plan=plan,
        tables=tables,
        suppressed=suppressed,
        sources=sources,
        min_count=meta.min_count,
        reference_date=meta.reference_date.isoformat() if meta.reference_date else None,
        notes=meta.notes,
        plan_sha256=meta.plan_sha256,
        mns_version=meta.mns_version,
        groups=describe_groups(meta.groups) if meta.groups else None,
        census=meta.census,
        audience=meta.audience,
        withheld=pq.read_table(path / WITHHELD_FILE) if (path / WITHHELD_FILE).is_file() else None,
        participation=(
            load_participation(path / PARTICIPATION_FILE)
            if (path / PARTICIPATION_FILE).is_file()
            else None
        ),
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


def changes_from(
    previous: Plan | str | Path | None, current: Plan, given: Plan | str | Path
) -> pa.Table | None:
    """The changes from the ``previous`` plan to ``current`` (:func:`mns.plan_changes`; None
    without a previous plan); a ``replaces`` naming no group of the previous plan is an error
    naming the current plan's file (``given``, when it is one)."""
    from mns.analyses.plan_progress import plan_changes
    from mns.errors import PlanError

    if previous is None:
        return None
    if not isinstance(previous, Plan | str | Path):
        raise TypeError(
            "run_audit: previous_plan must be an mns.Plan or the path of a plan file, not "
            f"{type(previous).__name__}"
        )
    earlier = _plan(previous)[0]
    try:
        return plan_changes(earlier, current)
    except PlanError as exc:
        if isinstance(given, Plan):
            raise
        raise PlanError(
            f"{given}: {exc.message}", file=str(given), item=exc.item, field=exc.field
        ) from None


def _sampling(
    sample: int, referrals: Records | None, audit: Audit | None, census: bool, notes: list[str]
) -> Audit:
    if audit is not None:
        if audit.sampling_fraction is None and not audit.strata:
            if not (audit.sample_size and audit.population_size) and not census:
                raise MnsError(
                    f"the audit {audit.name!r} gives no sampling fraction: give its "
                    "sampling_fraction (or sample_size and population_size), the year's cases "
                    "(referrals=), or census=True (mns audit --census) when the audited cases "
                    "are every case of the year",
                    item="audit",
                    field="sampling_fraction",
                )
            if census:
                notes.append("Annual numbers take the audited cases to be the year's (a census).")
                return attrs.evolve(audit, sampling_fraction=1.0)
        return audit
    if referrals is not None and referrals.cases.num_rows:
        if census:
            notes.append(
                "census was asked for, but the year's cases (referrals) give the sampling "
                "fraction: annual numbers use the referrals."
            )
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
    if not census:
        raise MnsError(
            "annual numbers need to know how the audited cases stand for the year's: give the "
            "year's cases (referrals=, mns audit --referrals) or an audit with its sampling "
            "fraction (audit=), or census=True (mns audit --census) when the audited cases are "
            "every case of the year",
            item="referrals",
        )
    notes.append(
        "Annual numbers take the audited cases to be every case of the year (a census, as asked)."
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


def _grouping(groups: str | None, assignments: pa.Table, notes: list[str]) -> str:
    """The grouping asked for, or the default: the professional panel's when it assigned."""
    if groups is not None:
        return groups
    roles = _roles(assignments)
    if "professional" in roles:
        return "professional"
    if roles:
        notes.append(
            "The records hold no professional panel's need groups: the tables use the plan's "
            f"rules (groups={roles[0]!r}, mns audit --groups {roles[0]}, would use the "
            f"{roles[0]} group's)."
        )
    return RULES


def _assign(
    classified: pa.Table,
    assignments: pa.Table,
    grouping: str,
    plan: Plan,
    notes: list[str],
    *,
    what: str = "the records",
) -> pa.Table:
    """The classified cases grouped by ``grouping``, with notes on what it could not place."""
    declared = [g.code for g in plan.need_groups]
    if grouping == RULES:
        return assign(classified, None, RULES)
    if assignments.num_rows == 0:
        raise MnsError(
            f"groups={grouping!r}: {what} hold no audit group's assignments; give "
            "records with assignments, or use groups='rules' (mns audit --groups rules)",
            item="assignments",
        )
    cases = assign(classified, assignments, grouping, declared=declared)
    counts = summary_of(cases.schema)
    said = [
        f"{counts[key]:,} {words}"
        for key, words in (
            ("not_audited", "not audited"),
            ("not_placed", "not placed in a need group"),
            (
                "disputed",
                "disputed (the assignments disagree and no consensus or majority decides)",
            ),
            ("no_consensus", "without a consensus assignment"),
        )
        if counts.get(key)
    ]
    notes.append(
        f"The tables group the cases by {describe_groups(grouping)}"
        + (f"; of {counts['cases']:,} cases, " + ", ".join(said) + "." if said else ".")
    )
    if counts.get("conflicting"):
        notes.append(
            f"{counts['conflicting']:,} cases had disagreeing assignments in that grouping "
            "(resolved by the consensus flag, else a majority, else shown as '(disputed)')."
        )
    if counts.get("undeclared"):
        notes.append(
            "The assignments use need groups the plan does not have: "
            + ", ".join(counts["undeclared"])
            + " (add them to the plan, without a rule if the rules cannot find them)."
        )
    return cases


def _services_period(
    given: tuple[dt.date | None, dt.date | None] | None,
    audit: Audit | None,
    records: Records,
    notes: list[str],
) -> tuple[dt.date | None, dt.date | None] | None:
    """The period a service must overlap to count as received for the audit."""
    if given is not None:
        return None if given == (None, None) else given
    if audit is not None and (audit.period_start or audit.period_end):
        return (audit.period_start, audit.period_end)
    period = _audit_period(records, audit)
    if period is not None:
        return period[:2]
    notes.append(
        "The audit's period is not known (no audit period, no collection year): every service "
        "episode counts as received, whatever its dates."
    )
    return None


def _services_issues(
    cases: pa.Table, records: Records, match: pa.Table, notes: list[str]
) -> pa.Table:
    """Issues for the service records of cases outside the audit (not counted by match)."""
    from mns.analyses.match import OUTSIDE_KEY
    from mns.records.issues import IssueLog

    services = records.services
    ids = cases.column("case_id").cast(pa.string())
    theirs = services.column("case_id").cast(pa.string())
    outside = pc.invert(pc.is_in(theirs, value_set=ids.combine_chunks()))
    log = IssueLog(source="services", table="services")
    for _ in range(int(pc.sum(pc.cast(outside, pa.int64())).as_py() or 0)):
        log.warning(
            "a service episode of a case that is not among the audited cases: not counted "
            "in the match of needs and services",
            action="rejected",
            field="case_id",
        )
    left_out = int((match.schema.metadata or {}).get(OUTSIDE_KEY, b"0"))
    if left_out:
        notes.append(
            f"{left_out:,} service episodes fall outside the audit's period and were not "
            "counted as received."
        )
    return log.table()


def run_audit(  # noqa: PLR0915 - one step per analysis, in order
    records: Records,
    plan: Plan | str | Path,
    *,
    baseline: Records | None = None,
    referrals: Records | None = None,
    population: TableLike | None = None,
    audit: Audit | None = None,
    min_count: int = 5,
    audience: str = "public",
    disclose: bool = True,
    suggest: bool = False,
    seed: int = 0,
    title: str | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
    groups: str | None = None,
    census: bool = False,
    services_period: tuple[dt.date | None, dt.date | None] | None = None,
    participation: Participation | str | Path | None = None,
    previous_plan: Plan | str | Path | None = None,
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
      them), jointly over every published table (:func:`mns.disclose_all`).
    - ``audience``: ``"public"`` (disclosure control) or ``"internal"``: the planning
      group's working copy, nothing withheld, every file and page marked "internal: contains
      small numbers, not for publication" (the CSV files are named ``<name>.internal.csv``).
      ``disclose=False`` is the same as ``audience="internal"``.
    - ``suggest``: add "what the data suggest" (latent class analysis; needs ``mns[lca]``),
      fitted from ``seed``.
    - ``out``: also write the result there (:meth:`AuditResult.write`).
    - ``progress``: called with the name of each step as it starts.
    - ``groups``: the grouping every planning table uses (:func:`mns.assign`): ``"rules"``,
      a role (``"professional"``, ``"shadow"``, ``"mixed"``), ``"consensus"`` or an audit's
      name. Default: ``"professional"`` when the records hold the professional panel's
      assignments, ``"rules"`` otherwise. Thresholds always come from the plan's rules.
    - ``census``: without the year's cases or an audit's sampling fraction, the annual
      numbers (extrapolate, capacity) are an error unless ``census=True`` says the audited
      cases are every case of the year.
    - ``services_period`` (start, end): a service counts as received when its dates overlap
      it. Default: the audit's period (``audit=``), else the collection year of the records
      (1 April to 31 March), else every episode counts (a note says so); ``(None, None)``
      counts every episode.
    - ``participation``: who took part in the audit's groups (a
      :class:`~mns.participation.Participation` or a ``participation.toml`` file), shown in
      the report's "Who took part" section.
    - ``previous_plan``: the plan of the last cycle (a :class:`~mns.plan.Plan` or a plan
      file): ``plan_changes`` (:func:`mns.plan_changes`) lists what changed from it, shown
      beside the change in needs since the baseline in the report's "Progress since the
      last plan".
    - When the cases carry a ``team`` column, ``teams`` counts each team's cases by need
      group and how concentrated its work is (:func:`mns.teams`).

    The result does not depend on today's date, the files' names or their order.
    """
    from mns.analyses import (
        agreement,
        areas,
        budget,
        capacity,
        compare,
        extrapolate,
        match,
        outcomes,
        profile,
    )
    from mns.analyses.placements import has_placements, placements
    from mns.analyses.rules_panel import disagreements, rules_vs_panel
    from mns.analyses.teams import has_teams, teams
    from mns.analyses.weighting import Weighting
    from mns.analyses.what_works import outcomes_change, what_works_from
    from mns.disclosure import AUDIENCES, disclose_all, publication

    if audience not in AUDIENCES:  # before any work
        raise ValueError(f"audience = {audience!r}: give one of {', '.join(AUDIENCES)}")
    if not isinstance(records, Records):
        raise TypeError(
            f"run_audit: records must be mns.Records (from mns.read), not {type(records).__name__}"
        )
    if min_count < 1:
        raise ValueError(f"min_count = {min_count}: give a whole number, 1 or more")
    step = progress or (lambda _name: None)
    the_plan, plan_text = _plan(plan)
    changes = changes_from(previous_plan, the_plan, plan)  # before any work
    if isinstance(participation, str | Path):
        participation = load_participation(participation)
    elif participation is not None and not isinstance(participation, Participation):
        raise TypeError(
            "run_audit: participation must be an mns.participation.Participation or the path "
            f"of a participation.toml file, not {type(participation).__name__}"
        )
    notes: list[str] = []
    if records.cases.num_rows == 0:
        raise MnsError("the audit has no cases to analyse", item="cases")
    records, outside = _within_period(records, audit, notes)

    step("classifying")
    classified = _classify(records.cases, the_plan)
    grouping = _grouping(groups, records.assignments, notes)
    cases = _assign(classified, records.assignments, grouping, the_plan, notes)
    sampling = _sampling(cases.num_rows, referrals, audit, census, notes)
    scale = Weighting.of(sampling)
    tables: dict[str, pa.Table] = {}
    internal: dict[str, pa.Table] = {}
    extra_issues: list[pa.Table] = [outside]

    if changes is not None:
        tables["plan_changes"] = changes
    step("profile")
    has_services = records.services.num_rows > 0
    tables["profile"] = profile(
        cases, plan=the_plan, services=records.services if has_services else None
    )
    step("extrapolate")
    tables["extrapolate"] = extrapolate(cases, plan=the_plan, weighting=scale)
    step("match")
    if has_services:
        period = _services_period(services_period, audit, records, notes)
        tables["match"] = match(cases, records.services, plan=the_plan, period=period)
        extra_issues.append(_services_issues(cases, records, tables["match"], notes))
    else:
        notes.append(
            "The records have no services received: needs could not be matched with services."
        )
    if has_services and has_placements(records.services, the_plan):
        step("placements")
        tables["placements"] = placements(cases, records.services, plan=the_plan, weighting=scale)
    if has_teams(cases):
        step("teams")
        tables["teams"] = teams(cases, plan=the_plan)
    step("capacity")
    tables["capacity"] = capacity(cases, plan=the_plan, weighting=scale)
    step("budget")
    tables["budget"] = budget(cases, plan=the_plan, weighting=scale)
    step("agreement")
    roles = _roles(records.assignments)
    if roles:
        step("rules beside the panel")
        panel = grouping if grouping != RULES else roles[0]
        tables["rules_panel"] = rules_vs_panel(
            classified, records.assignments, plan=the_plan, role=panel
        )
        internal["disagreements"] = disagreements(
            classified, records.assignments, plan=the_plan, role=panel
        )
        assignments = _with_rules(records.assignments, classified)
        sides = [*roles, "rules"]
        tables["agreement"] = agreement(assignments, sides[0], sides[1], *sides[2:])
    if len(roles) == 1:
        notes.append(
            "Only one audit group's need groups were recorded (compared with the plan's rules)."
        )
    elif not roles:
        notes.append(
            "No audit group's need groups were recorded (the records hold no assignments): "
            "agreement was not measured."
        )
    if baseline is not None:
        step("compare")
        before = _assign(
            _classify(baseline.cases, the_plan),
            baseline.assignments,
            grouping,
            the_plan,
            [],
            what="the baseline's records",
        )
        tables["compare"] = compare(before, cases, plan=the_plan)
    if referrals is not None and population is not None:
        step("areas")
        year = _classify(referrals.cases, the_plan)
        if grouping != RULES:  # only the audited cases of the year have the panel's groups
            year = assign(year, records.assignments, grouping)
            notes.append(
                "Need by area and group counts the year's cases the panel audited by its "
                f"groups; the {summary_of(year.schema)['not_audited']:,} it did not audit are "
                "shown as '(not audited)'."
            )
        people = materialise(population, "population")
        tables["areas"] = areas(year, people, by=None)
        tables["areas_by_group"] = areas(year, people, plan=the_plan)
    elif population is not None:
        notes.append(
            "A population table was given without the year's cases (referrals): need by "
            "area was not measured."
        )
    if records.outcomes.num_rows:
        step("outcomes")
        tables["outcomes"] = outcomes(cases, records.outcomes, records.services, plan=the_plan)
        step("what works with whom")
        tables["what_works"] = what_works_from(tables["outcomes"], plan=the_plan)
        if baseline is not None and baseline.outcomes.num_rows:
            earlier = outcomes(before, baseline.outcomes, baseline.services, plan=the_plan)
            tables["outcomes_change"] = outcomes_change(earlier, tables["outcomes"])
    inputs = {"sample": records, "baseline": baseline, "referrals": referrals}
    issues = [r.issues for r in inputs.values() if r is not None and r.issues.num_rows]
    issues += [t for t in extra_issues if t.num_rows]
    # inputs' issues may differ in their optional columns (path, count): promote them
    all_issues = pa.concat_tables(issues, promote_options="default") if issues else records.issues
    if not disclose:
        audience = "internal"
    public = audience == "public"
    tables["issues"] = summarise_issues(publishable_issues(all_issues), examples=not public)
    if suggest:
        step("what the data suggest")
        tables.update(_suggest(cases, records.assignments, seed))

    step("disclosure control")
    declared = {name: publication(name) for name in tables}
    shown = {n: t for n, t in tables.items() if public is False or declared[n].audience == "public"}
    withheld = None
    if public:
        done = disclose_all(
            shown,
            min_count,
            structures={n: declared[n].structure_for(t) for n, t in shown.items()},
            spare={f"{SAMPLE}.need_group": _NO_NEED_GROUP},
        )
        published = {n: d.table for n, d in done.tables.items()}
        suppressed = {n: frozenset(_cells(d.suppressed)) for n, d in done.tables.items()}
        withheld = done.withheld
    else:
        published = dict(shown)
        suppressed = {n: frozenset() for n in shown}
        notes.append("Disclosure control was switched off: small counts are shown.")
    sources = {role: publishable(r.provenance) for role, r in inputs.items() if r is not None}
    result = AuditResult(
        title=title or _title(the_plan, records, sampling),
        plan=the_plan,
        plan_text=plan_text,
        cases=cases,
        tables=tables,
        published=published,
        suppressed=suppressed,
        sources=sources,
        min_count=min_count if public else None,
        audience=audience,
        withheld=withheld,
        reference_date=_reference_date(records, sampling),
        notes=tuple(notes),
        groups=grouping,
        census=sampling.sampling_fraction == 1.0,
        internal=internal,
        participation=participation,
    )
    if out is not None:
        step("writing")
        read_from = [f.name for r in inputs.values() if r is not None for f in r.provenance.files]
        result.write(out, overwrite=overwrite, inputs=read_from)  # never among the inputs
    return result


def _cells(record: pa.Table) -> set[tuple[int, str]]:
    return set(zip(record["row"].to_pylist(), record["column"].to_pylist(), strict=True))


def _classify(cases: pa.Table, plan: Plan) -> pa.Table:
    from mns.classification import classify

    classified = classify(cases, plan)
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
    """The date the audit describes: the caller's (the audit's period end), else the returns'
    own (the reference date their headers give, else the end of their collection year, 31
    March); None when neither says. Never the latest date of a record: one wrongly dated
    referral would move the audit's year."""
    if audit is not None and audit.period_end is not None:
        return audit.period_end
    provenance = records.provenance
    if provenance.reference_date is not None:
        return provenance.reference_date
    if provenance.collection_year:
        return dt.date(provenance.collection_year, 3, 31)
    return None


def _year_to(end: dt.date) -> dt.date:
    """The first day of the year that ends on ``end``."""
    try:
        return end.replace(year=end.year - 1) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        return end.replace(year=end.year - 1, day=28) + dt.timedelta(days=1)


def _audit_period(records: Records, audit: Audit | None) -> tuple[dt.date, dt.date, str] | None:
    """The period whose cases the audit counts, with what set it: the audit's period (a
    missing end from the returns), else the returns' collection year (1 April to 31 March),
    else the year to their reference date; None when nothing says."""
    start = audit.period_start if audit is not None else None
    end = audit.period_end if audit is not None else None
    if start is not None or end is not None:
        end = end or _reference_date(records, None)
        if end is None:
            assert start is not None
            end = _year_to(start.replace(year=start.year + 1)) - dt.timedelta(days=1)
        return start or _year_to(end), end, "the audit's period"
    year = records.provenance.collection_year
    if year:
        return dt.date(year - 1, 4, 1), dt.date(year, 3, 31), f"the collection year {year}"
    end = _reference_date(records, None)
    if end is None:
        return None
    return _year_to(end), end, f"the year to the reference date {end.isoformat()}"


def _within_period(
    records: Records, audit: Audit | None, notes: list[str]
) -> tuple[Records, pa.Table]:
    """The records of the cases whose reference date falls in the audit's period (or is not
    known), and an issue for each case left out: the audit and its annual numbers ("cases a
    year") count the period's cases, not every case a return holds."""
    from mns.records import schema

    cases = records.cases
    issues = schema.empty("issues")
    period = _audit_period(records, audit)
    dates = cases.column("reference_date")
    if period is None:
        earliest, latest = pc.min(dates).as_py(), pc.max(dates).as_py()
        if earliest is not None and latest is not None and (latest - earliest).days > 366:
            notes.append(
                f"The audit's period is not known (no audit period, collection year or "
                f"reference date) and the cases' reference dates run from {earliest:%d %B %Y} "
                f"to {latest:%d %B %Y}: every case counts as one year's."
            )
        return records, issues
    start, end, why = period
    low = pa.scalar(start, pa.date32())
    high = pa.scalar(end, pa.date32())
    before = pc.fill_null(pc.less(dates, low), False)
    after = pc.fill_null(pc.greater(dates, high), False)
    outside = pc.or_(before, after)
    n_out = int(pc.sum(pc.cast(outside, pa.int64())).as_py() or 0)
    if n_out == 0:
        return records, issues
    shown = f"{start:%d %B %Y} to {end:%d %B %Y}"
    if n_out == cases.num_rows:
        raise MnsError(
            f"none of the {n_out:,} cases has a reference date in the audit's period ({shown}, "
            f"{why}): give the audit's period (audit=Audit(period_start=..., period_end=...))",
            item="cases",
            field="reference_date",
        )
    left = cases.filter(outside)
    n_before = int(pc.sum(pc.cast(before, pa.int64())).as_py() or 0)
    notes.append(
        f"{n_out:,} case(s) with a reference date outside the audit's period ({shown}, {why}) "
        f"were left out of the audit and its annual numbers ({n_before:,} before it, "
        f"{n_out - n_before:,} after it); each is listed in the issues."
    )
    n = left.num_rows
    values = left.column("reference_date").cast(pa.string())
    message = (
        f"the reference date is outside the audit's period ({shown}, {why}): the case is "
        "left out of the audit"
    )
    issues = pa.table(
        {
            "source": pa.array(["audit period"] * n, pa.string()),
            "sheet": pa.nulls(n, pa.string()),
            "row": pa.nulls(n, pa.int64()),
            "column": pa.nulls(n, pa.string()),
            "line": pa.nulls(n, pa.int64()),
            "table": pa.array(["cases"] * n, pa.string()),
            "record": left.column("case_id").cast(pa.string()),
            "field": pa.array(["reference_date"] * n, pa.string()),
            "value": values,
            "severity": pa.array(["warning"] * n, pa.string()),
            "action": pa.array(["rejected"] * n, pa.string()),
            "message": pa.array([message] * n, pa.string()),
        },
        schema=schema.ISSUES,
    )
    kept = pc.invert(outside)
    ids = cases.filter(kept).column("case_id").combine_chunks()

    def theirs(table: pa.Table) -> pa.Table:
        if table.num_rows == 0:
            return table
        return table.filter(pc.is_in(table.column("case_id"), value_set=ids))

    within = attrs.evolve(
        records,
        cases=cases.filter(kept),
        services=theirs(records.services),
        outcomes=theirs(records.outcomes),
        assignments=theirs(records.assignments),
    )
    return within, issues


#: What the audit itself publishes (each analysis declares its own tables).
PUBLICATIONS = (
    Publication(
        name="issues",
        title="Problems met while reading the records",
        structure=Structure(blocks=(Block(count="issues", rows=_ISSUE_KEYS),)),
    ),
)


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
    from mns.lca._publish import published_tables

    language = _indicator_language(cases)
    result = suggest_groups(cases, indicators=language, k=range(2, 9), seed=seed, n_init=3)
    roles = _roles(assignments)
    comparison = compare_classes(result, assignments, role=roles[0]) if roles else None
    return published_tables(result, comparison)


def _indicator_language(cases: pa.Table) -> str | None:
    """The language with the most indicator columns in ``cases`` (what the analysis models)."""
    counts: dict[str, int] = {}
    for name in cases.column_names:
        language, dot, _ = name.partition(".")
        if dot and language not in ("threshold", "need_group"):
            counts[language] = counts.get(language, 0) + 1
    return max(sorted(counts), key=lambda k: counts[k]) if counts else None
