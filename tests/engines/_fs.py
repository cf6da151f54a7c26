"""A filesystem for the engine tests that records every file opened, and that exists only in
processes given its root: the data of a dataset on it cannot be read by a process started
without the environment variable (an external Dask scheduler), and any attempt is recorded.
Pickled by reference: every process imports this module."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

#: The environment variable holding the root folder of :class:`Rooted` filesystems.
ROOT_ENV = "MNS_TEST_DATA_ROOT"


class Rooted(pafs.FileSystemHandler):  # type: ignore[misc]  # pyarrow has no type hints
    """Paths relative to the folder named by :data:`ROOT_ENV` in the process using it.
    Every file opened is appended to ``log`` (``pid<TAB>path<TAB>ok|refused``); a process
    without the variable refuses every request, as a machine without the data would."""

    def __init__(self, log: str) -> None:
        self.log = log

    def __reduce__(self) -> tuple[Any, ...]:
        return (Rooted, (self.log,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rooted) and other.log == self.log

    def __hash__(self) -> int:
        return hash(self.log)

    def _inner(self, path: str, *, opening: bool) -> tuple[pafs.FileSystem, str]:
        root = os.environ.get(ROOT_ENV)
        if opening or root is None:
            with open(self.log, "a", encoding="utf-8") as out:
                out.write(f"{os.getpid()}\t{path}\t{'ok' if root else 'refused'}\n")
        if root is None:
            raise FileNotFoundError(f"{path}: this process has no {ROOT_ENV}")
        return pafs.LocalFileSystem(), str(Path(root) / path.lstrip("/"))

    # what pyarrow asks of a handler

    def get_type_name(self) -> str:
        return "mns-test-rooted"

    def normalize_path(self, path: str) -> str:
        return path

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        infos = []
        for path in paths:
            fs, inner = self._inner(path, opening=False)
            info = fs.get_file_info(inner)
            infos.append(pafs.FileInfo(path, info.type, size=info.size, mtime=info.mtime))
        return infos

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        fs, inner = self._inner(selector.base_dir, opening=False)
        found = fs.get_file_info(pafs.FileSelector(inner, recursive=selector.recursive))
        root = inner.rstrip("/")
        base = selector.base_dir.rstrip("/")
        return [
            pafs.FileInfo(base + i.path[len(root) :], i.type, size=i.size, mtime=i.mtime)
            for i in found
        ]

    def open_input_file(self, path: str) -> Any:
        fs, inner = self._inner(path, opening=True)
        return fs.open_input_file(inner)

    def open_input_stream(self, path: str) -> Any:
        fs, inner = self._inner(path, opening=True)
        return fs.open_input_stream(inner)

    def _read_only(self, *_: object) -> Any:
        raise OSError("the test filesystem is read-only")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _read_only
    delete_file = move = copy_file = open_output_stream = open_append_stream = _read_only


def rooted(log: Path) -> pafs.PyFileSystem:
    """A :class:`Rooted` filesystem recording into ``log``."""
    return pafs.PyFileSystem(Rooted(str(log)))


def opened(log: Path) -> list[tuple[int, str, str]]:
    """What was opened (or refused), in order: ``(pid, path, "ok" | "refused")``."""
    if not log.exists():
        return []
    rows = [line.split("\t") for line in log.read_text("utf-8").splitlines() if line]
    return [(int(pid), path, outcome) for pid, path, outcome in rows]
