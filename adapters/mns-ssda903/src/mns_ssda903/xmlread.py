"""Reading the XML form of the 903 return, one ``CHILD`` at a time.

``EXPSSDA903/CHILD``: the child's own fields in ``CHILD/HEADER`` (``CHILDID``, ``SEX``,
``DOB``, ``ETHNIC``, ``UPN``, ``MOTHER``, ``MC_DOB``; ``UASC``/``DUC``; the care leaver's
``IN_TOUCH``/``ACTIV``/``ACCOM``; the adoption fields of AD1), its repeated blocks in
``HEADER`` (``AREVIEW``, ``AMISSING``, ``OC2``, ``PERMANENCE``, ``AD_PLACED``) and its
episodes in ``CHILD/EPISODE`` (placement in ``PL``). The parser expands no entity, loads no
DTD, fetches nothing; a DOCTYPE refuses the file, whether or not it holds any child.

Nothing is lost without a count: a field given twice in one element keeps its first value
and reports the other; a file that is cut short or malformed reports where reading stopped,
and each ``<CHILD>`` that starts after the last one read is a rejected record, located by
its line and its place among the file's children (``(//CHILD)[7]``).

Every row keeps the element path of the element it was read from
(``/EXPSSDA903/CHILD[3]/EPISODE[2]``), so that its issues say where they are even when the
whole file is one line.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from mns.plugins import Source, iterparse
from mns.records.issues import IssueLog, element_path
from mns_ssda903 import spec
from mns_ssda903.raw import BASE, RawRows, RawTable

__all__ = ["read_xml", "sniff_xml"]

_CHILD_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?CHILD[\s/>]")
#: elements that may repeat in their parent: their paths always number them
_REPEATED = frozenset({"CHILD", *spec.XML_BLOCKS})


def sniff_xml(head: bytes) -> bool:
    """Whether ``head`` starts a 903 XML file."""
    return b"<EXPSSDA903" in head or (b"<CHILD>" in head and b"<CHILDID>" in head)


def _local(tag: Any) -> str:
    return str(tag).rpartition("}")[2]


class _Child:
    """Reads one ``<CHILD>`` element into the tables' rows."""

    def __init__(self, name: str, tables: dict[str, RawRows], log: IssueLog, path: str) -> None:
        self.name, self.tables, self.log = name, tables, log
        self.path = path  # the element path of this <CHILD>
        self.el: Any = None  # the <CHILD> element, while it is read
        self.child: str | None = None

    def where(self, el: Any) -> str:
        """The element path of ``el``, in this ``<CHILD>``."""
        return element_path(el, repeated=_REPEATED, within=self.el, prefix=self.path)

    def leaves(self, el: Any) -> dict[str, str | None]:
        """The leaf children of ``el``: name -> text (the first, when one is given twice)."""
        found: dict[str, tuple[str | None, int]] = {}
        for c in el:
            if len(c):
                continue
            tag = _local(c.tag)
            if tag in found:
                first, line = found[tag]
                differs = (first or "").strip() != (c.text or "").strip()
                self.log.add(
                    "error" if differs else "warning",
                    "blanked",
                    f"<{tag}> is given twice in <{_local(el.tag)}> (lines {line} and "
                    f"{c.sourceline}); the first, {first!r}, was read and the second ignored",
                    line=c.sourceline,
                    path=self.where(c),
                    field=tag,
                    value=c.text,
                    record=self.child,
                )
                continue
            found[tag] = (c.text, c.sourceline)
        return {k: v for k, (v, _) in found.items()}

    def read(self, el: Any) -> None:
        self.el = el
        parts = [(_local(c.tag), c) for c in el]
        headers = [c for name, c in parts if name == "HEADER"]
        header = headers[0] if headers else None
        if header is not None:
            ids = [c.text for c in header if _local(c.tag) == "CHILDID" and not len(c)]
            self.child = ids[0] if ids else None
        fields = self.leaves(header) if header is not None else {}
        if "CHILDID" in fields:
            fields["CHILD"] = fields.pop("CHILDID")
        line = header.sourceline if header is not None else el.sourceline
        at = (
            self.path
            if header is None
            else f"{self.path}/HEADER"
            if len(headers) == 1
            else f"{self.path}/HEADER[1]"
        )
        base = {k: fields.get(k) for k in BASE}
        self.tables["Header"].append(fields, source=self.name, line=line, path=at)
        uasc = (fields.get("UASC") or "").strip()
        if uasc in ("1", "true", "TRUE") or fields.get("DUC"):
            self.tables["UASC"].append(
                {**base, "DUC": fields.get("DUC")}, source=self.name, line=line, path=at
            )
        if any(fields.get(k) for k in ("IN_TOUCH", "ACTIV", "ACCOM")):
            self.tables["OC3"].append({**base, **fields}, source=self.name, line=line, path=at)
        if fields.get("DATE_INT"):
            self.tables["AD1"].append({**base, **fields}, source=self.name, line=line, path=at)
        blocks = [
            *((at, c) for c in (header if header is not None else ())),
            *((self.path, c) for name, c in parts if name != "HEADER"),
        ]
        seen: dict[tuple[str, str], int] = {}  # blocks of each name met in each parent
        for parent, block in blocks:
            tag = _local(block.tag)
            table = spec.XML_BLOCKS.get(tag)
            if table is None:
                if len(block) and tag != "HEADER":
                    self.log.warning(
                        f"unexpected element <{tag}> in <CHILD>; it was ignored",
                        line=block.sourceline,
                        path=self.where(block),
                        field=tag,
                        action="blanked",
                        record=self.child,
                    )
                continue
            # the path counted here, not walked: every block of the return has one
            k = seen[parent, tag] = seen.get((parent, tag), 0) + 1
            values = self.leaves(block)
            if table == "Episodes" and "PL" in values:
                values["PLACE"] = values.pop("PL")
            self.tables[table].append(
                {**base, **values},
                source=self.name,
                line=block.sourceline,
                path=f"{parent}/{tag}[{k}]",
            )


