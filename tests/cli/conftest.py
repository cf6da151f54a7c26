"""Every CLI test runs with a fresh plugin manager, the built-in adapters only (``manager``);
a module that needs other plugins defines its own ``manager``."""

from __future__ import annotations

import pytest

from mns.plugins.manager import Manager
from mns.testing import plugin_manager  # noqa: F401  (a pytest fixture)


@pytest.fixture(autouse=True)
def manager(plugin_manager: Manager) -> Manager:  # noqa: F811  (the fixture imported above)
    return plugin_manager
