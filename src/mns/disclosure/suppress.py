"""Suppression: the cells of a set of tables, the equations between them, and the choice of
the cells to withhold (primary, secondary, derived); :func:`disclose_all`, :func:`disclose`,
:class:`Disclosed` and :class:`DisclosedSet`."""

from __future__ import annotations

import heapq
import json
import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

import attrs
import numpy as np
import pyarrow as pa

from mns.converters import to_metadata
from mns.disclosure.structure import Block, Margin, Structure, _names, structure_of
from mns.errors import MnsError, SchemaError

#: Schema metadata key recording how a disclosed table was protected (JSON).
DISCLOSED_KEY: Final = b"mns.disclosed"


@attrs.frozen
class DisclosedNote:
    """What a disclosed table's ``mns.disclosed`` metadata says: the rules applied and how
    many cells they withheld."""

    min_count: int
    rounding: int | None
    suppressed: int


_MARGIN_COST: Final = 1_000_000.0  # secondary suppression avoids totals published elsewhere
_HIDDEN_TOTAL_COST: Final = 1_000.0  # ... and totals no table shows, after interior cells
Key = tuple[Any, ...]


# --------------------------------------------------------------------------------------
# The cells and the equations between them


@attrs.define
class _Cell:
    value: int
    cost: float
    suppressed: str | None = None  # primary | secondary
    tables: list[int] = attrs.field(factory=list)  # the sub-tables it appears in
    implicit: bool = False  # a count no table shows (``base - count``): never published


@attrs.define
class _Table:
    """One table's equations as a multigraph: nodes are the table's row and column sums
    (``"F"`` is the free end of a count that is in one sum only), edges are cells."""

    edges: list[tuple[Key, str, str]] = attrs.field(factory=list)  # (cell, node, node)


class _Cells:
    """Every count of the tables being disclosed, by identity, and the equations between
    them: ``equations`` holds (parts, total) with ``sum(parts) == total``."""

    def __init__(self) -> None:
        self.cells: dict[Key, _Cell] = {}
        self.tables: list[_Table] = []
        self.equations: dict[tuple[tuple[Key, ...], Key], None] = {}

    def add(self, ident: Key, value: int, cost: float, where: str) -> None:
        if value < 0:
            raise MnsError(f"disclose: {where} is negative ({value}); counts cannot be negative")
        found = self.cells.get(ident)
        if found is None:
            self.cells[ident] = _Cell(value=value, cost=cost)
        elif found.value != value:
            raise MnsError(
                f"disclose: {where} is {value} but the same count elsewhere ({_describe(ident)}) "
                f"is {found.value}; the disclosure structure does not describe this table, or "
                "two tables give one shared identity to different numbers"
            )
        else:
            found.cost = max(found.cost, cost)

    def equation(self, parts: Sequence[Key], total: Key) -> None:
        if parts:
            self.equations[(tuple(sorted(set(parts), key=_sort_key)), total)] = None


def _describe(ident: Key) -> str:
    return f"{ident[0]} {list(ident[1:])!r}" if len(ident) > 1 else str(ident[0])


def _as_int(value: Any, where: str) -> int:
    if value is None:
        return 0
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and (math.isnan(value) or value != int(value)))
    ):
        raise MnsError(f"disclose: {where} = {value!r} is not a count")
    return int(value)


