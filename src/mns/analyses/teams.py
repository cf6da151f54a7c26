"""``teams``: teams around need groups: each team's caseload by need group, and how
concentrated each team's work is.

The method asks whether services are organised around the needs of children: whether
teams could be built around need groups, so that each team works with children whose
needs are alike. Where the records carry a team (or worker unit) column, this analysis
counts each team's audited cases by need group and measures how concentrated its work is:

- the **share of the team's cases in its largest need group**, the plainest measure: a
  team whose largest group holds 0.8 of its cases is already organised around that group;
- the **Herfindahl-Hirschman index** over the team's need groups, the sum of the squared
  shares (from ``1 / groups`` when its cases are spread evenly over them to 1 when they
  are all in one), and its inverse, the **effective number of need groups** (the number of
  equally sized groups that would give the same index). The index uses every group, not
  just the largest, so it tells a team split between two groups from one spread over six.

These measures are mns's own addition, not part of the MN&S method's sources.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mns import engines
from mns._tables import TableLike, require
from mns.aggregate import Measure, Spec
from mns.analyses import _common as common
from mns.analyses.crosstab import grid
from mns.classification import UNASSIGNED, UNKNOWN
from mns.disclosure import SAMPLE, SAMPLE_TOTAL, Block, Margin, Publication, Structure
from mns.grouping import DISPUTED, NO_CONSENSUS, NOT_AUDITED, NOT_PLACED
from mns.plan.model import Plan

__all__ = ["NOT_RECORDED", "NO_NEED_GROUP", "TEAM", "has_teams", "teams"]

#: The ``cases`` column naming each case's team (or worker unit).
TEAM: Final = "team"
#: What the table shows for cases whose team (or need group) is not recorded.
NOT_RECORDED: Final = "(not recorded)"
#: Levels of the grouping that are no need group: left out of the concentration measures.
NO_NEED_GROUP: Final = frozenset(
    {UNASSIGNED, UNKNOWN, NOT_PLACED, NOT_AUDITED, DISPUTED, NO_CONSENSUS, NOT_RECORDED}
)
_CONCENTRATION: Final = (
    "grouped",
    "largest_group",
    "largest_cases",
    "largest_share",
    "hhi",
    "effective_groups",
)


def has_teams(cases: TableLike, team: str = TEAM) -> bool:
    """Whether ``cases`` (a Table) names a team for some case."""
    if not isinstance(cases, pa.Table) or team not in cases.column_names:
        return False
    return bool(cases.column(team).null_count < cases.num_rows)


def teams(
    cases: TableLike,
    by: str = "need_group",
    *,
    plan: Plan | None = None,
    team: str = TEAM,
    engine: Any = None,
) -> pa.Table:
    """Each team's audited cases by need group, and how concentrated its work is.

    Cases whose team is not recorded are counted as the team ``(not recorded)`` (so every
    need group's column adds up to its audited cases); a null ``<by>`` is counted as the
    group ``(not recorded)``. Every need group is listed for every team (with ``plan``,
    every need group of the plan, zeros included).

    One row per team and need group, then one per team for all its groups (``<by>`` null),
    sorted by ``team``, ``<by>`` (the team's own row last):

    - ``team``, ``<by>`` (string).
    - ``cases`` (int64): the team's cases in the group (on the team's row: all its cases).
    - ``team_share`` (float64): the share of the team's cases in the group (null on the
      team's row); ``group_share`` (float64): the share of the group's cases that the team
      holds.
    - On the team's row only, the concentration measures, over the need groups (the rows
      that are no need group, :data:`NO_NEED_GROUP`, such as ``(not placed)`` or
      ``unassigned``, are left out): ``grouped`` (int64): the team's cases in a need group,
      the measures' base; ``largest_group`` (string), ``largest_cases`` (int64) and
      ``largest_share`` (float64): the need group with most of the team's cases (the first
      in order on a tie), its cases and their share of ``grouped``; ``hhi`` (float64): the
      Herfindahl-Hirschman index, the sum over need groups of the squared shares of
      ``grouped``; ``effective_groups`` (float64): ``1 / hhi``.

    Disclosure control withholds a team's concentration wherever one of its counts is
    withheld (it is computed from all of them). The measures are mns's own addition, not
    part of the MN&S method's sources (see the module's note).
    """
    schema, cases = common.peek(cases, "cases")
    require(
        schema.names,
        [team, by],
        "cases",
        f"the records carry no {team!r} column: map the team (or worker unit) of each case "
        "to it when reading, or name another column in team=",
    )
    if team == by:
        raise ValueError(f"teams: team and by are both {team!r}; name two different columns")
    spec = Spec(keys=(team, by), measures=(Measure("count", "count"),))
    state = engines.run({"x": spec}, cases, columns=[team, by], what="cases", engine=engine)["x"]
    state = state.set_column(
        state.schema.get_field_index(team),
        team,
        pc.fill_null(common.as_text(state.column(team)), NOT_RECORDED),
    ).set_column(
        state.schema.get_field_index(by),
        by,
        pc.fill_null(common.as_text(state.column(by)), NOT_RECORDED),
    )
    declared = common.levels(plan, by, schema)
    team_values, groups, matrix = grid(state, team, by, "count", col_levels=declared)
    return _table(team_values, groups, matrix, by)


def _table(
    team_values: list[Any], groups: list[Any], matrix: np.ndarray[Any, Any], by: str
) -> pa.Table:
    out: dict[str, list[Any]] = {
        k: [] for k in ("team", by, "cases", "team_share", "group_share", *_CONCENTRATION)
    }
    group_totals = matrix.sum(axis=0)
    for i, name in enumerate(team_values):
        row = matrix[i]
        total = int(row.sum())
        for j, group in enumerate(groups):
            values = {
                "team": name,
                by: group,
                "cases": int(row[j]),
                "team_share": row[j] / total if total else None,
                "group_share": row[j] / group_totals[j] if group_totals[j] else None,
                **dict.fromkeys(_CONCENTRATION),
            }
            for key, value in values.items():
                out[key].append(value)
        mask = np.array([g not in NO_NEED_GROUP for g in groups], dtype=bool)
        grouped = int(row[mask].sum())
        shares = np.where(mask, row, 0) / grouped if grouped else np.zeros(len(row))
        largest = int(np.argmax(np.where(mask, row, -1))) if grouped else None
        hhi = float(np.sum(shares * shares)) if grouped else None
        values = {
            "team": name,
            by: None,
            "cases": total,
            "team_share": None,
            "group_share": total / matrix.sum() if matrix.sum() else None,
            "grouped": grouped,
            "largest_group": groups[largest] if largest is not None else None,
            "largest_cases": int(row[largest]) if largest is not None else None,
            "largest_share": float(shares[largest]) if largest is not None else None,
            "hhi": hhi,
            "effective_groups": 1.0 / hhi if hhi else None,
        }
        for key, value in values.items():
            out[key].append(value)
    floats = ("team_share", "group_share", "largest_share", "hhi", "effective_groups")
    table = pa.table(
        {
            "team": pa.array(out["team"], pa.string()),
            by: pa.array(out[by], pa.string()),
            "cases": pa.array(out["cases"], pa.int64()),
            **{k: pa.array(out[k], pa.float64()) for k in floats[:2]},
            "grouped": pa.array(out["grouped"], pa.int64()),
            "largest_group": pa.array(out["largest_group"], pa.string()),
            "largest_cases": pa.array(out["largest_cases"], pa.int64()),
            **{k: pa.array(out[k], pa.float64()) for k in floats[2:]},
        }
    )
    whole = {by: None}
    team_label = "cases|team"  # local to this table (no dot): cheaper to withhold than a group size
    structure = Structure(
        blocks=(
            # every case is in one team and one group: a team's groups add up to its row,
            # a group's teams to its audited cases (shared with every table of the cases)
            Block(
                count="cases",
                unless=whole,
                rows=("team",),
                cols=(by,),
                key=("team", by),
                row_total=Margin(label=team_label, key=("team",)),
                col_total=Margin(label=f"{SAMPLE}.{by}", key=(by,)),
                total=Margin(label=SAMPLE_TOTAL),
            ),
            Block(
                count="cases",
                where=whole,
                label=team_label,
                key=("team",),
                total=Margin(label=SAMPLE_TOTAL),
            ),
        ),
        derived={"team_share": ("cases",), "group_share": ("cases",)},
        # the measures (and the team's cases in need groups, their base) are computed from
        # all of the team's counts: published only where every one of those is
        across=dict.fromkeys(_CONCENTRATION, ("team",)),
    )
    return common.finish(
        table,
        ["team", by],
        structure,
        not_applicable=["team_share", "group_share", *_CONCENTRATION],
        analysis="teams",
    )


#: What this module publishes (see :mod:`mns.disclosure.publication`).
PUBLICATIONS = (
    Publication(
        name="teams",
        title="Caseloads by team and need group, and how concentrated each team's work is",
    ),
)
