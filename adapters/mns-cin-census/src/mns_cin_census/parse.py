"""The hardened, streaming CIN census XML parser: one ``Child`` at a time, raw text out.

The parser never expands an entity, never loads a DTD, never touches the network and never
builds a huge tree; a file with a ``DOCTYPE`` at all is refused (the CIN census has none).
Each ``Child`` is read into plain rows as soon as its end tag arrives and is then cleared
with everything before it, so memory stays flat however large the file. Values stay raw
text here; typing and checking them is :mod:`mns_cin_census.validate`'s job, a batch at a
time.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import datetime as dt
import gc
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

import attrs
from lxml import etree

from mns.plugins import detect_encoding, iterparse
from mns.records.issues import element_path
from mns_cin_census import spec
from mns_cin_census.issues import Issues

__all__ = ["Header", "Parser", "RawBatch", "RawTable"]


@attrs.define
class RawTable:
    """Rows of one table of a batch, as read, kept flat in ``cells`` (a row after another)
    so that they become Arrow and numpy columns without being transposed in Python.

    Each row is ``width`` cells: ``(text_1, ..., text_n, line_1, ..., line_n, parent,
    ordinal, line)``: each field's raw text and the line of its element (0 when absent: a
    text ``None`` with a line is an empty element), then ``parent``, the row index of the
    enclosing block in its own table (the child index for child-level tables; for a
    ``Child``, the index of its parent element's path in :attr:`RawBatch.containers`),
    ``ordinal``, which numbers the block among the elements of its name in its parent (1,
    2, ..., as XPath does), and ``line``, the block's start line. Element paths are made
    from ``parent`` and ``ordinal`` only for the rows that have issues.
    """

    name: str
    fields: tuple[str, ...]
    cells: list[Any] = attrs.field(factory=list)

    @property
    def width(self) -> int:
        """The cells of a row: a text and a line per field, then parent, ordinal and line."""
        return 2 * len(self.fields) + 3

    @property
    def size(self) -> int:
        """The number of rows."""
        return len(self.cells) // self.width


@attrs.define
class RawBatch:
    """The raw rows of a run of whole children, table by table (``Child``: one row per child);
    ``containers``: the element paths of the elements holding the children
    (``/Message/Children``)."""

    tables: dict[str, RawTable]
    containers: list[str] = attrs.field(factory=list)

    @property
    def children(self) -> int:
        return self.tables["Child"].size


@attrs.define
class Header:
    """The file's ``Header``: raw values and lines, and the collection year and reference
    date it states (``None`` when absent or unreadable)."""

    values: dict[str, str | None] = attrs.field(factory=dict)
    lines: dict[str, int | None] = attrs.field(factory=dict)
    paths: dict[str, str] = attrs.field(factory=dict)
    line: int | None = None
    path: str | None = None
    year: int | None = None
    reference_date: dt.date | None = None
    lea: str | None = None

    def at(self, field: str) -> tuple[int | None, str | None]:
        """The line and element path of the header's ``field`` (``None``: not in the file)."""
        return self.lines.get(field), self.paths.get(field)


@attrs.frozen
class _Compiled:
    table: str
    fields: dict[str, int]
    blocks: dict[str, tuple[_Compiled, spec.Block]]
    lists: dict[str, tuple[str, str]]
    once: frozenset[str]
    required: tuple[str, ...]
    width: int  #: the number of fields (a row holds each field's text, then its line)
    blank: tuple[Any, ...]  #: a new row's text and line slots (None, 0: absent)
    #: what :meth:`Parser._block` needs for every block, in one tuple: ``fields.get``,
    #: ``width``, ``blank``, ``table``, ``blocks``, ``lists``, the cells of a row and
    #: ``required``
    hot: tuple[Any, ...] = attrs.field(init=False)

    @hot.default
    def _hot(self) -> tuple[Any, ...]:
        return (
            self.fields.get,
            self.width,
            self.blank,
            self.table,
            self.blocks,
            self.lists,
            2 * self.width + 3,
            self.required,
        )


def _compile(block: spec.Block, ns: str) -> _Compiled:
    return _Compiled(
        width=len(block.fields),
        blank=(None,) * len(block.fields) + (0,) * len(block.fields),
        table=block.table or "Child",
        fields={ns + f: i for i, f in enumerate(block.fields)},  # slot in a raw row
        blocks={ns + b.tag: (_compile(b, ns), b) for b in block.blocks},
        lists={ns + k: (ns + leaf, table) for k, (leaf, table) in block.lists.items()},
        once=frozenset(ns + t for t in block.once),
        required=tuple(ns + t for t in block.required),
    )


def _fields_of(block: spec.Block) -> dict[str, tuple[str, ...]]:
    out = {block.table or "Child": block.fields}
    for leaf_table in block.lists.values():
        out[leaf_table[1]] = (leaf_table[0],)
    for b in block.blocks:
        out.update(_fields_of(b))
    return out


_TABLE_FIELDS = _fields_of(spec.CHILD)
#: elements that may repeat in their parent: their paths always number them
REPEATED = frozenset(
    {
        "Child",
        *(b.tag for b in spec.BLOCKS if b.tag not in spec.CHILD.once and b is not spec.CHILD),
        *(leaf for b in spec.BLOCKS for leaf, _ in b.lists.values()),
    }
)


def scan_tags(reopen: Callable[[], IO[bytes]], name: str, from_line: int = 1) -> list[int]:
    """The lines, from ``from_line`` on, where a start tag ``<name`` (or ``<prefix:name``)
    begins, found by scanning the raw text a block at a time (nothing is parsed). A UTF-16 or
    UTF-32 file is decoded first (its encoding found from its first bytes)."""
    with reopen() as stream:
        encoding = detect_encoding(stream.read(4096), complete=False)
    wide = encoding.codec not in ("utf-8", "cp1252")
    tag = r"<(?:[A-Za-z_][\w.-]*:)?" + re.escape(name) + r"[\s/>]"
    pattern: re.Pattern[Any] = re.compile(tag if wide else tag.encode())
    newline: Any = "\n" if wide else b"\n"
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors="replace") if wide else None
    found: list[int] = []
    line = 1  # the line at the start of ``data``
    data: Any = "" if wide else b""
    with reopen() as stream:
        if wide:
            stream.read(encoding.bom)
        while True:
            block: Any = stream.read(1 << 20)
            ended = not block
            if decoder is not None:
                block = decoder.decode(block, final=ended)
            data += block
            # matches starting in the last 256 characters wait for the next block
            cut = len(data) if ended else max(0, len(data) - 256)
            last = 0
            for match in pattern.finditer(data, 0, len(data)):
                if match.start() >= cut:
                    break
                line += data.count(newline, last, match.start())
                last = match.start()
                if line >= from_line:
                    found.append(line)
            line += data.count(newline, last, cut)
            data = data[cut:]
            if ended:
                return found


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch is built.

    A batch is millions of small, acyclic objects; the collector would walk them again and
    again (a third of the reading time) and find nothing to free. Its previous state is
    restored on exit, and before every ``yield`` to the caller.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _localname(tag: Any) -> str:
    return str(tag).rpartition("}")[2]