def _matches(row: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    return all(row.get(k) == v for k, v in where.items())


Shown = dict[tuple[str, int, str], Key]  # (table, row, column) -> the count it shows


def _build(
    tables: Mapping[str, tuple[list[dict[str, Any]], Structure]],
) -> tuple[_Cells, Shown]:
    """The cells of every block of every table, their equations, and which output cell shows
    which count. Labels with a dot (``sample.total``) are shared identities: the same number
    in every table; other labels are local to their table."""
    builder = _Builder()
    for name, (rows, structure) in tables.items():
        builder.begin(name, rows)
        for block in _ordered(structure.blocks):
            groups: dict[Key, list[int]] = defaultdict(list)
            for i, row in enumerate(rows):
                if _matches(row, block.where) and not (
                    block.unless and _matches(row, block.unless)
                ):
                    groups[tuple(row[c] for c in block.table)].append(i)
            for sub_key in sorted(groups, key=_sort_key):
                builder.table(block, groups[sub_key])
    _price_hidden_totals(builder.cells, builder.shown)
    return builder.cells, builder.shown


def _price_hidden_totals(cells: _Cells, shown: Shown) -> None:
    """A total no table shows costs the reader nothing when withheld, but an attacker may
    know it from elsewhere: withhold it before a shown total, after any interior cell."""
    visible = set(shown.values())
    for ident, info in cells.cells.items():
        if info.cost >= _MARGIN_COST and ident not in visible:
            info.cost = _HIDDEN_TOTAL_COST + info.value


def _sort_key(key: Key) -> tuple[Any, ...]:
    return tuple((v is None, str(type(v)), v if v is not None else 0) for v in key)


def is_shared(label: str) -> bool:
    """Whether ``label`` names a shared identity (``sample.total``): a number that is the same
    wherever it appears, in any table. Other labels are local to their table."""
    return "." in label


@attrs.define
class _Sums:
    """The totals of one grid as its cells are added."""

    rows: dict[Key, int] = attrs.field(factory=lambda: defaultdict(int))
    cols: dict[Key, int] = attrs.field(factory=lambda: defaultdict(int))
    row_ident: dict[Key, Key] = attrs.field(factory=dict)
    col_ident: dict[Key, Key] = attrs.field(factory=dict)
    row_cells: dict[Key, list[Key]] = attrs.field(factory=lambda: defaultdict(list))
    col_cells: dict[Key, list[Key]] = attrs.field(factory=lambda: defaultdict(list))
    grand: int = 0


class _Builder:
    """Turns the blocks of the tables into cells and equations.

    A *grid* (rows and cols, or a base) has one equation per row (cells = row total), per
    column (cells = column total), one for the row totals and one for the column totals (each
    = grand total): every count is in exactly two sums, an edge between two nodes. A *line*
    (rows or cols only) has one equation (cells = total); the other end of each edge is free.
    """

    def __init__(self) -> None:
        self.cells = _Cells()
        self.shown: Shown = {}
        self.name = ""
        self.rows: list[dict[str, Any]] = []

    def begin(self, name: str, rows: list[dict[str, Any]]) -> None:
        self.name, self.rows = name, rows

    def scoped(self, label: str) -> str:
        return label if is_shared(label) else f"{self.name}:{label}"

    def ident(
        self, margin: Margin | None, label: str, key: Sequence[str], row: Mapping[str, Any]
    ) -> Key:
        """A total's identity: the declared margin's, else ``label`` and the values of ``key``."""
        if margin is None:
            return (self.scoped(label), *(row[c] for c in key))
        return (self.scoped(margin.label), *(row[c] for c in margin.key))

    def table(self, block: Block, members: list[int]) -> None:
        """Add one table of a block: its cells, its totals and the equations between them."""
        table = _Table()
        index = len(self.cells.tables)
        label = block.label or block.count
        grid = block.base is not None or (bool(block.rows) and bool(block.cols))
        sums = _Sums()
        line: list[Key] = []
        for i in members:
            cell = self._cell(block, label, i)
            sums.grand += self.cells.cells[cell].value
            line.append(cell)
            if grid:
                self._grid_cell(block, i, cell, table, sums)
            else:
                table.edges.append((cell, "F", "L" if (block.rows or block.cols) else "F"))
        grand = self.ident(block.total, f"{label}|all", block.table, self.rows[members[0]])
        what = f"the total of {block.count!r}"
        if grid:
            self._grid_totals(block, table, sums, grand)
        elif block.rows or block.cols:
            self.cells.add(grand, sums.grand, _MARGIN_COST + sums.grand, what)
            table.edges.append((grand, "L", "F"))
            self.cells.equation(line, grand)
        if block.total and block.total.column:
            self.cells.add(grand, sums.grand, _MARGIN_COST + sums.grand, what)
            for i in members:
                self.shown[(self.name, i, block.total.column)] = grand
        for cell, _, _ in table.edges:
            held = self.cells.cells[cell].tables
            if index not in held:
                held.append(index)
        self.cells.tables.append(table)

    def _cell(self, block: Block, label: str, i: int) -> Key:
        row = self.rows[i]
        key_cols = block.key if block.key is not None else (*block.table, *block.rows, *block.cols)
        where = f"table {self.name!r}, row {i}, column {block.count!r}"
        value = _as_int(row[block.count], where)
        cell = (self.scoped(label), *(row[c] for c in key_cols))
        self.cells.add(cell, value, float(value), where)
        self.shown[(self.name, i, block.count)] = cell
        return cell

    def _grid_cell(self, block: Block, i: int, cell: Key, table: _Table, sums: _Sums) -> None:
        label = block.label or block.count
        row = self.rows[i]
        value = self.cells.cells[cell].value
        r = tuple(row[c] for c in block.rows)
        c_key: Key = tuple(row[c] for c in block.cols) if block.cols else ("in",)
        table.edges.append((cell, f"r{r!r}", f"c{c_key!r}"))
        sums.rows[r] += value
        sums.cols[c_key] += value
        sums.row_cells[r].append(cell)
        sums.col_cells[c_key].append(cell)
        row_key = (*block.table, *block.rows)
        if r not in sums.row_ident:
            sums.row_ident[r] = self.ident(block.row_total, f"{label}|row", row_key, row)
        if c_key not in sums.col_ident:
            col_key = (*block.table, *block.cols)
            sums.col_ident[c_key] = self.ident(block.col_total, f"{label}|col", col_key, row)
        if block.row_total and block.row_total.column:
            self.shown[(self.name, i, block.row_total.column)] = sums.row_ident[r]
        if block.col_total and block.col_total.column:
            self.shown[(self.name, i, block.col_total.column)] = sums.col_ident[c_key]
        if block.base is None:
            return
        # "count of base": the row's other cell is base - count, and base is the row total
        where = f"table {self.name!r}, row {i}, column {block.base!r}"
        base = _as_int(row[block.base], where)
        if base < value:
            raise MnsError(
                f"disclose: table {self.name!r}, row {i}: {block.count} = {value} is more "
                f"than {block.base} = {base}"
            )
        base_cell = self.shown.get((self.name, i, block.base)) or self.ident(
            block.row_total, block.base, row_key, row
        )
        self.cells.add(base_cell, base, _MARGIN_COST + base, where)
        self.shown[(self.name, i, block.base)] = base_cell
        sums.row_ident[r] = base_cell
        key_cols = block.key if block.key is not None else (*block.table, *block.rows, *block.cols)
        other = (self.scoped(f"{label}|not"), *(row[c] for c in key_cols))
        self.cells.add(other, base - value, 0.0, f"{where}: {block.base} - {block.count}")
        self.cells.cells[other].implicit = True
        table.edges.append((other, f"r{r!r}", "c('out',)"))
        sums.cols[("out",)] += base - value
        sums.row_cells[r].append(other)
        sums.col_cells[("out",)].append(other)
        sums.col_ident.setdefault(
            ("out",), (self.scoped(f"{label}|not|col"), *(row[c] for c in block.table))
        )
        sums.grand += base - value

    def _grid_totals(self, block: Block, table: _Table, sums: _Sums, grand: Key) -> None:
        for r, total in sums.rows.items():
            if block.base is None:
                what = f"the total of row {r!r} of {block.count!r}"
                self.cells.add(sums.row_ident[r], total, _MARGIN_COST + total, what)
            table.edges.append((sums.row_ident[r], f"r{r!r}", "cT"))
            self.cells.equation(sums.row_cells[r], sums.row_ident[r])
        for c_key, total in sums.cols.items():
            what = f"the total of {block.count!r} {c_key!r}"
            self.cells.add(sums.col_ident[c_key], total, _MARGIN_COST + total, what)
            table.edges.append((sums.col_ident[c_key], "rT", f"c{c_key!r}"))
            self.cells.equation(sums.col_cells[c_key], sums.col_ident[c_key])
        what = f"the grand total of {block.count!r}"
        self.cells.add(grand, sums.grand, _MARGIN_COST + sums.grand, what)
        table.edges.append((grand, "rT", "cT"))
        self.cells.equation([sums.row_ident[r] for r in sums.rows], grand)
        self.cells.equation([sums.col_ident[c] for c in sums.cols], grand)


def _ordered(blocks: Sequence[Block]) -> list[Block]:
    """Blocks whose count is another block's base come first."""
    by_count = {b.count: b for b in blocks}

    def depth(block: Block, seen: frozenset[str] = frozenset()) -> int:
        if block.base is None or block.base not in by_count or block.count in seen:
            return 0
        return 1 + depth(by_count[block.base], seen | {block.count})

    return sorted(blocks, key=depth)


# --------------------------------------------------------------------------------------
# Protection


def _bridges(edges: list[tuple[Key, str, str]]) -> list[Key]:
    """Edges of the multigraph whose removal disconnects their ends (iterative Tarjan)."""
    adjacency: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, (_, u, v) in enumerate(edges):
        if u == v:
            continue
        adjacency[u].append((v, i))
        adjacency[v].append((u, i))
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    found: list[int] = []
    counter = 0
    for root in sorted(adjacency):
        if root in order:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack: list[tuple[str, int, int]] = [(root, -1, 0)]
        while stack:
            node, via, pos = stack[-1]
            neighbours = adjacency[node]
            if pos < len(neighbours):
                stack[-1] = (node, via, pos + 1)
                nxt, edge = neighbours[pos]
                if edge == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, edge, 0))
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        found.append(via)
    return [edges[i][0] for i in sorted(found)]


