"""The plugin manager: built-ins, entry points, failure isolation, duplicates, MNS_AUTOLOAD."""

from __future__ import annotations

import importlib.metadata
import sys
import types
from collections.abc import Iterator

import pytest

import mns
from mns.plugins.manager import Manager, PluginWarning, _autoload_setting, adapters


def _plugin(name: str, *adapters: mns.Adapter) -> types.ModuleType:
    module = types.ModuleType(name)

    @mns.hookimpl
    def mns_adapters() -> Iterator[mns.Adapter]:
        yield from adapters

    module.mns_adapters = mns_adapters  # type: ignore[attr-defined]
    return module


def _adapter(name: str, **kw: object) -> mns.Adapter:
    def read(sources: object, options: object) -> mns.Records:
        return mns.Records(provenance=mns.Provenance())

    return mns.Adapter(name=name, description=f"the {name} format", read=read, **kw)  # type: ignore[arg-type]


def test_builtin_adapters_come_through_the_hook(plugin_manager: Manager) -> None:
    found = {a.name: a.plugin for a in adapters()}
    assert found == {"audit-form": "builtin", "canonical": "builtin", "mapping": "builtin"}
    assert [a.name for a in plugin_manager.adapters()] == sorted(found)


def test_mns_adapters_lists_the_installed_adapters(plugin_manager: Manager) -> None:
    import mns.builtin  # importing the built-ins' module must not shadow the function

    assert mns.adapters() == plugin_manager.adapters()


def test_a_registered_plugin_is_used_by_read(plugin_manager: Manager, tmp_path: object) -> None:
    plugin_manager.add(_plugin("acme", _adapter("acme", suffixes=(".acme",))))
    assert {a.name: a.plugin for a in adapters()}["acme"] == "acme"
    assert plugin_manager.adapter("acme").suffixes == (".acme",)
    with pytest.raises(mns.AdapterError, match="did you mean 'acme'"):
        plugin_manager.adapter("acmee")


def test_duplicate_names_are_an_error_naming_every_provider(plugin_manager: Manager) -> None:
    plugin_manager.add(_plugin("one", _adapter("acme")))
    plugin_manager.add(_plugin("two", _adapter("acme")))
    with pytest.raises(mns.AdapterError, match="'acme' is provided by plugins 'one', 'two'"):
        adapters()
    plugin_manager.add(_plugin("three", _adapter("canonical")))
    with pytest.raises(
        mns.AdapterError, match="'canonical' is provided by plugins 'builtin', 'three'"
    ):
        adapters()


def test_a_misspelled_hook_fails_check_pending_and_is_isolated(plugin_manager: Manager) -> None:
    module = types.ModuleType("typo")

    @mns.hookimpl
    def mns_adapter() -> Iterator[mns.Adapter]:  # missing the final 's'
        yield _adapter("typo")

    module.mns_adapter = mns_adapter  # type: ignore[attr-defined]
    with pytest.warns(PluginWarning, match="typo"):
        assert not plugin_manager.add(module)
    (failure,) = plugin_manager.failures()
    assert failure.plugin == "typo"
    assert "mns_adapter" in failure.error
    assert [a.name for a in adapters()] == ["audit-form", "canonical", "mapping"]


def test_a_hook_that_raises_or_yields_junk_is_left_out(plugin_manager: Manager) -> None:
    bad = types.ModuleType("bad")

    @mns.hookimpl
    def mns_adapters() -> Iterator[object]:
        yield {"name": "dict-adapter"}

    bad.mns_adapters = mns_adapters  # type: ignore[attr-defined]
    plugin_manager.add(bad)
    plugin_manager.add(_plugin("good", _adapter("good")))
    with pytest.warns(PluginWarning, match=r"yield mns.Adapter"):
        names = [a.name for a in adapters()]
    assert names == ["audit-form", "canonical", "good", "mapping"]
    assert [f.plugin for f in plugin_manager.failures()] == ["bad"]


def test_an_entry_point_that_fails_to_import_is_warned_about_and_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = _plugin("fake_good_plugin", _adapter("fake-good"))
    monkeypatch.setitem(sys.modules, "fake_good_plugin", good)
    points = [
        importlib.metadata.EntryPoint(
            name="broken", value="no_such_module_for_mns_tests", group="mns"
        ),
        importlib.metadata.EntryPoint(name="fine", value="fake_good_plugin", group="mns"),
    ]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: points)
    with pytest.warns(PluginWarning, match=r"'broken'.*failed to load"):
        manager = Manager(autoload=True)
    assert [a.name for a in manager.adapters()] == [
        "audit-form",
        "canonical",
        "fake-good",
        "mapping",
    ]
    (failure,) = manager.failures()
    assert (failure.plugin, failure.target) == ("broken", "no_such_module_for_mns_tests")
    assert failure.error.startswith("ModuleNotFoundError")
    # the allow-list loads only what it names
    assert [a.name for a in Manager(autoload=frozenset({"fine"})).adapters()] == [
        "audit-form",
        "canonical",
        "fake-good",
        "mapping",
    ]
    assert [a.name for a in Manager(autoload=False).adapters()] == [
        "audit-form",
        "canonical",
        "mapping",
    ]


def test_the_real_entry_point_of_an_installed_adapter_is_found() -> None:
    names = {ep.name for ep in importlib.metadata.entry_points(group="mns")}
    assert "northwick" in names, "adapters/mns-example is not installed (make install does it)"
    manager = Manager(autoload=True)
    assert {a.name: a.plugin for a in manager.adapters()}["northwick"] == "northwick"


def test_autoload_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _autoload_setting(None) is True
    assert _autoload_setting("1") is True
    assert _autoload_setting("0") is False
    assert _autoload_setting("northwick, acme") == frozenset({"northwick", "acme"})
    monkeypatch.setenv("MNS_AUTOLOAD", "0")
    loaded: list[object] = []
    monkeypatch.setattr(Manager, "load_entry_points", lambda self, names=None: loaded.append(names))
    Manager()
    assert loaded == []
    monkeypatch.setenv("MNS_AUTOLOAD", "northwick")
    Manager()
    assert loaded == [frozenset({"northwick"})]


def test_adapter_records_validate_themselves() -> None:
    with pytest.raises(ValueError, match=r"taken by mns.read"):
        _adapter("acme", options=(mns.Option(name="strict", description="no"),))
    with pytest.raises(ValueError, match="not canonical tables"):
        _adapter("acme", tables=("cases", "children"))
    assert _adapter("acme", suffixes=("ACME", ".x")).suffixes == (".acme", ".x")
