"""Suppression: the cells of a table, the equations between them, and the choice of the
cells to withhold (primary, secondary, derived); :func:`disclose` and :class:`Disclosed`."""

from __future__ import annotations

import heapq
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs
import pyarrow as pa

from mns.disclosure.structure import Block, Margin, Structure, _names, structure_of
from mns.errors import MnsError, SchemaError

#: Schema metadata key recording how a disclosed table was protected (JSON).
DISCLOSED_KEY: Final = b"mns.disclosed"

_MARGIN_COST: Final = 1_000_000.0  # secondary suppression avoids totals published elsewhere
Key = tuple[Any, ...]


# --------------------------------------------------------------------------------------
# The cells and the equations between them


@attrs.define
class _Cell:
    value: int
    cost: float
    suppressed: str | None = None  # primary | secondary
    tables: list[int] = attrs.field(factory=list)  # the sub-tables it appears in


@attrs.define
class _Table:
    """One table's equations as a multigraph: nodes are the table's row and column sums
    (``"F"`` is the free end of a count that is in one sum only), edges are cells."""

    edges: list[tuple[Key, str, str]] = attrs.field(factory=list)  # (cell, node, node)


class _Cells:
    def __init__(self) -> None:
        self.cells: dict[Key, _Cell] = {}
        self.tables: list[_Table] = []

    def add(self, ident: Key, value: int, cost: float, where: str) -> None:
        if value < 0:
            raise MnsError(f"disclose: {where} is negative ({value}); counts cannot be negative")
        found = self.cells.get(ident)
        if found is None:
            self.cells[ident] = _Cell(value=value, cost=cost)
        elif found.value != value:
            raise MnsError(
                f"disclose: {where} is {value} but the same count elsewhere in the table is "
                f"{found.value}; the disclosure structure does not describe this table"
            )
        else:
            found.cost = max(found.cost, cost)


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