def _cheapest_path(cells: _Cells, table: _Table, avoid: Key, start: str, goal: str) -> list[Key]:
    """The cheapest chain of positive cells joining ``start`` to ``goal`` without ``avoid``
    (suppressed cells cost nothing): suppressing it puts ``avoid`` on a cycle."""
    adjacency: dict[str, list[tuple[str, Key]]] = defaultdict(list)
    for cell, u, v in table.edges:
        if cell == avoid or u == v:
            continue
        info = cells.cells[cell]
        if info.suppressed is None and (info.value <= 0 or info.cost >= _MARGIN_COST):
            continue  # zeros are published; shown totals are left to the LP repair
        adjacency[u].append((v, cell))
        adjacency[v].append((u, cell))
    best: dict[str, float] = {start: 0.0}
    back: dict[str, tuple[str, Key]] = {}
    heap: list[tuple[float, int, str]] = [(0.0, 0, start)]
    tick = 0
    while heap:
        cost, _, node = heapq.heappop(heap)
        if node == goal:
            break
        if cost > best.get(node, math.inf):
            continue
        for nxt, cell in adjacency[node]:
            info = cells.cells[cell]
            step = 0.0 if info.suppressed else info.cost + 1e-3  # prefer fewer cells on ties
            new = cost + step
            if new < best.get(nxt, math.inf):
                best[nxt] = new
                back[nxt] = (node, cell)
                tick += 1
                heapq.heappush(heap, (new, tick, nxt))
    if goal not in best:
        return []  # only a shown total could: the LP repair decides, across every table
    path = []
    node = goal
    while node != start:
        node, cell = back[node]
        path.append(cell)
    return path


