"""The error rule (docs/reference/errors.md): every public error class is defined in
``mns.errors`` and exported by ``mns``; bad arguments are TypeError/ValueError, bad data an
MnsError subclass worded one way."""

from __future__ import annotations

import importlib
import pkgutil

import pyarrow as pa
import pytest

import mns
import mns.errors
from mns import _tables


def _all_modules() -> list[str]:
    # every public module of the core, imported: an import error in one is a failure, not a
    # skip (private modules come with their packages; ``mns.__main__`` would run the command)
    names = [
        info.name for info in pkgutil.walk_packages(mns.__path__, "mns.") if "._" not in info.name
    ]
    for name in names:
        importlib.import_module(name)
    return names


def _subclasses(cls: type[BaseException]) -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_exception_mns_exports_is_defined_in_mns_errors() -> None:
    exported = [getattr(mns, name) for name in mns.__all__]
    errors = [e for e in exported if isinstance(e, type) and issubclass(e, BaseException)]
    assert errors, "mns exports its error classes"
    assert [e.__name__ for e in errors if e.__module__ != "mns.errors"] == []


def test_every_public_error_class_is_defined_in_mns_errors_and_exported() -> None:
    _all_modules()
    public = {c for c in _subclasses(mns.MnsError) if not c.__name__.startswith("_")}
    assert sorted(c.__qualname__ for c in public if c.__module__ != "mns.errors") == []
    defined = {
        getattr(mns.errors, name)
        for name in mns.errors.__all__
        if isinstance(getattr(mns.errors, name), type)
    }
    assert public <= defined | {mns.MnsError}
    assert sorted(c.__name__ for c in defined if c.__name__ not in mns.__all__) == []


def test_the_old_import_path_of_mapping_error_still_works() -> None:
    from mns.builtin.mapping import MappingError

    assert MappingError is mns.MappingError


def test_bad_arguments_are_type_or_value_errors_bad_data_an_mns_error() -> None:
    with pytest.raises(TypeError, match="cases must be a pyarrow Table"):
        _tables.materialise({"case_id": ["1"]}, "cases")
    with pytest.raises(TypeError, match="item 1 of the stream is a str"):
        list(_tables.stream([pa.record_batch({"a": [1]}), "x"], "cases"))
    with pytest.raises(mns.SchemaError, match="no record batches were given") as empty:
        _tables.materialise(iter([]), "cases")
    assert empty.value.item == "cases"
    with pytest.raises(mns.SchemaError) as missing:
        _tables.require(["case_id", "sex"], ["age", "sex", "area"], "cases", "add them")
    assert str(missing.value) == (
        "cases has no column 'age', 'area' (it has: case_id, sex); add them"
    )
    assert (missing.value.item, missing.value.field) == ("cases", "age")
