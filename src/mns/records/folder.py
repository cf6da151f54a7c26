"""Output folders written whole or not at all, each with a manifest of what mns wrote.

Every folder mns writes (records from :func:`mns.write`, an audit from
``AuditResult.write``) goes through :func:`writing`:

- the files are written in a hidden sibling folder (``.<name>.mns-writing-<random>``) whose
  :data:`MANIFEST_FILE` says "incomplete" from the start, and renamed into place at the end,
  with the complete manifest (each file's name, size and SHA-256, mns's version) written last;
- replacing an earlier folder (``overwrite=True``) removes only the files its manifest lists:
  a file the user put there (``my_budget.csv``) survives, and a new file whose name is taken by
  a file mns did not write is refused before anything changes. While files are swapped the
  folder's manifest says "incomplete", so an interruption leaves a folder readers refuse;
- a folder equal to, or inside, a folder the records were read from is refused.

Readers call :func:`check` (``mns.read`` of a folder, ``mns report``): a folder without a
complete manifest, or whose files differ from it, is refused, naming what is missing.

A file mns writes alone (``report.html``, ``issues.csv``, a form, a plan) goes through
:func:`replacing`: written as a hidden temporary file in the same folder and renamed over the
target in one step, so the target is the old file or the new one, never half of one. When the
folder's complete manifest lists that file, the manifest is brought up to date with it.

Staging folders and temporary files are named ``.<name>.mns-writing-<pid>-<random>``. A write
killed before it finished (SIGKILL, a power cut) leaves one beside its target; the next write
of the same target removes those mns made whose process has ended, when they hold no
complete manifest (see :func:`stale`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from mns import errors
from mns.converters import describe_errors, make_json_converter
from mns.errors import MnsError

__all__ = [
    "MANIFEST_FILE",
    "Entry",
    "Manifest",
    "check",
    "manifest",
    "refuse_inside",
    "refuse_unfinished",
    "replacing",
    "stale",
    "writing",
]

#: The manifest every folder mns writes holds; written first as "incomplete", last as complete.
MANIFEST_FILE = "manifest.mns.json"
_STAGING = ".mns-writing-"
#: What follows ``.<name>`` in the name of a staging folder or temporary file mns made.
_STAGED = re.compile(r"\.mns-writing-(?P<pid>[0-9]+)-[0-9a-f]{8}")
#: A staging folder written from another computer is stale once unchanged for this long.
STALE_ELSEWHERE_SECONDS = 24 * 3600


@attrs.frozen(kw_only=True)
class Entry:
    """One file mns wrote: its name in the folder, size in bytes and SHA-256."""

    name: str
    size: int
    sha256: str


@attrs.frozen(kw_only=True)
class Writer:
    """The process writing a folder: its computer's name and process id."""

    host: str
    pid: int


@attrs.frozen(kw_only=True)
class Manifest:
    """What a folder holds: ``complete`` once every file is in place (then ``files`` lists
    them); while writing, ``pending`` names every file mns may have put there."""

    kind: str
    mns_version: str
    complete: bool
    files: tuple[Entry, ...] = ()
    pending: tuple[str, ...] = ()
    #: Which process is writing: set while staging only.
    writer: Writer | None = None

    @property
    def names(self) -> frozenset[str]:
        """Every file this manifest says mns wrote (or was writing)."""
        return frozenset({*(e.name for e in self.files), *self.pending, MANIFEST_FILE})


def _version() -> str:
    from mns._version import __version__

    return __version__


def _to_json(item: Manifest) -> str:
    data = {"mns_manifest": 1, **_JSON.unstructure(item)}
    data["pending"] = sorted(item.pending)
    if item.writer is None:
        del data["writer"]  # written while staging only
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def manifest(folder: str | Path) -> Manifest | None:
    """The manifest of ``folder``, or None when it has none; an unreadable one is an error."""
    file = Path(folder) / MANIFEST_FILE
    if not file.is_file():
        return None
    refused = "the folder is refused: write it again"
    try:
        data = json.loads(file.read_text("utf-8"))
    except ValueError as exc:
        raise MnsError(
            f"{file}: the manifest is not JSON ({exc}); {refused}", file=str(file)
        ) from exc
    if not isinstance(data, dict) or data.pop("mns_manifest", None) != 1:
        raise MnsError(
            f"{file}: not an mns manifest (no 'mns_manifest': 1); {refused}", file=str(file)
        )
    try:
        return _JSON.structure(data, Manifest)
    except Exception as exc:  # cattrs' grouped errors, in the file's own terms
        why = "; ".join(f"{p}: {m}" for p, m in describe_errors(exc, data, {}, "manifest"))
        raise MnsError(
            f"{file}: the manifest cannot be read ({why}); {refused}", file=str(file)
        ) from None


_JSON = make_json_converter()


def _entry(path: Path, name: str | None = None) -> Entry:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
            size += len(chunk)
        os.fsync(stream.fileno())  # on disk before the manifest says so
    return Entry(name=name or path.name, size=size, sha256=digest.hexdigest())