def _protect_table(cells: _Cells, table: _Table) -> set[Key]:
    """Suppress more cells of one table until no suppressed cell is a bridge; the newly
    suppressed cells."""
    added: set[Key] = set()

    def suppress(cell: Key) -> None:
        info = cells.cells[cell]
        if info.suppressed is None:
            info.suppressed = "secondary"
            added.add(cell)

    # 1. cheap pass: a row or column sum with one suppressed cell gets its cheapest partner
    changed = True
    while changed:
        changed = False
        at: dict[str, list[Key]] = defaultdict(list)
        for cell, u, v in table.edges:
            if u == v:
                continue
            at[u].append(cell)
            at[v].append(cell)
        for node in sorted(at):
            if node == "F":
                continue
            incident = at[node]
            hidden = [c for c in incident if cells.cells[c].suppressed]
            if len(hidden) != 1:
                continue
            options = [
                c
                for c in incident
                if not cells.cells[c].suppressed
                and cells.cells[c].value > 0
                and cells.cells[c].cost < _MARGIN_COST
            ]
            if options:
                suppress(min(options, key=lambda c: (cells.cells[c].cost, _sort_key(c))))
                changed = True
    # 2. exact pass: any suppressed cell still not on a cycle gets the cheapest cycle
    stuck: set[Key] = set()
    while True:
        hidden_edges = [e for e in table.edges if cells.cells[e[0]].suppressed]
        bridges = [b for b in _bridges(hidden_edges) if b not in stuck]
        if not bridges:
            return added
        bridge = bridges[0]
        _, u, v = next(e for e in hidden_edges if e[0] == bridge)
        path = _cheapest_path(cells, table, bridge, u, v)
        if not path:
            stuck.add(bridge)
        for cell in path:
            suppress(cell)


