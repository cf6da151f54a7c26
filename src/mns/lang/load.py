"""Reading and writing language and crosswalk files, and the shipped languages."""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias

import tomli_w

from mns.converters import describe_errors, make_converter, read_toml
from mns.errors import LanguageError
from mns.lang.model import Crosswalk, Language, unknown

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "LanguageSource",
    "crosswalk",
    "crosswalk_from_dict",
    "crosswalks",
    "dump_crosswalk",
    "dump_language",
    "language",
    "language_from_dict",
    "languages",
    "load_crosswalk",
    "load_language",
]

#: What names a language: a shipped language's name, a language file, or a Language.
LanguageSource: TypeAlias = "str | Path | Language"

_CONVERTER = make_converter()
_LANGUAGE_SECTIONS = {"dimensions": "dimension", "indicators": "indicator"}
_CROSSWALK_SECTIONS = {"mappings": "mapping"}


def _split(
    raw: Mapping[str, Any], head: str, sections: Mapping[str, str], file: str
) -> dict[str, Any]:
    """Fold ``[head]`` and its ``[[section]]`` arrays into one dict shaped like the class."""
    allowed = {head, *sections.values()}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise LanguageError(
            f"{file}: unknown top-level key {', '.join(map(repr, extra))}; "
            f"allowed are {', '.join(map(repr, sorted(allowed)))}",
            file=file,
        )
    if not isinstance(raw.get(head), dict):
        raise LanguageError(f"{file}: missing the [{head}] table", file=file)
    data = dict(raw[head])
    for field, section in sections.items():
        if section in data:
            raise LanguageError(
                f"{file}: put {section!r} entries in [[{section}]] arrays", file=file
            )
        data[field] = raw.get(section, [])
    return data


def _structure(
    data: Mapping[str, Any],
    cls: type[Any],
    raw: Mapping[str, Any],
    sections: Mapping[str, str],
    file: str,
) -> Any:
    head = cls.__name__.lower()
    try:
        return _CONVERTER.structure(data, cls)
    except Exception as exc:
        places = describe_errors(exc, raw, sections, head)
        lines = "\n".join(f"  {place}: {message}" for place, message in places)
        first_place = places[0][0] if places else None
        raise LanguageError(
            f"{file}: invalid {head}:\n{lines}", file=file, item=first_place
        ) from None


def language_from_dict(raw: Mapping[str, Any], file: str = "<dict>") -> Language:
    """Build a :class:`Language` from the TOML-shaped mapping ``raw``."""
    data = _split(raw, "language", _LANGUAGE_SECTIONS, file)
    result: Language = _structure(data, Language, raw, _LANGUAGE_SECTIONS, file)
    return result


def crosswalk_from_dict(raw: Mapping[str, Any], file: str = "<dict>") -> Crosswalk:
    """Build a :class:`Crosswalk` from the TOML-shaped mapping ``raw``."""
    data = _split(raw, "crosswalk", _CROSSWALK_SECTIONS, file)
    result: Crosswalk = _structure(data, Crosswalk, raw, _CROSSWALK_SECTIONS, file)
    return result


def load_language(path: str | Path) -> Language:
    """Read a user's own language file (TOML in the shape of the shipped ones)."""
    path = Path(path)
    return language_from_dict(read_toml(path, LanguageError), str(path))


def load_crosswalk(path: str | Path) -> Crosswalk:
    """Read a user's own crosswalk file."""
    path = Path(path)
    return crosswalk_from_dict(read_toml(path, LanguageError), str(path))


def _to_toml(obj: Any, head: str, sections: Mapping[str, str]) -> str:
    data = _CONVERTER.unstructure(obj)
    doc: dict[str, Any] = {head: {k: v for k, v in data.items() if k not in sections}}
    for field, section in sections.items():
        if data.get(field):
            doc[section] = data[field]
    return tomli_w.dumps(_drop_none(doc))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


def dump_language(language: Language) -> str:
    """The TOML text of ``language`` (reads back equal with :func:`language_from_dict`)."""
    return _to_toml(language, "language", _LANGUAGE_SECTIONS)


def dump_crosswalk(crosswalk: Crosswalk) -> str:
    """The TOML text of ``crosswalk``."""
    return _to_toml(crosswalk, "crosswalk", _CROSSWALK_SECTIONS)


def _data_files() -> dict[str, Any]:
    folder = resources.files("mns.lang") / "data"
    return {f.name: f for f in folder.iterdir() if f.name.endswith(".toml")}


def _shipped_names() -> tuple[str, ...]:
    return tuple(sorted(n[: -len(".toml")] for n in _data_files() if "__" not in n))


@functools.cache
def _shipped_language(name: str) -> Language:
    file = _data_files()[f"{name}.toml"]
    return language_from_dict(tomllib.loads(file.read_text("utf-8")), f"mns/lang/data/{file.name}")


@functools.cache
def _shipped_crosswalk(source: str, target: str) -> Crosswalk:
    file = _data_files()[f"{source}__{target}.toml"]
    return crosswalk_from_dict(tomllib.loads(file.read_text("utf-8")), f"mns/lang/data/{file.name}")


def languages() -> tuple[str, ...]:
    """Names of the shipped languages, sorted."""
    return _shipped_names()


def language(name: LanguageSource) -> Language:
    """A shipped language by name (``"cin"``, ``"ssda903"``, ``"af2000"``, ``"mns"``), a path
    to a user's language file, or a :class:`Language` passed through."""
    if isinstance(name, Language):
        return name
    if isinstance(name, Path) or str(name).endswith(".toml"):
        return load_language(name)
    if name not in _shipped_names():
        raise unknown("language", str(name), _shipped_names(), "the shipped languages")
    return _shipped_language(str(name))


def crosswalks() -> tuple[tuple[str, str], ...]:
    """``(source, target)`` pairs of the shipped crosswalks, sorted."""
    pairs = (n[: -len(".toml")].split("__") for n in _data_files() if "__" in n)
    return tuple(sorted((a, b) for a, b in pairs))


def crosswalk(source: str, target: str) -> Crosswalk:
    """The shipped crosswalk from ``source`` to ``target``."""
    if (source, target) not in crosswalks():
        names = [f"{a}->{b}" for a, b in crosswalks()]
        raise unknown("crosswalk", f"{source}->{target}", names, "the shipped crosswalks")
    return _shipped_crosswalk(source, target)
