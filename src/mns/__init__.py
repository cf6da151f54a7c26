"""mns: Matching Needs and Services for children's services.

Find out which children a service works with, group them by need, plan the outcomes,
services and thresholds each group needs, and check what is provided against it.

``import mns`` is cheap: names are imported from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> "module:attribute" (or "module" for a submodule)
_EXPORTS = {
    # errors
    "MnsError": "mns.errors:MnsError",
    "LanguageError": "mns.errors:LanguageError",
    "UnknownCodeError": "mns.errors:UnknownCodeError",
    "PlanError": "mns.errors:PlanError",
    "RuleError": "mns.errors:RuleError",
    "SchemaError": "mns.errors:SchemaError",
    "RecordError": "mns.errors:RecordError",
    "AdapterError": "mns.errors:AdapterError",
    # the common language of need
    "language": "mns.lang:language",
    "languages": "mns.lang:languages",
    "crosswalk": "mns.lang:crosswalk",
    "crosswalks": "mns.lang:crosswalks",
    "load_language": "mns.lang:load_language",
    "load_crosswalk": "mns.lang:load_crosswalk",
    "Language": "mns.lang:Language",
    "Dimension": "mns.lang:Dimension",
    "Indicator": "mns.lang:Indicator",
    "Crosswalk": "mns.lang:Crosswalk",
    "lang": "mns.lang",
    # plans
    "load_plan": "mns.plan:load_plan",
    "save_plan": "mns.plan:save_plan",
    "Plan": "mns.plan:Plan",
    "Cluster": "mns.plan:Cluster",
    "NeedGroup": "mns.plan:NeedGroup",
    "Outcome": "mns.plan:Outcome",
    "Service": "mns.plan:Service",
    # records
    "Case": "mns.records.model:Case",
    "ServiceEpisode": "mns.records.model:ServiceEpisode",
    "OutcomeRecord": "mns.records.model:OutcomeRecord",
    "Assignment": "mns.records.model:Assignment",
    "Audit": "mns.records.model:Audit",
    "Cohort": "mns.records.model:Cohort",
    "Role": "mns.records.model:Role",
    "Records": "mns.records.bundle:Records",
    "Provenance": "mns.records.bundle:Provenance",
    "schema": "mns.records.schema",
    "read": "mns.records.io:read",
    "write": "mns.records.io:write",
    # plugins
    "Adapter": "mns.plugins:Adapter",
    "Option": "mns.plugins:Option",
    "Source": "mns.plugins:Source",
    "hookimpl": "mns.plugins:hookimpl",
    "adapters": "mns.plugins.manager:adapters",
    # rules and classification
    "parse_rule": "mns.rules:parse",
    "classify": "mns.classify:classify",
    "explain": "mns.classify:explain",
    "synth": "mns.synth",
    "demo": "mns.demo",
    # analyses and disclosure
    "profile": "mns.analyses:profile",
    "crosstab": "mns.analyses:crosstab",
    "match": "mns.analyses:match",
    "agreement": "mns.analyses:agreement",
    "compare": "mns.analyses:compare",
    "extrapolate": "mns.analyses:extrapolate",
    "capacity": "mns.analyses:capacity",
    "areas": "mns.analyses:areas",
    "outcomes": "mns.analyses:outcomes",
    "disclose": "mns.disclose:disclose",
    # the audit sample and forms
    "sample": "mns.sampling:sample",
    "sample_size": "mns.sampling:sample_size",
    "testing": "mns.testing",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'mns' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # give type checkers and editors the real names
    from mns.errors import (
        AdapterError,
        LanguageError,
        MnsError,
        PlanError,
        RecordError,
        RuleError,
        SchemaError,
        UnknownCodeError,
    )
    from mns.lang import (
        Crosswalk,
        Dimension,
        Indicator,
        Language,
        crosswalk,
        crosswalks,
        language,
        languages,
        load_crosswalk,
        load_language,
    )
    from mns.plan import Cluster, NeedGroup, Outcome, Plan, Service, load_plan, save_plan
    from mns.plugins import Adapter, Option, Source, hookimpl
    from mns.records import schema
    from mns.records.bundle import Provenance, Records
    from mns.records.model import (
        Assignment,
        Audit,
        Case,
        Cohort,
        OutcomeRecord,
        Role,
        ServiceEpisode,
    )