def _protect(cells: _Cells, min_count: int) -> None:
    for info in cells.cells.values():
        if 0 < info.value < min_count:
            info.suppressed = "primary"
    pending = sorted({t for info in cells.cells.values() if info.suppressed for t in info.tables})
    while pending:
        index = pending.pop(0)
        added = _protect_table(cells, cells.tables[index])
        more = {t for cell in added for t in cells.cells[cell].tables if t != index}
        pending = sorted(set(pending) | more)


# --------------------------------------------------------------------------------------
# The public functions


@attrs.frozen(kw_only=True)
class Disclosed:
    """A table made safe to publish.

    - ``table``: the input with every suppressed cell set to null (rounded, if asked); its
      schema metadata records ``min_count``, ``rounding`` and how many cells were withheld.
    - ``suppressed``: one row per withheld cell: ``row`` (0-based position in ``table``),
      ``column`` and ``reason`` (``primary``: a small count; ``secondary``: withheld so that
      the totals cannot give a small count away; ``derived``: computed from a withheld count).
      The withheld values are not recorded anywhere.
    - ``totals``: the totals (row, column and grand totals the table does not show as a
      column) that must not be published elsewhere either: ``label`` (the count's name and
      ``|row``, ``|col`` or ``|all``, or a declared margin's label), ``key`` (JSON list of the
      key values) and ``reason``. Small totals are ``primary``; a ``secondary`` total is one
      that secondary suppression could not avoid.
    """

    table: pa.Table
    suppressed: pa.Table
    min_count: int
    rounding: int | None
    totals: (
        pa.Table
    )  #: withheld totals the table does not show: ``label``, ``key`` (JSON), ``reason``

    def is_suppressed(self, row: int, column: str) -> bool:
        """Whether the cell at ``row`` (0-based) and ``column`` was withheld."""
        return (row, column) in _suppressed_set(self.suppressed)


#: The columns of :attr:`DisclosedSet.withheld`.
WITHHELD_COLUMNS: Final = ("table", "cells", "withheld", "primary", "secondary", "derived")


