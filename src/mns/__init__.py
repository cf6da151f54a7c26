"""mns: Matching Needs and Services for children's services.

Find out which children a service works with, group them by need, plan the outcomes,
services and thresholds each group needs, and check what is provided against it.

``import mns`` is cheap: each name is imported from its module on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> "module:attribute", or "module" for a submodule
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
    # records and reading them
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
    "IssueLog": "mns.records.issues:IssueLog",
    "privacy": "mns.privacy",
    "dataset": "mns.dataset:dataset",
    # plugins
    "Adapter": "mns.plugins:Adapter",
    "Option": "mns.plugins:Option",
    "Source": "mns.plugins:Source",
    "hookimpl": "mns.plugins:hookimpl",
    "adapters": "mns.plugins.manager:adapters",
    # rules and classification
    "parse_rule": "mns.rules:parse",
    "classify": "mns.classify:classify",
    "classify_case": "mns.classify:classify_case",
    "explain": "mns.classify:explain",
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
    "suggest_groups": "mns.lca:suggest_groups",
    # the audit
    "sample": "mns.sampling:sample",
    "sample_size": "mns.sampling:sample_size",
    "run_audit": "mns.audit:run_audit",
    "AuditResult": "mns.audit:AuditResult",
    "forms": "mns.forms",
    "synth": "mns.synth",
    "demo": "mns.demo",
    "engines": "mns.engines",
    "testing": "mns.testing",
}

__all__ = [
    "Adapter",
    "AdapterError",
    "Assignment",
    "Audit",
    "AuditResult",
    "Case",
    "Cluster",
    "Cohort",
    "Crosswalk",
    "Dimension",
    "Indicator",
    "IssueLog",
    "Language",
    "LanguageError",
    "MnsError",
    "NeedGroup",
    "Option",
    "Outcome",
    "OutcomeRecord",
    "Plan",
    "PlanError",
    "Provenance",
    "RecordError",
    "Records",
    "Role",
    "RuleError",
    "SchemaError",
    "Service",
    "ServiceEpisode",
    "Source",
    "UnknownCodeError",
    "__version__",
    "adapters",
    "agreement",
    "areas",
    "capacity",
    "classify",
    "classify_case",
    "compare",
    "crosstab",
    "crosswalk",
    "crosswalks",
    "dataset",
    "demo",
    "disclose",
    "engines",
    "explain",
    "extrapolate",
    "forms",
    "hookimpl",
    "lang",
    "language",
    "languages",
    "load_crosswalk",
    "load_language",
    "load_plan",
    "match",
    "outcomes",
    "parse_rule",
    "privacy",
    "profile",
    "read",
    "run_audit",
    "sample",
    "sample_size",
    "save_plan",
    "schema",
    "suggest_groups",
    "synth",
    "testing",
    "write",
]


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


if TYPE_CHECKING:  # the real names, for type checkers and editors
    from mns import demo as demo
    from mns import engines as engines
    from mns import forms as forms
    from mns import lang as lang
    from mns import privacy as privacy
    from mns import synth as synth
    from mns import testing as testing
    from mns.analyses import (
        agreement as agreement,
    )
    from mns.analyses import (
        areas as areas,
    )
    from mns.analyses import (
        capacity as capacity,
    )
    from mns.analyses import (
        compare as compare,
    )
    from mns.analyses import (
        crosstab as crosstab,
    )
    from mns.analyses import (
        extrapolate as extrapolate,
    )
    from mns.analyses import (
        match as match,
    )
    from mns.analyses import (
        outcomes as outcomes,
    )
    from mns.analyses import (
        profile as profile,
    )
    from mns.audit import (
        AuditResult as AuditResult,
    )
    from mns.audit import (
        run_audit as run_audit,
    )
    from mns.classify import (
        classify as classify,
    )
    from mns.classify import (
        classify_case as classify_case,
    )
    from mns.classify import (
        explain as explain,
    )
    from mns.dataset import (
        dataset as dataset,
    )
    from mns.disclose import (
        disclose as disclose,
    )
    from mns.errors import (
        AdapterError as AdapterError,
    )
    from mns.errors import (
        LanguageError as LanguageError,
    )
    from mns.errors import (
        MnsError as MnsError,
    )
    from mns.errors import (
        PlanError as PlanError,
    )
    from mns.errors import (
        RecordError as RecordError,
    )
    from mns.errors import (
        RuleError as RuleError,
    )
    from mns.errors import (
        SchemaError as SchemaError,
    )
    from mns.errors import (
        UnknownCodeError as UnknownCodeError,
    )
    from mns.lang import (
        Crosswalk as Crosswalk,
    )
    from mns.lang import (
        Dimension as Dimension,
    )
    from mns.lang import (
        Indicator as Indicator,
    )
    from mns.lang import (
        Language as Language,
    )
    from mns.lang import (
        crosswalk as crosswalk,
    )
    from mns.lang import (
        crosswalks as crosswalks,
    )
    from mns.lang import (
        language as language,
    )
    from mns.lang import (
        languages as languages,
    )
    from mns.lang import (
        load_crosswalk as load_crosswalk,
    )
    from mns.lang import (
        load_language as load_language,
    )
    from mns.lca import (
        suggest_groups as suggest_groups,
    )
    from mns.plan import (
        Cluster as Cluster,
    )
    from mns.plan import (
        NeedGroup as NeedGroup,
    )
    from mns.plan import (
        Outcome as Outcome,
    )
    from mns.plan import (
        Plan as Plan,
    )
    from mns.plan import (
        Service as Service,
    )
    from mns.plan import (
        load_plan as load_plan,
    )
    from mns.plan import (
        save_plan as save_plan,
    )
    from mns.plugins import (
        Adapter as Adapter,
    )
    from mns.plugins import (
        Option as Option,
    )
    from mns.plugins import (
        Source as Source,
    )
    from mns.plugins import (
        hookimpl as hookimpl,
    )
    from mns.plugins.manager import (
        adapters as adapters,
    )
    from mns.records import schema as schema
    from mns.records.bundle import (
        Provenance as Provenance,
    )
    from mns.records.bundle import (
        Records as Records,
    )
    from mns.records.io import (
        read as read,
    )
    from mns.records.io import (
        write as write,
    )
    from mns.records.issues import (
        IssueLog as IssueLog,
    )
    from mns.records.model import (
        Assignment as Assignment,
    )
    from mns.records.model import (
        Audit as Audit,
    )
    from mns.records.model import (
        Case as Case,
    )
    from mns.records.model import (
        Cohort as Cohort,
    )
    from mns.records.model import (
        OutcomeRecord as OutcomeRecord,
    )
    from mns.records.model import (
        Role as Role,
    )
    from mns.records.model import (
        ServiceEpisode as ServiceEpisode,
    )
    from mns.rules import (
        parse as parse_rule,
    )
    from mns.sampling import (
        sample as sample,
    )
    from mns.sampling import (
        sample_size as sample_size,
    )
