"""Fresh plugin managers for the output tests."""

from mns.testing import plugin_manager

__all__ = ["plugin_manager"]