def _build(
    rows: list[dict[str, Any]], structure: Structure
) -> tuple[_Cells, dict[tuple[int, str], Key]]:
    """The cells of every block, their equations, and which output cell shows which count."""
    builder = _Builder(rows)
    for block in _ordered(structure.blocks):
        groups: dict[Key, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            if _matches(row, block.where) and not (block.unless and _matches(row, block.unless)):
                groups[tuple(row[c] for c in block.table)].append(i)
        for sub_key in sorted(groups, key=_sort_key):
            builder.table(block, groups[sub_key])
    return builder.cells, builder.shown


def _sort_key(key: Key) -> tuple[Any, ...]:
    return tuple((v is None, str(type(v)), v if v is not None else 0) for v in key)


def _ident(margin: Margin | None, label: str, key: Sequence[str], row: Mapping[str, Any]) -> Key:
    """A total's identity: the declared margin's, else ``label`` and the values of ``key``."""
    if margin is None:
        return (label, *(row[c] for c in key))
    return (margin.label, *(row[c] for c in margin.key))


@attrs.define
class _Sums:
    """The totals of one grid as its cells are added."""

    rows: dict[Key, int] = attrs.field(factory=lambda: defaultdict(int))
    cols: dict[Key, int] = attrs.field(factory=lambda: defaultdict(int))
    row_ident: dict[Key, Key] = attrs.field(factory=dict)
    col_ident: dict[Key, Key] = attrs.field(factory=dict)
    grand: int = 0


class _Builder:
    """Turns the blocks of a table into cells and equations.

    A *grid* (rows and cols, or a base) has one equation per row (cells = row total), per
    column (cells = column total), one for the row totals and one for the column totals (each
    = grand total): every count is in exactly two sums, an edge between two nodes. A *line*
    (rows or cols only) has one equation (cells = total); the other end of each edge is free.
    """

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.cells = _Cells()
        self.shown: dict[tuple[int, str], Key] = {}

    def table(self, block: Block, members: list[int]) -> None:
        """Add one table of a block: its cells, its totals and the equations between them."""
        table = _Table()
        index = len(self.cells.tables)
        label = block.label or block.count
        grid = block.base is not None or (bool(block.rows) and bool(block.cols))
        sums = _Sums()
        for i in members:
            cell = self._cell(block, label, i)
            sums.grand += self.cells.cells[cell].value
            if grid:
                self._grid_cell(block, i, cell, table, sums)
            else:
                table.edges.append((cell, "F", "L" if (block.rows or block.cols) else "F"))
        grand = _ident(block.total, f"{label}|all", block.table, self.rows[members[0]])
        what = f"the total of {block.count!r}"
        if grid:
            self._grid_totals(block, table, sums, grand)
        elif block.rows or block.cols:
            self.cells.add(grand, sums.grand, _MARGIN_COST + sums.grand, what)
            table.edges.append((grand, "L", "F"))
        if block.total and block.total.column:
            self.cells.add(grand, sums.grand, _MARGIN_COST + sums.grand, what)
            for i in members:
                self.shown[(i, block.total.column)] = grand
        for cell, _, _ in table.edges:
            held = self.cells.cells[cell].tables
            if index not in held:
                held.append(index)
        self.cells.tables.append(table)

    def _cell(self, block: Block, label: str, i: int) -> Key:
        row = self.rows[i]
        key_cols = block.key if block.key is not None else (*block.table, *block.rows, *block.cols)
        where = f"row {i}, column {block.count!r}"
        value = _as_int(row[block.count], where)
        cell = (label, *(row[c] for c in key_cols))
        self.cells.add(cell, value, float(value), where)
        self.shown[(i, block.count)] = cell
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
        row_key = (*block.table, *block.rows)
        if r not in sums.row_ident:
            sums.row_ident[r] = _ident(block.row_total, f"{label}|row", row_key, row)
        if c_key not in sums.col_ident:
            col_key = (*block.table, *block.cols)
            sums.col_ident[c_key] = _ident(block.col_total, f"{label}|col", col_key, row)
        if block.row_total and block.row_total.column:
            self.shown[(i, block.row_total.column)] = sums.row_ident[r]
        if block.col_total and block.col_total.column:
            self.shown[(i, block.col_total.column)] = sums.col_ident[c_key]
        if block.base is None:
            return
        # "count of base": the row's other cell is base - count, and base is the row total
        base = _as_int(row[block.base], f"row {i}, column {block.base!r}")
        if base < value:
            raise MnsError(
                f"disclose: row {i}: {block.count} = {value} is more than {block.base} = {base}"
            )
        base_cell = self.shown.get((i, block.base)) or (block.base, *(row[c] for c in row_key))
        self.cells.add(base_cell, base, _MARGIN_COST + base, f"row {i}, column {block.base!r}")
        self.shown[(i, block.base)] = base_cell
        sums.row_ident[r] = base_cell
        key_cols = block.key if block.key is not None else (*block.table, *block.rows, *block.cols)
        other = (f"{label}|not", *(row[c] for c in key_cols))
        self.cells.add(other, base - value, 0.0, f"row {i}: {block.base} - {block.count}")
        table.edges.append((other, f"r{r!r}", "c('out',)"))
        sums.cols[("out",)] += base - value
        sums.col_ident.setdefault(("out",), (f"{label}|not|col", *(row[c] for c in block.table)))
        sums.grand += base - value

    def _grid_totals(self, block: Block, table: _Table, sums: _Sums, grand: Key) -> None:
        for r, total in sums.rows.items():
            if block.base is None:
                what = f"the total of row {r!r} of {block.count!r}"
                self.cells.add(sums.row_ident[r], total, _MARGIN_COST + total, what)
            table.edges.append((sums.row_ident[r], f"r{r!r}", "cT"))
        for c_key, total in sums.cols.items():
            what = f"the total of {block.count!r} {c_key!r}"
            self.cells.add(sums.col_ident[c_key], total, _MARGIN_COST + total, what)
            table.edges.append((sums.col_ident[c_key], "rT", f"c{c_key!r}"))
        what = f"the grand total of {block.count!r}"
        self.cells.add(grand, sums.grand, _MARGIN_COST + sums.grand, what)
        table.edges.append((grand, "rT", "cT"))


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
        if info.value <= 0 and info.suppressed is None:
            continue
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
        raise MnsError(
            "disclose: no way to protect a suppressed cell (the table's totals are inconsistent)"
        )
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
                c for c in incident if not cells.cells[c].suppressed and cells.cells[c].value > 0
            ]
            if options:
                suppress(min(options, key=lambda c: (cells.cells[c].cost, _sort_key(c))))
                changed = True
    # 2. exact pass: any suppressed cell still not on a cycle gets the cheapest cycle
    while True:
        hidden_edges = [e for e in table.edges if cells.cells[e[0]].suppressed]
        bridges = _bridges(hidden_edges)
        if not bridges:
            return added
        bridge = bridges[0]
        _, u, v = next(e for e in hidden_edges if e[0] == bridge)
        for cell in _cheapest_path(cells, table, bridge, u, v):
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
            "disclose: this table does not say how its counts add up; pass count= (and rows=, "
            "cols=) or structure=, or use a table made by an mns analysis"
        )
    return found


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
    """Suppress the cells of ``table`` that could identify a child (see the module docstring).

    - ``min_count``: counts from 1 to ``min_count - 1`` are withheld (the default 5 withholds
      1-4; 6 gives the DfE's convention of withholding 1-5). ``min_count=1`` withholds nothing
      (explicitly switching disclosure control off).
    - ``rounding``: round every published count to the nearest multiple (e.g. 5 or 10);
      shares and intervals are left as computed.
    - The structure comes from ``structure``, or from ``count`` (one or more count columns)
      with ``rows``/``cols`` (their table's row and column keys) and ``derived`` (column ->
      the columns it is computed from), or from the table's own metadata.
    """
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"disclose: min_count = {min_count!r} must be a whole number, 1 or more")
    if rounding is not None and (
        isinstance(rounding, bool) or not isinstance(rounding, int) or rounding < 1
    ):
        raise ValueError(
            f"disclose: rounding = {rounding!r} must be a whole number, 1 or more, or None"
        )
    if not isinstance(table, pa.Table):
        raise TypeError(f"disclose: expected a pyarrow Table, not {type(table).__name__}")
    spec = _structure(table, structure, count=count, rows=rows, cols=cols, derived=derived)
    records = table.to_pylist()
    cells, shown = _build(records, spec)
    _protect(cells, min_count)
    withheld: dict[tuple[int, str], str] = {}
    for (i, column), cell in shown.items():
        state = cells.cells[cell].suppressed
        if state:
            withheld[(i, column)] = state
    for column, sources in spec.derived.items():
        if column not in table.column_names:
            raise SchemaError(
                f"disclose: derived column {column!r} is not in the table", field=column
            )
        for i in range(len(records)):
            if (i, column) not in withheld and any((i, s) in withheld for s in sources):
                withheld[(i, column)] = "derived"
    out = _apply(table, records, withheld, shown, rounding)
    visible = set(shown.values())
    hidden_totals = sorted(
        [
            (ident, info.suppressed)
            for ident, info in cells.cells.items()
            if info.suppressed and ident not in visible and "|not" not in str(ident[0])
        ],
        key=lambda item: _sort_key(item[0]),
    )
    totals = pa.table(
        {
            "label": pa.array([str(k[0]) for k, _ in hidden_totals], pa.string()),
            "key": pa.array(
                [json.dumps(list(k[1:]), default=str) for k, _ in hidden_totals], pa.string()
            ),
            "reason": pa.array([r for _, r in hidden_totals], pa.string()),
        }
    )
    position = {name: k for k, name in enumerate(table.column_names)}
    order = sorted(withheld, key=lambda rc: (rc[0], position[rc[1]]))
    record = pa.table(
        {
            "row": pa.array([r for r, _ in order], pa.int64()),
            "column": pa.array([c for _, c in order], pa.string()),
            "reason": pa.array([withheld[k] for k in order], pa.string()),
        }
    )
    note = {"min_count": min_count, "rounding": rounding, "suppressed": len(withheld)}
    metadata = {
        **(out.schema.metadata or {}),
        DISCLOSED_KEY: json.dumps(note, sort_keys=True).encode(),
    }
    return Disclosed(
        table=out.replace_schema_metadata(metadata),
        suppressed=record,
        min_count=min_count,
        rounding=rounding,
        totals=totals,
    )


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