def check(folder: str | Path, kind: str | None = None) -> Manifest:
    """The complete manifest of ``folder``, every file it lists present with its size and
    checksum; otherwise :class:`mns.MnsError` saying what is missing or different."""
    path = Path(folder)
    found = manifest(path)
    what = f"an mns {kind} folder" if kind else "a folder mns wrote"
    if found is None:
        raise MnsError(
            f"{str(path)!r} has no {MANIFEST_FILE}, which {what} has once written whole: its "
            "writing did not finish, or an older mns wrote it; write it again (the files of "
            "a folder an older mns wrote can be read one by one, e.g. mns.read([...]))",
            file=str(path),
        )
    if not found.complete:
        raise MnsError(
            f"{str(path)!r} was not written whole ({MANIFEST_FILE} says 'incomplete': the "
            "writing was interrupted); write it again",
            file=str(path),
        )
    if kind is not None and found.kind != kind:
        raise MnsError(f"{str(path)!r} is an mns {found.kind} folder, not {what}", file=str(path))
    missing = [e.name for e in found.files if not (path / e.name).is_file()]
    changed = [
        e.name
        for e in found.files
        if e.name not in missing
        and ((path / e.name).stat().st_size != e.size or _digest(path / e.name) != e.sha256)
    ]
    if missing or changed:
        parts = []
        if missing:
            parts.append(f"missing: {', '.join(missing)}")
        if changed:
            parts.append(f"changed since mns wrote them: {', '.join(changed)}")
        raise MnsError(
            f"{str(path)!r} does not hold what its {MANIFEST_FILE} lists ({'; '.join(parts)}); "
            "write it again",
            file=str(path / (missing or changed)[0]),
        )
    return found


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def refuse_unfinished(file: str | Path) -> None:
    """Refuse a file of a folder whose writing did not finish (its manifest says incomplete
    and lists it): such a file may be cut short or belong to the earlier folder."""
    path = Path(file)
    if path.name.startswith(".") or path.name == MANIFEST_FILE:
        return
    found = manifest(path.parent)
    # a staging folder's manifest names no file yet: all of them are unfinished
    if found is not None and not found.complete and (not found.pending or path.name in found.names):
        check(path.parent)  # raises, saying the writing did not finish


def refuse_inside(folder: str | Path, inputs: Iterable[str | Path]) -> None:
    """Refuse to write ``folder`` when it is, or is inside, one of the folders ``inputs``
    (files stand for the folder holding them only when ``folder`` is that very folder)."""
    target = Path(folder).resolve()
    for given in inputs:
        path = Path(given)
        if not path.exists():
            continue
        base = path.resolve()
        if path.is_file():
            inside = target == base.parent
        else:
            inside = target == base or base in target.parents
        if inside:
            where = "the folder holding" if path.is_file() else "inside the folder"
            raise MnsError(
                f"will not write to {str(folder)!r}: it is {where} input {str(given)!r}, and "
                "writing there could replace or mix with the records read; choose a folder "
                "outside the inputs",
                file=str(folder),
            )


def _write_manifest(folder: Path, item: Manifest) -> None:
    """Replace ``folder``'s manifest in one step (a reader sees the old one or the new one)."""
    temporary = folder / f".{MANIFEST_FILE}.{secrets.token_hex(4)}"
    with temporary.open("w", encoding="utf-8") as stream:
        stream.write(_to_json(item))
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, folder / MANIFEST_FILE)
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _staging_path(target: Path) -> Path:
    """A new name beside ``target`` for its staging folder or temporary file."""
    return target.parent / f".{target.name}{_STAGING}{os.getpid()}-{secrets.token_hex(4)}"


def _ended(pid: int) -> bool:
    """Whether process ``pid`` of this computer has ended (False where that cannot be told)."""
    if os.name != "posix" or pid <= 0 or pid == os.getpid():
        return False  # on Windows os.kill(pid, 0) would end the process, not probe it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, run by someone else
        return False
    return False


def stale(target: str | Path) -> list[Path]:
    """The staging folders and temporary files an earlier write of ``target`` left beside it
    (killed before it finished): those of mns's naming whose process has ended (or, written
    from another computer, unchanged for :data:`STALE_ELSEWHERE_SECONDS`). A folder is
    stale only if it holds files alone and no complete manifest: a folder written whole is
    never taken for litter."""
    path = Path(target)
    prefix = f".{path.name}"
    if not path.parent.is_dir():
        return []
    found = []
    for item in sorted(path.parent.iterdir()):
        if not item.name.startswith(prefix):
            continue
        match = _STAGED.fullmatch(item.name, len(prefix))
        if match is None or item.is_symlink():
            continue
        pid = int(match["pid"])
        if item.is_file():
            if _ended(pid):
                found.append(item)
            continue
        if not item.is_dir() or any(not p.is_file() or p.is_symlink() for p in item.iterdir()):
            continue
        try:
            written = manifest(item)
        except MnsError:
            continue  # not a manifest mns could have written: leave it
        if written is not None and written.complete:
            continue
        host = written.writer.host if written is not None and written.writer else None
        if host in (None, socket.gethostname()):
            gone = _ended(pid)
        else:
            gone = time.time() - item.stat().st_mtime > STALE_ELSEWHERE_SECONDS
        if gone:
            found.append(item)
    return found


