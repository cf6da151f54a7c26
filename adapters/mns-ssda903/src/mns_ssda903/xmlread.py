"""Reading the XML form of the 903 return, one ``CHILD`` at a time.

``EXPSSDA903/CHILD``: the child's own fields in ``CHILD/HEADER`` (``CHILDID``, ``SEX``,
``DOB``, ``ETHNIC``, ``UPN``, ``MOTHER``, ``MC_DOB``; ``UASC``/``DUC``; the care leaver's
``IN_TOUCH``/``ACTIV``/``ACCOM``; the adoption fields of AD1), its repeated blocks in
``HEADER`` (``AREVIEW``, ``AMISSING``, ``OC2``, ``PERMANENCE``, ``AD_PLACED``) and its
episodes in ``CHILD/EPISODE`` (placement in ``PL``). The parser expands no entity, loads no
DTD, fetches nothing; a DOCTYPE refuses the file.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from mns.plugins import Source
from mns.records.issues import IssueLog
from mns_ssda903 import spec
from mns_ssda903.raw import RawTable

__all__ = ["read_xml", "sniff_xml"]

_HEADER_TABLES = ("Header", "UASC", "OC3", "AD1")


def sniff_xml(head: bytes) -> bool:
    """Whether ``head`` starts a 903 XML file."""
    return b"<EXPSSDA903" in head or (b"<CHILD>" in head and b"<CHILDID>" in head)


def _local(tag: Any) -> str:
    return str(tag).rpartition("}")[2]


def _leaves(el: Any) -> dict[str, tuple[str | None, int]]:
    """The leaf children of ``el``: name -> (text, line)."""
    return {_local(c.tag): (c.text, c.sourceline) for c in el if len(c) == 0}


def _child(el: Any, name: str, tables: dict[str, RawTable], log: IssueLog) -> None:
    header = next((c for c in el if _local(c.tag) == "HEADER"), None)
    fields = _leaves(header) if header is not None else {}
    if "CHILDID" in fields:
        fields["CHILD"] = fields.pop("CHILDID")
    child_id, _ = fields.get("CHILD", (None, 0))
    dob, _ = fields.get("DOB", (None, 0))
    line = header.sourceline if header is not None else el.sourceline
    base = {"CHILD": child_id, "DOB": dob, "SEX": fields.get("SEX", (None, 0))[0]}
    tables["Header"].append({k: v for k, (v, _) in fields.items()}, source=name, line=line)
    uasc = (fields.get("UASC", (None, 0))[0] or "").strip()
    if uasc in ("1", "true", "TRUE") or fields.get("DUC", (None, 0))[0]:
        tables["UASC"].append(
            {**base, "DUC": fields.get("DUC", (None, 0))[0]}, source=name, line=line
        )
    if any(fields.get(k, (None, 0))[0] for k in ("IN_TOUCH", "ACTIV", "ACCOM")):
        tables["OC3"].append(
            {**base, **{k: v for k, (v, _) in fields.items()}}, source=name, line=line
        )
    if fields.get("DATE_INT", (None, 0))[0]:
        tables["AD1"].append(
            {**base, **{k: v for k, (v, _) in fields.items()}}, source=name, line=line
        )
    blocks = [
        *(header if header is not None else []),
        *(c for c in el if _local(c.tag) != "HEADER"),
    ]
    for block in blocks:
        tag = _local(block.tag)
        table = spec.XML_BLOCKS.get(tag)
        if table is None:
            if len(block) and tag not in ("HEADER",):
                log.warning(
                    f"unexpected element <{tag}> in <CHILD>; it was ignored",
                    line=block.sourceline,
                    field=tag,
                    action="blanked",
                )
            continue
        values = {k: v for k, (v, _) in _leaves(block).items()}
        if table == "Episodes" and "PL" in values:
            values["PLACE"] = values.pop("PL")
        tables[table].append({**base, **values}, source=name, line=block.sourceline)


def read_xml(source: Source, log: IssueLog) -> dict[str, RawTable]:
    """Every table of one 903 XML file."""
    tables = {name: RawTable.empty(name) for name in spec.TABLES}
    with source.open() as stream:
        context = etree.iterparse(
            stream,
            events=("end",),
            tag=("{*}CHILD",),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        checked = False
        try:
            for _, el in context:
                if not checked:
                    root = el.getroottree()
                    info = root.docinfo
                    if info.doctype or info.internalDTD is not None:
                        log.error(
                            "the file declares a DOCTYPE, which a 903 file never has; it was "
                            "refused unread",
                            line=1,
                            field="DOCTYPE",
                            action="rejected",
                            table="file",
                        )
                        return tables
                    if _local(root.getroot().tag) != "EXPSSDA903":
                        log.warning(
                            f"the root element is <{_local(root.getroot().tag)}>, not "
                            "<EXPSSDA903>; "
                            "its <CHILD> elements were read",
                            line=root.getroot().sourceline,
                            field=_local(root.getroot().tag),
                        )
                    checked = True
                parent = el.getparent()
                if parent is not None and _local(parent.tag) == "CHILD":
                    continue  # a CHILD element inside a CHILD is a field, not a child
                _child(el, source.name, tables, log)
                el.clear(keep_tail=False)
                while el.getprevious() is not None and parent is not None:
                    del parent[0]
        except etree.XMLSyntaxError as exc:
            log.error(
                f"the file is not well-formed XML ({exc.msg}); reading stopped at line "
                f"{exc.lineno}",
                line=exc.lineno or None,
                action="rejected",
                table="file",
            )
        if not checked:
            root_el = getattr(context, "root", None)
            if root_el is not None and _local(root_el.tag) != "EXPSSDA903":
                log.error(
                    f"the root element is <{_local(root_el.tag)}>; a 903 file's root is "
                    "<EXPSSDA903>",
                    line=root_el.sourceline,
                    field=_local(root_el.tag),
                    action="rejected",
                    table="file",
                )
    return tables
