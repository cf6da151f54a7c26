"""Reading a report back with the standard library: its sections and the cells of its tables."""

from __future__ import annotations

from html.parser import HTMLParser

import attrs


@attrs.define
class Cell:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@attrs.define
class Page:
    """What a report holds: section ids and headings, tables by id, ids, scripts, links."""

    sections: dict[str, str] = attrs.field(factory=dict)
    tables: dict[str, list[list[Cell]]] = attrs.field(factory=dict)
    ids: list[str] = attrs.field(factory=list)
    tags: dict[str, int] = attrs.field(factory=dict)
    urls: list[str] = attrs.field(factory=list)
    text: str = ""


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.section: str | None = None
        self.in_h2 = False
        self.table: str | None = None
        self.row: list[Cell] | None = None
        self.cell: Cell | None = None
        self.in_head = False
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attributes}
        self.page.tags[tag] = self.page.tags.get(tag, 0) + 1
        if "id" in found:
            self.page.ids.append(found["id"])
        for key in ("href", "src", "xlink:href"):
            if key in found and not found[key].startswith("#"):
                self.page.urls.append(found[key])
        if tag == "section":
            self.section = found.get("id", "")
        elif tag == "h2" and self.section is not None:
            self.in_h2 = True
            self.page.sections[self.section] = ""
        elif tag == "table" and "id" in found:
            self.table = found["id"]
            self.page.tables[self.table] = []
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr" and self.table and not self.in_head:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = Cell(tag=tag, attrs=found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self.in_h2 = False
        elif tag == "section":
            self.section = None
        elif tag == "table":
            self.table = None
        elif tag == "thead":
            self.in_head = False
        elif tag == "tr" and self.row is not None and self.table:
            self.page.tables[self.table].append(self.row)
            self.row = None
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.cell.text = self.cell.text.strip()
            self.row.append(self.cell)
            self.cell = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self.in_h2 and self.section is not None:
            self.page.sections[self.section] += data
        if self.cell is not None:
            self.cell.text += data


def parse(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    parser.page.text = " ".join(" ".join(parser.texts).split())
    return parser.page


def column(page: Page, table: str, name: str) -> list[Cell]:
    """The cells of one column (by ``data-column``) of a report table, in row order."""
    out = []
    for row in page.tables[table]:
        found = [c for c in row if c.attrs.get("data-column") == name]
        assert len(found) == 1, f"{table}: row has {len(found)} cells of column {name!r}"
        out.append(found[0])
    return out


def cells_with_origin(html: str) -> list[dict[str, str]]:
    """The attributes of every element that names the published cell it shows."""
    found: list[dict[str, str]] = []

    class Cells(HTMLParser):
        def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
            values = {k: v or "" for k, v in attributes}
            if "data-table" in values:
                found.append(values)

    Cells().feed(html)
    return found