@attrs.frozen(kw_only=True)
class DisclosedSet:
    """Tables made safe to publish together (:func:`disclose_all`).

    - ``tables``: each table's :class:`Disclosed`, by name.
    - ``withheld``: the information loss, one row per table: ``table``, ``cells`` (the
      counts, totals, shares, rates and intervals disclosure control governs that hold a
      value), ``withheld`` (how many of them were withheld) and why: ``primary``,
      ``secondary``, ``derived``. It holds no count of children, so it is safe to publish.
    """

    tables: Mapping[str, Disclosed]
    withheld: pa.Table
    min_count: int
    rounding: int | None


def _suppressed_set(record: pa.Table) -> set[tuple[int, str]]:
    return set(
        zip(record.column("row").to_pylist(), record.column("column").to_pylist(), strict=True)
    )


def _structure(
    table: pa.Table,
    structure: Structure | None,
    *,
    count: str | Sequence[str] | None,
    rows: str | Sequence[str],
    cols: str | Sequence[str],
    derived: Mapping[str, Sequence[str]] | None,
    name: str = "table",
) -> Structure:
    if structure is not None:
        return structure
    if count is not None:
        counts = _names(count)
        return Structure(
            blocks=tuple(Block(count=c, rows=_names(rows), cols=_names(cols)) for c in counts),
            derived={k: tuple(v) for k, v in (derived or {}).items()},
        )
    found = structure_of(table)
    if found is None:
        raise MnsError(
            f"disclose: the table {name!r} does not say how its counts add up; pass count= "
            "(and rows=, cols=) or structure=, or use a table made by an mns analysis",
            item=name,
        )
    return found


def _check_options(min_count: int, rounding: int | None) -> None:
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"disclose: min_count = {min_count!r} must be a whole number, 1 or more")
    if rounding is not None and (
        isinstance(rounding, bool) or not isinstance(rounding, int) or rounding < 1
    ):
        raise ValueError(
            f"disclose: rounding = {rounding!r} must be a whole number, 1 or more, or None"
        )


def disclose_all(
    tables: Mapping[str, pa.Table],
    min_count: int = 5,
    rounding: int | None = None,
    *,
    structures: Mapping[str, Structure] | None = None,
    spare: Mapping[str, Collection[Any]] | None = None,
) -> DisclosedSet:
    """Suppress the cells of every table in ``tables`` (by name) that could identify a child,
    jointly: nothing withheld in one table can be worked out from all of them together.

    1. **primary**: every count from 1 to ``min_count - 1`` (zeros are published), including
       the counts the tables imply (``base - count``, totals they do not show);
    2. **secondary**: more counts, chosen across the set with a cost that withholds interior
       cells before totals no table shows, and those before the totals tables show (group
       sizes, the audit's total); then an interval attack by linear programming over every
       equation of every table (margins, shared identities such as ``sample.need_group``,
       ``base = count + rest``) checks each withheld count, and any whose range is a single
       value, or lies inside 1 to ``min_count - 1``, gets more complements;
    3. **derived**: every share, rate, estimate or interval computed from a withheld count
       (or base) is withheld with it;
    4. optional **rounding** of the published counts to a multiple of ``rounding``.

    Each table's structure comes from ``structures[name]`` or from its schema metadata (every
    mns analysis records one). ``spare`` maps a shared identity's label to the keys whose
    totals may be withheld before its others (``{"sample.need_group": {"(not placed)"}}``:
    when a small group forces one more group size out, the rows that are no need group go
    first). See ``docs/explanation/disclosure-control.md``.
    """
    _check_options(min_count, rounding)
    specs: dict[str, tuple[list[dict[str, Any]], Structure]] = {}
    for name, table in tables.items():
        if not isinstance(table, pa.Table):
            raise TypeError(
                f"disclose: table {name!r} must be a pyarrow Table, not {type(table).__name__}"
            )
        given = (structures or {}).get(name)
        spec = _structure(table, given, count=None, rows=(), cols=(), derived=None, name=name)
        for column in spec.derived:
            if column not in table.column_names:
                raise SchemaError(
                    f"disclose: derived column {column!r} is not in the table {name!r}",
                    field=column,
                )
        specs[name] = (table.to_pylist(), spec)
    cells, shown = _build(specs)
    _protect(cells, min_count)
    if min_count > 1:
        _verify(cells, shown, min_count, spare or {})
    withheld: dict[str, dict[tuple[int, str], str]] = {name: {} for name in tables}
    for (name, i, column), cell in shown.items():
        state = cells.cells[cell].suppressed
        if state:
            withheld[name][(i, column)] = state
    done: dict[str, Disclosed] = {}
    summary: list[dict[str, Any]] = []
    for name, table in tables.items():
        records, spec = specs[name]
        mine = withheld[name]
        for column, sources in spec.derived.items():
            for i in range(len(records)):
                if (
                    (i, column) not in mine
                    and records[i][column] is not None  # nothing to withhold
                    and any((i, s) in mine for s in sources)
                ):
                    mine[(i, column)] = "derived"
        table_shown = {(i, c): cell for (n, i, c), cell in shown.items() if n == name}
        for column, keys in spec.across.items():  # computed from the counts of many rows
            hit = {tuple(records[i][k] for k in keys) for (i, c) in mine if (i, c) in table_shown}
            for i, row in enumerate(records):
                if row[column] is not None and tuple(row[k] for k in keys) in hit:
                    mine.setdefault((i, column), "derived")
        done[name] = _disclosed(table, records, mine, table_shown, cells, name, min_count, rounding)
        governed = {c for _, c in table_shown} | set(spec.derived) | set(spec.across)
        reasons = list(mine.values())
        summary.append(
            {
                "table": name,
                "cells": sum(
                    table.num_rows - table.column(c).null_count
                    for c in table.column_names
                    if c in governed
                ),
                "withheld": len(reasons),
                **{r: reasons.count(r) for r in ("primary", "secondary", "derived")},
            }
        )
    schema = pa.schema(
        [pa.field("table", pa.string()), *(pa.field(c, pa.int64()) for c in WITHHELD_COLUMNS[1:])]
    )
    return DisclosedSet(
        tables=done,
        withheld=pa.Table.from_pylist(summary, schema=schema),
        min_count=min_count,
        rounding=rounding,
    )


