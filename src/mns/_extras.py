"""The optional extras: which libraries each feature beyond the core needs, and the one-line
error that names the extra to install when they are missing.

The core (``import mns``, reading, classifying, the analyses, disclosure control) needs only
its required dependencies; the report, the audit forms, the command line and workbooks pull
theirs through ``mns[report]``, ``mns[forms]``, ``mns[cli]``, ``mns[xlsx]`` (or ``mns[all]``).
"""

from __future__ import annotations

import importlib

from mns.errors import MissingExtraError

__all__ = ["EXTRAS", "require"]

#: The modules each extra provides (pyproject.toml's optional dependencies, by import name).
EXTRAS: dict[str, tuple[str, ...]] = {
    "report": ("matplotlib", "jinja2", "markupsafe", "openpyxl"),
    "forms": ("openpyxl", "jinja2", "markupsafe"),
    "cli": ("click",),
    "xlsx": ("openpyxl",),
}


def _imports(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def require(extra: str, feature: str) -> None:
    """Raise :class:`mns.errors.MissingExtraError` naming ``extra`` unless every library it
    provides imports; ``feature`` says what needs them (``"the report"``)."""
    missing = [module for module in EXTRAS[extra] if not _imports(module)]
    if missing:
        raise MissingExtraError(
            f"{feature} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
            f"not installed: pip install 'mns[{extra}]'",
            extra=extra,
        )
