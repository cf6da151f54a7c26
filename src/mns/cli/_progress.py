"""A progress bar for long reads that needs nothing from the adapters: the files are handed
to ``mns.read`` as sources whose streams count the bytes read, and the bar follows them."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

import click

from mns.plugins.adapter import Source

__all__ = ["read_progress"]


class _Counted(io.BufferedIOBase):
    """A binary stream that reports the furthest position read to ``seen``."""

    def __init__(self, raw: IO[bytes], seen: Callable[[int], None]) -> None:
        super().__init__()
        self._raw = raw
        self._seen = seen

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def _report(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._seen(self._raw.tell())

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(-1 if size is None else size)
        self._report()
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._report()
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        data = self._raw.readline(-1 if size is None else size)
        self._report()
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.close()
        super().close()


class _Tracker:
    def __init__(self, bar: Any, total: int) -> None:
        self.bar = bar
        self.total = total
        self.furthest: dict[str, int] = {}
        self.shown = 0

    def seen(self, name: str, position: int) -> None:
        if position <= self.furthest.get(name, 0):
            return
        self.furthest[name] = position
        done = min(self.total, sum(self.furthest.values()))
        if done > self.shown:
            self.bar.update(done - self.shown)
            self.shown = done


def _wrap(source: Source, tracker: _Tracker) -> Source:
    def opener() -> IO[bytes]:
        return _Counted(source.open(), lambda pos: tracker.seen(source.name, pos))  # type: ignore[return-value]

    return Source(name=source.name, opener=opener, path=source.path)


def _size(source: Source) -> int:
    if source.path is not None:
        with contextlib.suppress(OSError):
            return source.path.stat().st_size
    return 0


@contextlib.contextmanager
def read_progress(
    files: Sequence[Source], *, label: str, show: bool
) -> Iterator[tuple[Source, ...]]:
    """``files`` wrapped so that reading them moves a progress bar on stderr (when ``show``)."""
    total = sum(_size(f) for f in files)
    if not show or total == 0:
        yield tuple(files)
        return
    stream = sys.stderr
    with click.progressbar(length=total, label=label, file=stream, show_pos=False) as bar:
        tracker = _Tracker(bar, total)
        yield tuple(_wrap(f, tracker) for f in files)
        bar.update(total - tracker.shown)