def _refuse_doctype(root: Any, log: IssueLog) -> bool:
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        log.error(
            "the file declares a DOCTYPE, which a 903 file never has; it was refused unread",
            line=1,
            field="DOCTYPE",
            action="rejected",
            table="file",
        )
        return True
    return False


def _lost_children(data: bytes, seen: int, stopped: int | None, log: IssueLog) -> None:
    """Reject each ``<CHILD>`` after the first ``seen`` (which were read): one issue each, on
    the line it starts, with ``row`` its place among the file's children (several may share
    a line), and ``(//CHILD)[n]`` its path."""
    for number, match in enumerate(list(_CHILD_TAG.finditer(data))[seen:], start=seen + 1):
        log.error(
            f"<CHILD> number {number} could not be read: the file is cut short or malformed "
            f"before its end (reading stopped at line {stopped})",
            line=data.count(b"\n", 0, match.start()) + 1,
            row=number,
            path=f"(//CHILD)[{number}]",
            field="CHILD",
            action="rejected",
            table="Header",
        )


def read_xml(source: Source, log: IssueLog) -> dict[str, RawTable]:
    """Every table of one 903 XML file."""
    rows = {name: RawRows(name) for name in spec.TABLES}
    seen = 0  # <CHILD> elements read whole (or skipped as fields)
    container: Any = None  # the element holding the children, its path and their count
    where, count = "", 0
    with source.open() as stream:
        context = iterparse(stream, events=("end",), tag=("{*}CHILD",))
        checked = False
        try:
            for _, el in context:
                if not checked:
                    root = el.getroottree().getroot()
                    if _refuse_doctype(root, log):
                        return {name: RawRows(name).table() for name in spec.TABLES}
                    if _local(root.tag) != "EXPSSDA903":
                        log.warning(
                            f"the root element is <{_local(root.tag)}>, not <EXPSSDA903>; its "
                            "<CHILD> elements were read",
                            line=root.sourceline,
                            path=f"/{_local(root.tag)}",
                            field=_local(root.tag),
                        )
                    checked = True
                seen += 1
                parent = el.getparent()
                if parent is not None and _local(parent.tag) == "CHILD":
                    continue  # a CHILD element inside a CHILD is a field, not a child
                if parent is not container:
                    container, where, count = parent, element_path(parent), 0
                count += 1
                _Child(source.name, rows, log, f"{where}/CHILD[{count}]").read(el)
                el.clear(keep_tail=False)
                while el.getprevious() is not None and parent is not None:
                    del parent[0]
        except etree.XMLSyntaxError as exc:
            log.error(
                f"the file is not well-formed XML ({exc.msg}); reading stopped at line "
                f"{exc.lineno}",
                line=exc.lineno or None,
                column=str(exc.position[1]) if exc.lineno and exc.position[1] else None,
                action="kept",
                table="file",
            )
            with source.open() as again:
                _lost_children(again.read(), seen, exc.lineno, log)
        if not checked:
            root_el = getattr(context, "root", None)
            if root_el is not None and not _refuse_doctype(root_el, log):
                if _local(root_el.tag) != "EXPSSDA903":
                    log.error(
                        f"the root element is <{_local(root_el.tag)}>; a 903 file's root is "
                        "<EXPSSDA903>",
                        line=root_el.sourceline,
                        path=f"/{_local(root_el.tag)}",
                        field=_local(root_el.tag),
                        action="rejected",
                        table="file",
                    )
                else:
                    log.warning(
                        "the file holds no <CHILD>: no child was read from it",
                        line=root_el.sourceline,
                        field="CHILD",
                        table="file",
                    )
    return {name: r.table() for name, r in rows.items()}
