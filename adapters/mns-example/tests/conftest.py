"""mns's fixture for adapter tests: a fresh plugin manager per test."""

from mns.testing import plugin_manager

__all__ = ["plugin_manager"]
