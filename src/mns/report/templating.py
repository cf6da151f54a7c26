"""The Jinja2 environment of mns's HTML pages (the report and the printable audit forms).

Templates are package data (``<package>/templates/*.html``) and every ``{{ value }}`` is
escaped on output. Trusted fragments (inline SVG from matplotlib, parts rendered by another
template) are :class:`markupsafe.Markup` where they are made and pass through unchanged;
nothing else can switch escaping off (no ``|safe`` in the templates: a test checks).
"""

from __future__ import annotations

import html
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

__all__ = ["escape", "render", "template_module"]


def escape(value: object) -> Markup:
    """``value`` escaped for HTML text or a quoted attribute (Markup passes unchanged)."""
    # html.escape's entities (&#x27;, &quot;), as the pages have always been written
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))  # noqa: S704 (escaped just now)


@cache
def _environment(package: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        finalize=escape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(package: str, name: str, **context: Any) -> Markup:
    """The template ``name`` of ``package`` rendered with ``context`` (escaped output)."""
    text = _environment(package).get_template(name).render(**context)
    return Markup(text)  # noqa: S704 (the output of an autoescaping template)


def template_module(package: str, name: str) -> Any:
    """The macros of the template ``name`` of ``package`` (each returns escaped Markup)."""
    return _environment(package).get_template(name).module
