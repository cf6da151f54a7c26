"""The adapter author's fixture, used by these tests as an adapter package would use it."""

from mns.testing import plugin_manager

__all__ = ["plugin_manager"]