def _verify(
    cells: _Cells, shown: Shown, min_count: int, spare: Mapping[str, Collection[Any]]
) -> None:
    """The LP interval attack over every equation, and more complements where it succeeds."""
    from mns.disclosure import verify

    keys = list(cells.cells)
    index = {k: i for i, k in enumerate(keys)}
    infos = [cells.cells[k] for k in keys]
    system = verify.System(
        [c.value for c in infos],
        [
            verify.weight(
                c.cost,
                _MARGIN_COST,
                _HIDDEN_TOTAL_COST,
                shared=is_shared(k[0]) and not (len(k) == 2 and k[1] in spare.get(k[0], ())),
            )
            for k, c in zip(keys, infos, strict=True)
        ],
        [([index[p] for p in parts], index[total]) for parts, total in cells.equations],
    )
    unknown = np.array([bool(c.suppressed) or c.implicit for c in infos], dtype=bool)
    primary = np.array([c.suppressed == "primary" for c in infos], dtype=bool)
    visible = np.zeros(len(keys), dtype=bool)
    visible[[index[c] for c in set(shown.values())]] = True
    added, released = verify.secure(system, unknown, primary, visible, min_count)
    for i in np.flatnonzero(added):
        if infos[i].suppressed is None and not infos[i].implicit:
            infos[i].suppressed = "secondary"
    for i in np.flatnonzero(released):
        infos[i].suppressed = None
    for i in np.flatnonzero(verify.prune(system, unknown, primary, visible, min_count)):
        infos[i].suppressed = None