def _remove_stale(target: Path) -> None:
    for item in stale(target):
        if item.is_dir():
            shutil.rmtree(item, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                item.unlink()


def _listing(file: Path) -> Manifest | None:
    """The complete manifest of the folder holding ``file``, if it lists ``file``."""
    if file.name == MANIFEST_FILE:
        return None
    with contextlib.suppress(MnsError):  # a manifest mns cannot read: the folder is refused
        found = manifest(file.parent)
        if found is not None and found.complete and file.name in {e.name for e in found.files}:
            return found
    return None


@contextlib.contextmanager
def replacing(file: str | Path) -> Iterator[Path]:
    """Write one file whole or not at all: yields a temporary path beside ``file`` (same
    folder, hidden) to write to; on leaving the block it is flushed to disk and renamed over
    ``file`` in one step. An exception inside the block leaves ``file`` as it was.

    When ``file`` is one of the files a complete manifest of its folder lists (``mns report``
    writing ``report.html`` again), the manifest is updated with it, marked "incomplete"
    while the file is swapped."""
    target = Path(file)
    if target.is_symlink():
        target = target.resolve()  # replace the file the link points to, not the link
    if target.is_dir():
        raise MnsError(f"{str(target)!r} is a folder; give a file to write", file=str(target))
    _remove_stale(target)
    temporary = _staging_path(target)
    try:
        yield temporary
        with contextlib.suppress(OSError):  # keep the permissions of the file replaced
            shutil.copymode(target, temporary)
        listed = _listing(target)
        if listed is None:
            with temporary.open("rb") as stream:
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        else:
            entry = _entry(temporary, target.name)  # flushed to disk on the way
            names = tuple(sorted(listed.names - {MANIFEST_FILE}))
            _write_manifest(target.parent, attrs.evolve(listed, complete=False, pending=names))
            os.replace(temporary, target)
            files = tuple(entry if e.name == target.name else e for e in listed.files)
            _write_manifest(target.parent, attrs.evolve(listed, files=files))
        _sync_folder(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


@contextlib.contextmanager
def writing(
    folder: str | Path,
    *,
    kind: str,
    overwrite: bool = False,
    inputs: Iterable[str | Path] = (),
) -> Iterator[Path]:
    """Write a folder whole or not at all: yields a hidden staging folder to write the files
    in (flat: files only); on leaving the block they are put in place under ``folder`` with
    a complete manifest. An exception inside the block leaves ``folder`` as it was.

    A folder holding files is an error unless ``overwrite``; then only the files its
    manifest lists are replaced or removed, and a new file whose name is taken by a file mns
    did not write is refused, before anything changes."""
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise MnsError(f"{str(target)!r} is a file; give a folder to write to", file=str(target))
    refuse_inside(target, inputs)
    present = _visible(target) if target.is_dir() else []
    if present and not overwrite:
        raise MnsError(
            f"folder {str(target)!r} is not empty ({len(present)} files); "
            f"{errors.give('overwrite', 'True')} to replace what mns wrote there, or choose an "
            "empty folder",
            file=str(target),
        )
    earlier = manifest(target) if present else None
    ours = earlier.names if earlier is not None else frozenset()
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    staging = _staging_path(target)
    staging.mkdir()
    try:
        writer = Writer(host=socket.gethostname(), pid=os.getpid())
        started = Manifest(kind=kind, mns_version=_version(), complete=False, writer=writer)
        _write_manifest(staging, started)
        yield staging
        written = [p for p in _visible(staging) if p.name != MANIFEST_FILE]
        folders = [p.name for p in written if not p.is_file()]
        if folders:
            raise MnsError(f"mns writes files only, not folders: {', '.join(folders)}")
        entries = tuple(_entry(p) for p in written)
        complete = Manifest(kind=kind, mns_version=_version(), complete=True, files=entries)
        if not target.exists() or not any(target.iterdir()):
            _write_manifest(staging, complete)
            if target.is_dir():
                target.rmdir()  # empty: the staging folder takes its place
            os.replace(staging, target)
            _sync_folder(target.parent)
            return
        taken = sorted(e.name for e in entries if (target / e.name).exists() and e.name not in ours)
        if taken:
            raise MnsError(
                f"will not replace {', '.join(taken)} in {str(target)!r}: mns did not write "
                f"{'it' if len(taken) == 1 else 'them'} (not in the folder's {MANIFEST_FILE}); "
                "move them away or choose another folder",
                file=str(target / taken[0]),
            )
        new = {e.name for e in entries}
        swapping = Manifest(
            kind=kind,
            mns_version=_version(),
            complete=False,
            pending=tuple(sorted((ours | new) - {MANIFEST_FILE})),
        )
        _write_manifest(target, swapping)  # from here until the end, readers refuse it
        for name in sorted(ours - new - {MANIFEST_FILE}):
            old = target / name
            if old.is_file() or old.is_symlink():
                old.unlink()
        for entry in entries:
            os.replace(staging / entry.name, target / entry.name)
        _write_manifest(target, complete)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
