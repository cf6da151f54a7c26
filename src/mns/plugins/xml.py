"""XML read safely and in pieces: one hardened ``iterparse`` for every adapter (needs lxml,
which the XML adapters install).

Entities are never expanded, no DTD is loaded and nothing is fetched; comments and
processing instructions are dropped. The file is fed in chunks to lxml's pull parser, so
that when it stops being well-formed every element parsed before the break is still given
(lxml 6.2's own ``iterparse`` raises before handing over the events of the chunk it was
parsing, and a small file is one chunk: a truncated return would lose every record).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO, Any, Literal

__all__ = ["iterparse"]

CHUNK = 1 << 16  #: bytes fed to the parser at a time
Event = Literal["start", "end", "start-ns", "end-ns", "comment", "pi"]


class iterparse:  # noqa: N801 - named and used as lxml's function it replaces
    """``(event, element)`` pairs of ``stream`` (a binary file) for ``events`` of the
    elements named in ``tag``, like ``lxml.etree.iterparse`` with the safe options. An
    ``lxml.etree.XMLSyntaxError`` is raised after every event before the break; ``root`` is
    the root element once the whole file is read."""

    def __init__(
        self,
        stream: IO[bytes],
        *,
        events: Sequence[Event] = ("end",),
        tag: str | Sequence[str] | None = None,
    ) -> None:
        from lxml import etree

        self._stream = stream
        self._parser = etree.XMLPullParser(
            events=tuple(events),
            tag=tag,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        self.root: Any = None

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        from lxml import etree

        parser = self._parser
        while data := self._stream.read(CHUNK):
            try:
                parser.feed(data)
            except etree.XMLSyntaxError:
                yield from parser.read_events()  # what was parsed before the break
                raise
            yield from parser.read_events()
        # at the end a file cut short fails here; the events closing it are the parser's
        # own repair (elements the file never closed), so they are not given
        self.root = parser.close()
        yield from parser.read_events()
