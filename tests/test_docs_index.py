"""Every documentation page is reachable from docs/index.md, and every link there resolves."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_index_links_every_page_and_nothing_missing() -> None:
    index = (DOCS / "index.md").read_text("utf-8")
    linked = {DOCS / target for target in re.findall(r"\]\(([^)#]+\.md)\)", index)}
    pages = {p for p in DOCS.rglob("*.md") if p.name != "index.md"}
    assert sorted(str(p) for p in linked - pages) == []
    assert sorted(str(p.relative_to(DOCS)) for p in pages - linked) == []
