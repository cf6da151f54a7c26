"""How the commands that read records read them: the options they share (``--adapter``,
``--option``, ``--mapping``, ``--year``, ``--key-file``, ``--postcode``, ``--strict``), adapter
options converted and checked against what the adapter declares, and messages that name
the command line's flags rather than ``mns.read``'s keywords."""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from mns.cli._common import EXIT_INPUT, EXIT_ISSUES, say, shows_progress
from mns.errors import MnsError

if TYPE_CHECKING:
    from mns.plugins.adapter import Adapter, Option, Source
    from mns.records.bundle import Records

__all__ = [
    "Reading",
    "cli_spelling",
    "dataset_folder",
    "exit_after_reading",
    "option_flag",
    "option_type",
    "records_folder",
    "source_options",
    "type_name",
]

_POSTCODE = {"district": "district", "sector": "sector", "keep": None}
#: The flag that gives each option of ``mns.read`` or of an adapter, where there is one.
_FLAGS = {
    "adapter": "--adapter NAME",
    "pseudonymise": "--key-file FILE (a file holding the secret key)",
    "overwrite": "--overwrite",
    "mapping": "--mapping FILE",
    "year": "--year YEAR",
    "postcode": "--postcode",
    "strict": "--strict",
    "engine": "--engine NAME",
    "workers": "--workers N",
    "timeout": "--engine-timeout SECONDS",
}
_TRUE = ("true", "yes", "y", "1", "on")
_FALSE = ("false", "no", "n", "0", "off")
_KINDS = {int: "a whole number", float: "a number", bool: "true or false", dt.date: "a date"}


def cli_spelling(option: str, value: str, to: str | None) -> str:
    """How to give ``option`` on the command line (:func:`mns.errors.give` under the CLI)."""
    if option in _FLAGS:
        return f"give {_FLAGS[option]}"
    return f"give -o {option}={value.strip(chr(39))}"


def option_type(option: Option) -> type:
    """The type an adapter option's text is converted to."""
    if option.type is not None:
        return option.type
    return type(option.default) if option.default is not None else str


def type_name(option: Option) -> str:
    """What an adapter option's value is, for people (``whole number``, ``date``...)."""
    names = {str: "text", int: "whole number", float: "number", bool: "true/false"}
    names |= {Path: "file", dt.date: "date YYYY-MM-DD"}
    kind = option_type(option)
    return names.get(kind, kind.__name__)


#: Adapter options with a flag of their own.
_OWN_FLAGS = {"mapping": "--mapping", "year": "--year"}


def option_flag(name: str) -> str:
    """How an adapter option is given on the command line: ``--year YEAR``, ``-o la=...``."""
    own = {"mapping": "--mapping FILE", "year": "--year YEAR"}
    return own.get(name, f"-o {name}=...")


@attrs.frozen
class Given:
    """An adapter option as given on the command line: its text and the flag that gave it."""

    text: str
    flag: str


def _convert(option: Option, given: Given, adapter: Adapter) -> Any:
    kind = option_type(option)
    raw = given.text
    try:
        if kind is bool:
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ValueError(raw)
        if kind is dt.date:
            return dt.date.fromisoformat(raw)
        if kind is Path:
            path = Path(raw)
            if not path.exists():
                raise click.BadParameter(
                    f"{raw!r}: no such file (adapter {adapter.name!r}: {option.description})",
                    param_hint=f"'{given.flag}'",
                )
            return path
        return kind(raw)
    except ValueError:
        wanted = _KINDS.get(kind, kind.__name__)
        example = " as YYYY-MM-DD" if kind is dt.date else ""
        raise click.BadParameter(
            f"{option.name}={raw!r} is not {wanted}{example} (adapter {adapter.name!r}: "
            f"{option.description})",
            param_hint=f"'{given.flag}'",
        ) from None


def adapter_options(adapter: Adapter, given: Mapping[str, Given]) -> dict[str, Any]:
    """``given`` (option name -> what the command line gave) converted to the types
    ``adapter`` declares; an option it does not take is a usage error listing those it does."""
    declared = {o.name: o for o in adapter.options}
    options: dict[str, Any] = {}
    for name, raw in given.items():
        option = declared.get(name)
        if option is None:
            takes = ", ".join(option_flag(o) for o in declared) or "no options"
            what = "a collection year" if name == "year" else f"the option {name!r}"
            raise click.BadParameter(
                f"adapter {adapter.name!r} does not take {what}; it takes {takes} "
                "(see `mns adapters`)",
                param_hint=f"'{raw.flag}'",
            )
        options[name] = _convert(option, raw, adapter)
    return options