class Parser:
    """Reads one CIN census file: ``header`` once the header has been read, then
    :meth:`batches` yields :class:`RawBatch` es of ``batch_size`` children.

    Problems of structure (DOCTYPE, wrong root, truncation, unexpected or repeated
    elements, a block from another year's shape) go to ``issues`` with their line.
    """

    def __init__(
        self,
        stream: IO[bytes],
        issues: Issues,
        *,
        batch_size: int = 5000,
        year: int | None = None,
        reopen: Callable[[], IO[bytes]] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self._stream = stream
        self._reopen = reopen
        self._issues = issues
        self._batch_size = batch_size
        self._year_override = year
        self.year = year  #: the collection year: the caller's, else the header's
        self.header = Header()
        self.children_read = 0
        self.refused = False  #: the file was refused whole (DOCTYPE, wrong root, not XML)
        # (block, why) -> [count, first line, first path]
        self._shape_seen: dict[tuple[str, str], list[Any]] = {}
        self._ns = ""
        self._child: _Compiled | None = None
        self._child_el: Any = None  # the <Child> being read
        self._container: Any = None  # the element holding the children (<Children>)
        self._container_path = ""
        self._counts: dict[Any, int] = {}  # elements of each name met in the container
        # the last line a <Child> / <CINdetails> read starts on, and how many read start there
        self._last: dict[str, list[int]] = {"Child": [0, 0], "CINdetails": [0, 0]}

    # ------------------------------------------------------------------ batches
    def empty_batch(self) -> RawBatch:
        """A batch without children (its tables have the right columns)."""
        return self._new_batch()

    def _new_batch(self) -> RawBatch:
        return RawBatch(
            tables={name: RawTable(name=name, fields=f) for name, f in _TABLE_FIELDS.items()}
        )

    def batches(self) -> Iterator[RawBatch]:
        """Raw batches of whole children, in file order."""
        context = iterparse(
            self._stream, events=("start", "end"), tag=("{*}Message", "{*}Header", "{*}Child")
        )
        batch = self._new_batch()
        size = self._batch_size
        in_batch = 0  # children in ``batch``
        started = False
        child_start: int | None = None
        child_tag = header_tag = ""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for event, el in context:
                if not started:
                    started = True
                    if not self._check_document(el):
                        return
                    child_tag, header_tag = self._ns + "Child", self._ns + "Header"
                tag = el.tag
                if event == "start":
                    # the outermost open child: a file cut inside "<ChildProtectionPlans" can
                    # show a "<Child" start within it, and the open episode must still count
                    if tag == child_tag and child_start is None:
                        child_start = el.sourceline
                    continue
                if tag == child_tag:
                    self._drop_before(el, el.getparent(), batch)
                    self._read_child(el, batch)
                    child_start = None
                    el.clear(keep_tail=False)
                    in_batch += 1
                    if in_batch >= size:
                        self._note(batch)
                        if was_enabled:
                            gc.enable()
                        # handed over, not kept: the caller may free it before asking for more
                        full, batch = [batch], self._new_batch()
                        yield full.pop()
                        was_enabled = gc.isenabled()
                        gc.disable()
                        in_batch = 0
                elif tag == header_tag:
                    self._read_header(el)
            if not started:
                self._check_document(None, context)
        except etree.XMLSyntaxError as exc:
            self._note(batch)
            self._syntax_error(exc, child_start)
        finally:
            if was_enabled:
                gc.enable()
            self._report_shapes()
        if batch.children:
            yield batch

    def _check_document(self, el: Any, context: Any = None) -> bool:
        """Refuse a DOCTYPE and a root other than ``Message``; learn the namespace, if any."""
        root = el.getroottree().getroot() if el is not None else getattr(context, "root", None)
        if root is None:
            self._issues.file_error(
                "the file holds no XML element; a CIN census file's root is <Message>"
            )
            self.refused = True
            return False
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            self._issues.file_error(
                "the file declares a DOCTYPE, which a CIN census file never has; it was refused "
                "unread so that no entity is expanded and nothing is fetched",
                line=1,
                value=docinfo.doctype or "<!DOCTYPE>",
                field="DOCTYPE",
            )
            self.refused = True
            self._lost(1, "the file was refused (it declares a DOCTYPE)")
            return False
        if _localname(root.tag) != "Message":
            self._issues.file_error(
                f"the root element is <{_localname(root.tag)}>; a CIN census file's root is "
                "<Message>",
                line=root.sourceline,
                path=f"/{_localname(root.tag)}",
                field="Message",
                value=_localname(root.tag),
            )
            self.refused = True
            self._lost(1, f"the file was refused (its root is <{_localname(root.tag)}>)")
            return False
        tag = str(root.tag)
        self._ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
        self._child = _compile(spec.CHILD, self._ns)
        return True

    def _drop_before(self, el: Any, parent: Any, batch: RawBatch) -> None:
        """Delete the siblings read before the ``Child`` ``el``, reporting (in file order)
        any that is not a ``Child``; count the elements of each name in ``parent``, whose
        earlier children are gone, so that ``el`` and those reported have their paths."""
        if parent is not self._container:
            self._container = parent
            self._container_path = element_path(parent)
            self._counts = {}
        counts = self._counts
        where = self._container_path
        if not batch.containers or batch.containers[-1] != where:
            batch.containers.append(where)
        child_tag = el.tag
        # a <Child> before ``el`` was read, and counted, when its end tag came
        while (first := parent[0]) is not el:
            if first.tag != child_tag:
                name = _localname(first.tag)
                k = counts[first.tag] = counts.get(first.tag, 0) + 1
                self._issues.structure(
                    "Children",
                    f"unexpected element <{name}> in <{_localname(parent.tag)}>; it was ignored",
                    line=first.sourceline,
                    path=f"{where}/{name}[{k}]",
                    field=name,
                )
            del parent[0]
        counts[child_tag] = counts.get(child_tag, 0) + 1

    def _syntax_error(self, exc: etree.XMLSyntaxError, child_start: int | None) -> None:
        line = exc.lineno or None
        column = exc.position[1] if line is not None else None  # lxml: (line, column)
        why = f"the file stops being well-formed at line {line}"
        if child_start is not None:
            children, episodes = self._lost(child_start, why)
            self._issues.file_error(
                "the XML stops being well-formed inside the <Child> starting at line "
                f"{child_start} ({exc.msg}); {self._progress()}; {children} <Child> "
                f"element(s) from line {child_start} on, with {episodes} episode(s) of need, "
                "could not be read",
                line=line,
                column=column,
            )
        else:
            self.refused = self.refused or (self.children_read == 0 and self.header.line is None)
            children, episodes = self._lost(line, why) if line is not None else (0, 0)
            self._issues.file_error(
                f"the file is not well-formed XML ({exc.msg}); reading stopped here; "
                f"{self._progress()}; {children} <Child> element(s) after it, with {episodes} "
                "episode(s) of need, could not be read",
                line=line,
                column=column,
            )

    def _progress(self) -> str:
        return f"{self.children_read} <Child> element(s) were read before it"

    def _lost(self, from_line: int, why: str) -> tuple[int, int]:
        """Report every episode of need (``<CINdetails>`` start tag) from ``from_line`` on that
        was not read (on ``from_line`` itself, those after the ones read there: a file may be
        one line), and count the ``<Child>`` elements and episodes lost. The text is scanned,
        not parsed: nothing is expanded or fetched. An episode lost is located by its line and
        its place among the file's episodes, ``(//CINdetails)[n]`` in XPath."""
        if self._reopen is None:
            return 0, 0
        lost: dict[str, list[tuple[int, int]]] = {}
        for name in ("Child", "CINdetails"):
            lines = scan_tags(self._reopen, name)
            last, read_there = self._last[name]
            first = bisect.bisect_left(lines, from_line) + (read_there if last == from_line else 0)
            lost[name] = list(enumerate(lines[first:], start=first + 1))
        for number, line in lost["CINdetails"]:
            self._issues.reject(
                "CINdetails",
                f"the episode of need at line {line} was not read: {why}",
                line=line,
                path=f"(//CINdetails)[{number}]",
            )
        return len(lost["Child"]), len(lost["CINdetails"])

    # ------------------------------------------------------------------ header
    def _read_header(self, el: Any) -> None:
        h = self.header
        h.line = el.sourceline
        h.path = element_path(el)
        sources = 0
        for part in el:
            name = _localname(part.tag)
            if name == "Source":
                sources += 1
                if sources > 1:
                    self._issues.structure(
                        "Header",
                        "a second <Source> in the header was ignored",
                        line=part.sourceline,
                        path=element_path(part),
                        field="Source",
                    )
                    continue
            elif name != "CollectionDetails":
                self._issues.structure(
                    "Header",
                    f"unexpected element <{name}> in <Header>; it was ignored",
                    line=part.sourceline,
                    path=element_path(part),
                    field=name,
                )
                continue
            for leaf in part:
                key = _localname(leaf.tag)
                if key not in spec.TABLES["Header"].fields:
                    self._issues.structure(
                        "Header",
                        f"unexpected element <{key}> in <{name}>; it was ignored",
                        line=leaf.sourceline,
                        path=element_path(leaf),
                        field=key,
                    )
                    continue
                h.values[key] = (leaf.text or "").strip()
                h.lines[key] = leaf.sourceline
                h.paths[key] = element_path(leaf)
        self._interpret_header()
        if self._year_override is None:
            h = self.header
            self.year = (
                h.year
                if h.year is not None
                else h.reference_date.year
                if h.reference_date
                else None
            )

    def _interpret_header(self) -> None:
        h = self.header
        year = h.values.get("Year")
        if year:
            try:
                h.year = int(year)
            except ValueError:
                self._issues.header(
                    "Year",
                    year,
                    h.at("Year"),
                    "is not a year (expected e.g. 2024 for 2023-24)",
                )
        ref = h.values.get("ReferenceDate")
        if ref:
            try:
                h.reference_date = dt.date.fromisoformat(ref)
            except ValueError:
                self._issues.header(
                    "ReferenceDate", ref, h.at("ReferenceDate"), "is not a date (YYYY-MM-DD)"
                )
        collection = h.values.get("Collection")
        if collection and collection != "CIN":
            self._issues.header(
                "Collection",
                collection,
                h.at("Collection"),
                "is not 'CIN'",
                severity="warning",
            )
        lea = h.values.get("LEA")
        if lea:
            if len(lea) == 3 and lea.isdigit():
                h.lea = lea
            else:
                self._issues.header(
                    "LEA", lea, h.at("LEA"), "is not a three-digit local authority code"
                )
        stated = h.reference_date
        if stated is not None:
            census_year = h.year if h.year is not None else stated.year + (stated.month >= 4)
            census_end = dt.date(census_year, 3, 31)
            if stated != census_end:  # the census year always ends on 31 March
                h.reference_date = census_end
                self._issues.header(
                    "ReferenceDate",
                    ref,
                    h.at("ReferenceDate"),
                    f"is not 31 March of the collection year {census_year} (DfE rule 100: "
                    f"Reference Date is incorrect); the census year used ends on {census_end}",
                )

    # ------------------------------------------------------------------ children
    def _read_child(self, el: Any, batch: RawBatch) -> None:
        assert self._child is not None
        tables = batch.tables
        self._child_el = el
        self._block(el, self._child, tables, len(batch.containers) - 1, self._counts[el.tag])
        self._child_el = None
        self.children_read += 1

    def _note(self, batch: RawBatch) -> None:
        """Count the ``Child`` and ``CINdetails`` elements of ``batch`` that start on the last
        line read so far (once a batch, looking back from its end: one row in a file of many
        lines), for :meth:`_lost`."""
        for name, last in self._last.items():
            table = batch.tables[name]
            rows = table.cells[table.width - 1 :: table.width]  # each row's line
            if not rows:
                continue
            line = rows[-1]
            count = 0
            for row_line in reversed(rows):
                if row_line != line:
                    break
                count += 1
            if line == last[0] and count == len(rows):  # the line goes on from the last batch
                last[1] += count
            else:
                last[0], last[1] = line, count

    def _path(self, el: Any) -> str:
        """The element path of ``el``, in the ``<Child>`` being read."""
        where, tag = self._container_path, self._child_el.tag
        prefix = f"{where}/Child[{self._counts[tag]}]"
        return element_path(el, repeated=REPEATED, within=self._child_el, prefix=prefix)

    def _who(self) -> str | None:
        """The ``LAchildID`` of the child being read, for an issue found in it."""
        if self._child_el is None:
            return None
        ns = self._ns
        found = self._child_el.findtext(f"{ns}ChildIdentifiers/{ns}LAchildID")
        return found.strip() or None if isinstance(found, str) else None

    def _structure(self, table: str, message: str, el: Any, **where: Any) -> None:
        """An element ``el`` out of place in the ``<Child>`` being read."""
        self._issues.structure(table, message, path=self._path(el), record=self._who(), **where)

    def _block(
        self,
        el: Any,
        comp: _Compiled,
        tables: dict[str, RawTable],
        parent: int | None,
        ordinal: int,
    ) -> None:
        """Read block ``el`` into a new row of its table, then its nested blocks into theirs.

        The hot loop of the reader (every element of the file passes here once): each leaf
        is looked up once by tag, and its text and line go straight into the row's slots.
        The row joins its table's cells once the block is read: its nested blocks are rows
        of other tables, which link to it by the index it is given here.
        """
        slot_of, n, blank, name, blocks, lists, width, required = comp.hot
        cells = tables[name].cells
        index = len(cells) // width
        row: list[Any] = [*blank, parent, ordinal, el.sourceline]
        counts: dict[str, int] = {}
        for sub in el:
            tag = sub.tag
            slot = slot_of(tag)
            if slot is not None:
                if not row[slot + n]:  # no line yet (0; None from lxml would not count)
                    row[slot] = sub.text  # None: present but empty (its line says it is there)
                    row[slot + n] = sub.sourceline
                else:
                    self._twice(el, sub, name)
                continue
            nested = blocks.get(tag)
            if nested is not None:
                sub_comp, sub_spec = nested
                k = counts[tag] = counts.get(tag, 0) + 1
                if k > 1 and tag in comp.once:
                    self._structure(
                        comp.table,
                        f"<{sub_spec.tag}> appears more than once in a <{_localname(el.tag)}>; "
                        "only the first was read",
                        sub,
                        line=sub.sourceline,
                        field=sub_spec.tag,
                    )
                    continue
                if sub_spec.first_year is not None:
                    self._shape(sub, sub_spec)
                self._block(sub, sub_comp, tables, index, k)
                continue
            container = lists.get(tag)
            if container is not None:
                k = counts[tag] = counts.get(tag, 0) + 1
                if k > 1:
                    self._structure(
                        comp.table,
                        f"<{_localname(tag)}> appears twice in a <{_localname(el.tag)}>; its "
                        "items were read as one list",
                        sub,
                        line=sub.sourceline,
                        field=_localname(tag),
                    )
                self._items(sub, container, tables, index)
                continue
            self._structure(
                comp.table,
                f"unexpected element <{_localname(tag)}> in <{_localname(el.tag)}>; it was ignored",
                sub,
                line=sub.sourceline,
                field=_localname(tag),
                value=sub.text if len(sub) == 0 else None,
            )
        cells += row
        for tag in required:
            if tag not in counts:
                self._issues.missing_block(
                    comp.table,
                    _localname(tag),
                    _localname(el.tag),
                    el.sourceline,
                    self._who(),
                    path=self._path(el),
                )

    def _items(
        self, sub: Any, container: tuple[str, str], tables: dict[str, RawTable], parent: int
    ) -> None:
        """Read the items of list ``sub`` (of block row ``parent``), one row each: ``(text,
        line, parent, ordinal, line)``."""
        leaf, table = container
        cells = tables[table].cells
        before = len(cells)
        k = 0
        for c in sub:
            if c.tag == leaf:
                k += 1
                line = c.sourceline
                cells += (c.text, line, parent, k, line)
            else:
                self._structure(
                    table,
                    f"unexpected element <{_localname(c.tag)}> in <{_localname(sub.tag)}>; "
                    "it was ignored",
                    c,
                    line=c.sourceline,
                    field=_localname(c.tag),
                )
        if len(cells) == before:
            self._empty_list(sub, leaf, table)

    def _twice(self, el: Any, sub: Any, table: str) -> None:
        """A second leaf ``sub`` of the same name in block ``el``: the first was kept."""
        tag = sub.tag
        self._structure(
            table,
            f"<{_localname(tag)}> appears twice in the <{_localname(el.tag)}> starting at line "
            f"{el.sourceline}; the first was kept",
            sub,
            line=sub.sourceline,
            field=_localname(tag),
            value=sub.text,
        )

    def _shape(self, sub: Any, sub_spec: spec.Block) -> None:
        """Count a block ``sub`` of a later year's shape than the file's (reported once)."""
        year = self.year
        assert sub_spec.first_year is not None
        if year is not None and year < sub_spec.first_year:
            seen = self._shape_seen.setdefault(
                (sub_spec.tag, str(sub_spec.first_year)), [0, sub.sourceline, None]
            )
            if seen[2] is None:
                seen[2] = self._path(sub)
            seen[0] += 1

    def _empty_list(self, el: Any, leaf: str, table: str) -> None:
        """A list container ``el`` without any ``leaf`` item."""
        self._structure(
            table,
            f"<{_localname(el.tag)}> is empty; the schema requires at least one "
            f"<{_localname(leaf)}>"
            + (" (use 21 when no factor was identified)" if table == "AssessmentFactors" else ""),
            el,
            line=el.sourceline,
            field=_localname(el.tag),
            action="kept",
        )

    def _report_shapes(self) -> None:
        for (block, first), (count, line, path) in sorted(self._shape_seen.items()):
            self._issues.structure(
                "CINdetails",
                f"<{block}> belongs to the CIN census from {first}, not {self.year}; "
                f"its {count} occurrence(s) were read as they are (first at line {line})",
                line=line,
                path=path,
                field=block,
                action="kept",
            )
