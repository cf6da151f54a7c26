"""Plugins: adapters for record systems, found through pluggy and the ``mns`` entry-point group."""

from mns.plugins.adapter import Adapter, Option, Source
from mns.plugins.hookspec import hookimpl

__all__ = ["Adapter", "Option", "Source", "hookimpl"]