def _options_for_several(readers: Sequence[Adapter], given: Mapping[str, Given]) -> dict[str, Any]:
    """``given`` converted for a read shared by several adapters: each option as the first
    adapter taking it declares it; an option none of them takes is a usage error."""
    options: dict[str, Any] = {}
    for name, raw in given.items():
        takers = [a for a in readers if any(o.name == name for o in a.options)]
        if not takers:
            names = ", ".join(repr(a.name) for a in readers)
            raise click.BadParameter(
                f"none of the adapters reading these files ({names}) takes the option "
                f"{name!r} (see `mns adapters`)",
                param_hint=f"'{raw.flag}'",
            )
        options |= adapter_options(takers[0], {name: raw})
    return options


def _pairs(pairs: Sequence[str]) -> dict[str, Given]:
    given: dict[str, Given] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise click.BadParameter(
                f"{pair!r} is not NAME=VALUE (e.g. -o year=2024)", param_hint="'-o' / '--option'"
            )
        given[key] = Given(raw.strip(), f"-o {key}")
    return given


def records_folder(path: str | Path) -> bool:
    """Whether ``path`` holds mns's own tables (a folder ``mns read --out`` wrote, or Parquet
    files): read as they are, whatever adapter and options the other sources need."""
    from mns.records.provenance import PROVENANCE_FILE

    p = Path(path)
    if p.is_dir():
        files = [f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")]
        return (p / PROVENANCE_FILE).is_file() or (
            bool(files) and all(f.suffix.lower() == ".parquet" for f in files)
        )
    return p.suffix.lower() == ".parquet"


def _key(key_file: Path | None) -> str | None:
    if key_file is None:
        return None
    key = key_file.read_text("utf-8").strip()
    if len(key) < 16:
        raise MnsError(
            f"{key_file}: the pseudonymisation key is {len(key)} characters; use a secret of "
            "at least 16 characters (e.g. `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`)",
            file=str(key_file),
        )
    return key


@attrs.frozen(kw_only=True)
class Reading:
    """How a command reads its records: the options every reading command takes."""

    adapter: str | None = None
    adapter_options: Sequence[str] = ()
    mapping: Path | None = None
    year: int | None = None
    strict: bool = False
    key_file: Path | None = None
    postcode: str = "district"
    link: bool = False

    def given(self) -> dict[str, Given]:
        """The adapter options given, by name (``--mapping`` and ``--year`` too)."""
        given = _pairs(self.adapter_options)
        if self.mapping is not None:
            given["mapping"] = Given(str(self.mapping), _OWN_FLAGS["mapping"])
        if self.year is not None:
            given["year"] = Given(str(self.year), _OWN_FLAGS["year"])
        return given

    def choose(
        self, paths: Sequence[str | Path], files: Sequence[Source]
    ) -> tuple[str | None, dict[str, Any]]:
        """The adapter named for ``paths`` (None: ``mns.read`` chooses one per file) and the
        options, converted to the types the adapters reading them declare, and checked."""
        from mns.dispatch import assign, choose
        from mns.plugins import manager
        from mns.records.issues import IssueLog

        given = self.given()
        adapters = manager.adapters()
        if paths and all(records_folder(p) for p in paths):
            canonical = choose(files, adapters, "canonical")
            taken = {o.name for o in canonical.options}
            left = sorted(set(given) - taken)
            if left or (self.adapter not in (None, "canonical")):
                shown = ", ".join(given[n].flag for n in left) or f"--adapter {self.adapter}"
                say(
                    f"note: {', '.join(map(str, paths))} holds mns's own tables: read as they "
                    f"are ({shown} not applied to reading them)"
                )
            kept = {k: v for k, v in given.items() if k in taken}
            return canonical.name, adapter_options(canonical, kept)
        named = self.adapter or ("mapping" if self.mapping is not None else None)
        if named is not None:
            chosen = choose(files, adapters, named)
            return named, adapter_options(chosen, given)
        if not given:
            return None, {}
        # the adapters mns.read will give the files to (a folder may mix record systems)
        readers = [adapter for adapter, _ in assign(files, adapters, None, given, IssueLog())]
        if len(readers) == 1:
            return None, adapter_options(readers[0], given)
        return None, _options_for_several(readers, given)

    def arguments(self, paths: Sequence[str | Path], files: Sequence[Source]) -> dict[str, Any]:
        """The keyword arguments of ``mns.read`` (and ``mns.convert``) for ``paths``: the
        adapter, ``strict``, ``pseudonymise``, ``postcode`` and the adapter's options."""
        chosen, options = self.choose(paths, files)
        return {
            "adapter": chosen,
            "strict": self.strict,
            "pseudonymise": _key(self.key_file),
            "postcode": _POSTCODE[self.postcode],
            **options,
        }

    def read(self, paths: Sequence[str | Path], *, label: str = "reading") -> Records:
        """Read ``paths`` with ``mns.read`` and these options, with a progress bar; the
        files no adapter recognises are named on stderr (they are issues too, and not read);
        with ``link``, one child's records are then linked (:func:`mns.link`)."""
        from mns.cli._progress import read_progress
        from mns.dispatch import left_out
        from mns.io import read, sources

        files = sources(list(paths))
        arguments = self.arguments(paths, files)
        with read_progress(files, label=label, show=shows_progress()) as counted:
            records: Records = read(list(counted), **arguments)
        if not records.provenance.files:
            # e.g. a folder mns.write wrote: its provenance is the original read's; record the
            # files this read took the records from, with their checksums
            from mns.records.bundle import SourceFile

            read_files = tuple(
                SourceFile(name=f.name, sha256=_sha256(f), size=_size(f)) for f in files
            )
            provenance = attrs.evolve(records.provenance, files=read_files)
            records = attrs.evolve(records, provenance=provenance)
        skipped = left_out(records.issues)
        if skipped:
            say(
                f"note: {len(skipped)} file(s) not read, no adapter recognises them (listed in "
                f"the issues): {', '.join(skipped)}"
            )
        if self.link:
            from mns.linking import link

            records = link(records)
        return records

    def read_cases(self, paths: Sequence[str | Path], *, label: str = "reading") -> Records:
        """:meth:`read`, failing with a clear message when no cases were read, or when a file
        could not be read (refused whole by its adapter, or read only in part): an analysis
        of the rest alone would mislead. Files no adapter recognises are only named."""
        from mns.cli.records import unread_files

        if any(dataset_folder(p) for p in paths):
            records = self.read_datasets(paths)
        else:
            records = self.read(paths, label=label)
        require_cases(records, paths)
        unread = unread_files(records.issues)
        if unread:
            raise MnsError(
                f"{len(unread)} file(s) could not be read (whole or in part): "
                f"{', '.join(unread)}; `mns read` them to see why, or leave them out",
                file=unread[0],
            )
        return records

    def read_datasets(self, paths: Sequence[str | Path]) -> Records:
        """The cases of partitioned Parquet datasets (:func:`dataset_folder`): each opened
        with ``mns.engines.dataset`` as the canonical ``cases`` table (partition folders
        become columns), then read as mns's own tables are (checks, privacy rules); the
        provenance lists the datasets' files with their checksums."""
        import pyarrow.parquet as pq

        from mns.engines import dataset
        from mns.io import read
        from mns.plugins.adapter import Source
        from mns.records.bundle import SourceFile

        mixed = [str(p) for p in paths if not dataset_folder(p)]
        if mixed:
            raise MnsError(
                f"{', '.join(map(str, paths))}: give partitioned Parquet datasets (folders of "
                f"name=value folders) on their own, not with other records ({', '.join(mixed)})",
                file=mixed[0],
            )
        unused = sorted(self.given())
        if unused or self.adapter not in (None, "canonical"):
            shown = ", ".join(self.given()[n].flag for n in unused) or f"--adapter {self.adapter}"
            say(
                f"note: partitioned datasets hold mns's own cases: read as they are ({shown} "
                "not applied to reading them)"
            )
        files: list[Source] = []
        listed: list[SourceFile] = []
        for path in paths:
            data = dataset(path, table="cases")
            in_memory = io.BytesIO()  # read back by the canonical adapter: checks and privacy
            pq.write_table(data.to_table(), in_memory)
            files.append(Source.from_bytes(f"{path}/cases.parquet", in_memory.getvalue()))
            listed += [
                SourceFile(name=f, sha256=_sha256(Source.from_path(f)), size=Path(f).stat().st_size)
                for f in data.files
            ]
        records: Records = read(
            files,
            adapter="canonical",
            strict=self.strict,
            pseudonymise=_key(self.key_file),
            postcode=_POSTCODE[self.postcode],
        )
        provenance = attrs.evolve(records.provenance, files=tuple(listed))
        return attrs.evolve(records, provenance=provenance)


def dataset_folder(path: str | Path) -> bool:
    """Whether ``path`` is a partitioned Parquet dataset: a folder of ``name=value`` folders
    (hive partitions, as Spark, Dask and ``pyarrow.dataset.write_dataset`` write them)."""
    p = Path(path)
    if not p.is_dir() or records_folder(p):
        return False
    return any(
        child.is_dir() and "=" in child.name and not child.name.startswith((".", "_"))
        for child in p.iterdir()
    )


def source_options(f: Any) -> Any:
    """The options every command that reads records takes, given to it as ``reading``."""

    @functools.wraps(f)
    def command(
        *args: Any,
        adapter: str | None,
        adapter_options: tuple[str, ...],
        mapping: Path | None,
        year: int | None,
        strict: bool,
        key_file: Path | None,
        postcode: str,
        link: bool,
        **kwargs: Any,
    ) -> Any:
        reading = Reading(
            link=link,
            adapter=adapter,
            adapter_options=adapter_options,
            mapping=mapping,
            year=year,
            strict=strict,
            key_file=key_file,
            postcode=postcode,
        )
        return f(*args, reading=reading, **kwargs)

    wrapped: Any = command
    for decorator in reversed(
        [
            click.option(
                "--adapter",
                "-a",
                metavar="NAME",
                help="The adapter to read with (default: chosen by file suffix, then content; "
                "see `mns adapters`).",
            ),
            click.option(
                "--mapping",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="Read a case-management export (CSV or XLSX) through this mapping file "
                "(the mapping adapter; see docs/reference/mapping-files.md).",
            ),
            click.option(
                "--year",
                type=click.IntRange(1990, 2100),
                metavar="YEAR",
                help="The collection year (2024 = 2023-24) of statutory returns read "
                "(default: what the files say); for `mns form workbook`, also of the form's "
                "indicators.",
            ),
            click.option(
                "--option",
                "-o",
                "adapter_options",
                multiple=True,
                metavar="NAME=VALUE",
                help="Another option of the adapter (repeatable; `mns adapters` lists them).",
            ),
            click.option(
                "--strict",
                is_flag=True,
                help="Stop at the first record with an error instead of listing it in the issues.",
            ),
            click.option(
                "--key-file",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="Pseudonymise identifiers with the secret key kept in this file.",
            ),
            click.option(
                "--postcode",
                type=click.Choice(list(_POSTCODE)),
                default="district",
                show_default=True,
                help="Coarsen postcodes to the district or sector, or keep them as read.",
            ),
            click.option(
                "--link",
                is_flag=True,
                help="Make one case of each child's records across the returns and agencies "
                "read (by child id; read them with one --key-file), as mns.link does.",
            ),
        ]
    ):
        wrapped = decorator(wrapped)
    return wrapped


def _sha256(source: Source) -> str:
    import hashlib

    digest = hashlib.sha256()
    with source.open() as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _size(source: Source) -> int:
    if source.path is not None:
        return source.path.stat().st_size
    with source.open() as stream:
        return len(stream.read())


def require_cases(records: Records, paths: Sequence[str | Path]) -> None:
    """Raise a clear error when a read gave no cases (naming the first issue, if any)."""
    if records.cases.num_rows:
        return
    from mns.records.issues import describe

    names = ", ".join(str(p) for p in paths)
    hint = ""
    if records.issues.num_rows:
        hint = f"; the first problem met: {describe(records.issues.slice(0, 1).to_pylist()[0])}"
    raise MnsError(f"no cases were read from {names}{hint}", file=str(paths[0]) if paths else None)


def exit_after_reading(unread: Sequence[str], errors: int, *, fail_on_errors: bool) -> None:
    """End ``mns read`` or ``mns convert`` as a script expects: exit 1 naming the files that
    could not be read (the records of the others are kept, and written), else 3 when a record
    had an error and ``--fail-on-errors`` was given."""
    if unread:
        click.echo(
            f"mns: error: {len(unread)} file(s) could not be read (whole or in part): "
            f"{', '.join(unread)}; see the problems above",
            err=True,
        )
        raise click.exceptions.Exit(EXIT_INPUT)
    if fail_on_errors and errors:
        raise click.exceptions.Exit(EXIT_ISSUES)