def _disclosed(  # noqa: PLR0917 - one table's share of the joint result
    table: pa.Table,
    records: list[dict[str, Any]],
    withheld: dict[tuple[int, str], str],
    shown: Mapping[tuple[int, str], Key],
    cells: _Cells,
    name: str,
    min_count: int,
    rounding: int | None,
) -> Disclosed:
    out = _apply(table, records, withheld, shown, rounding)
    visible = set(shown.values())
    prefix = f"{name}:"
    hidden_totals = sorted(
        [
            (ident, info.suppressed)
            for ident, info in cells.cells.items()
            if info.suppressed
            and not info.implicit
            and ident not in visible
            and (str(ident[0]).startswith(prefix) or is_shared(str(ident[0])))
        ],
        key=lambda item: _sort_key(item[0]),
    )
    totals = pa.table(
        {
            "label": pa.array(
                [str(k[0]).removeprefix(prefix) for k, _ in hidden_totals], pa.string()
            ),
            "key": pa.array(
                [json.dumps(list(k[1:]), default=str) for k, _ in hidden_totals], pa.string()
            ),
            "reason": pa.array([r for _, r in hidden_totals], pa.string()),
        }
    )
    position = {column: k for k, column in enumerate(table.column_names)}
    order = sorted(withheld, key=lambda rc: (rc[0], position[rc[1]]))
    record = pa.table(
        {
            "row": pa.array([r for r, _ in order], pa.int64()),
            "column": pa.array([c for _, c in order], pa.string()),
            "reason": pa.array([withheld[k] for k in order], pa.string()),
        }
    )
    note = DisclosedNote(min_count=min_count, rounding=rounding, suppressed=len(withheld))
    metadata = {**(out.schema.metadata or {}), DISCLOSED_KEY: to_metadata(note)}
    return Disclosed(
        table=out.replace_schema_metadata(metadata),
        suppressed=record,
        min_count=min_count,
        rounding=rounding,
        totals=totals,
    )


def disclose(
    table: pa.Table,
    min_count: int = 5,
    rounding: int | None = None,
    *,
    structure: Structure | None = None,
    count: str | Sequence[str] | None = None,
    rows: str | Sequence[str] = (),
    cols: str | Sequence[str] = (),
    derived: Mapping[str, Sequence[str]] | None = None,
) -> Disclosed:
    """Suppress the cells of ``table`` that could identify a child: :func:`disclose_all` of
    this one table (see there).

    - ``min_count``: counts from 1 to ``min_count - 1`` are withheld (the default 5 withholds
      1-4; 6 gives the DfE's convention of withholding 1-5). ``min_count=1`` withholds nothing
      (explicitly switching disclosure control off).
    - ``rounding``: round every published count to the nearest multiple (e.g. 5 or 10);
      shares and intervals are left as computed.
    - The structure comes from ``structure``, or from ``count`` (one or more count columns)
      with ``rows``/``cols`` (their table's row and column keys) and ``derived`` (column ->
      the columns it is computed from), or from the table's own metadata.
    """
    _check_options(min_count, rounding)
    if not isinstance(table, pa.Table):
        raise TypeError(f"disclose: expected a pyarrow Table, not {type(table).__name__}")
    spec = _structure(table, structure, count=count, rows=rows, cols=cols, derived=derived)
    done = disclose_all({"table": table}, min_count, rounding, structures={"table": spec})
    return done.tables["table"]


def _apply(
    table: pa.Table,
    records: list[dict[str, Any]],
    withheld: Mapping[tuple[int, str], str],
    shown: Mapping[tuple[int, str], Key],
    rounding: int | None,
) -> pa.Table:
    counted = {column for _, column in shown}
    hidden = {column for _, column in withheld}
    columns = []
    for field in table.schema:
        name = field.name
        touched = name in hidden or (rounding and name in counted)
        if not touched:
            columns.append(table.column(name))
            continue
        values = []
        for i, row in enumerate(records):
            value = row[name]
            if (i, name) in withheld:
                value = None
            elif rounding and (i, name) in shown and value is not None:
                value = math.floor(value / rounding + 0.5) * rounding
            values.append(value)
        columns.append(pa.array(values, field.type))
    return pa.Table.from_arrays(columns, schema=table.schema)
