"""mns: Matching Needs and Services for children's services.

Find out which children a service works with, group them by need, plan the outcomes,
services and thresholds each group needs, and check what is provided against it.

``import mns`` is cheap: each name is imported from its module on first use.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

from mns._version import __version__

# public name -> "module:attribute", or "module" for a submodule
_EXPORTS = {
    # errors
    "MnsError": "mns.errors:MnsError",
    "LanguageError": "mns.errors:LanguageError",
    "MappingError": "mns.errors:MappingError",
    "UnknownCodeError": "mns.errors:UnknownCodeError",
    "PlanError": "mns.errors:PlanError",
    "RuleError": "mns.errors:RuleError",
    "SchemaError": "mns.errors:SchemaError",
    "RecordError": "mns.errors:RecordError",
    "AdapterError": "mns.errors:AdapterError",
    "EngineError": "mns.errors:EngineError",
    "MissingExtraError": "mns.errors:MissingExtraError",
    "WorkbookError": "mns.errors:WorkbookError",
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
    "Target": "mns.plan:Target",
    "Funding": "mns.plan:Funding",
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
    "read": "mns.io:read",
    "write": "mns.io:write",
    "convert": "mns.conversion:convert",
    "link": "mns.linking:link",
    "IssueLog": "mns.records.issues:IssueLog",
    "privacy": "mns.privacy",
    "dataset": "mns.engines:dataset",
    # plugins
    "Adapter": "mns.plugins:Adapter",
    "EngineFactory": "mns.plugins.engine:EngineFactory",
    "Option": "mns.plugins:Option",
    "Source": "mns.plugins:Source",
    "hookimpl": "mns.plugins:hookimpl",
    "adapters": "mns.plugins.manager:adapters",
    # rules and classification
    "parse_rule": "mns.rules:parse",
    "classify": "mns.classification:classify",
    "classify_case": "mns.classification:classify_case",
    "explain": "mns.classification:explain",
    "assign": "mns.grouping:assign",
    # analyses and disclosure
    "Weighting": "mns.analyses.weighting:Weighting",
    "profile": "mns.analyses.profile:profile",
    "crosstab": "mns.analyses.crosstab:crosstab",
    "match": "mns.analyses.match:match",
    "agreement": "mns.analyses.agreement:agreement",
    "compare": "mns.analyses.compare:compare",
    "plan_changes": "mns.analyses.plan_progress:plan_changes",
    "extrapolate": "mns.analyses.extrapolate:extrapolate",
    "capacity": "mns.analyses.extrapolate:capacity",
    "budget": "mns.analyses.budget:budget",
    "areas": "mns.analyses.areas:areas",
    "outcomes": "mns.analyses.outcomes:outcomes",
    "placements": "mns.analyses.placements:placements",
    "teams": "mns.analyses.teams:teams",
    "Participation": "mns.participation:Participation",
    "load_participation": "mns.participation:load_participation",
    "what_works": "mns.analyses.what_works:what_works",
    "outcomes_change": "mns.analyses.what_works:outcomes_change",
    "rules_vs_panel": "mns.analyses.rules_panel:rules_vs_panel",
    "disagreements": "mns.analyses.rules_panel:disagreements",
    "disclose": "mns.disclosure:disclose",
    "disclose_all": "mns.disclosure:disclose_all",
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
    "EngineError",
    "EngineFactory",
    "Funding",
    "Indicator",
    "IssueLog",
    "Language",
    "LanguageError",
    "MappingError",
    "MissingExtraError",
    "MnsError",
    "NeedGroup",
    "Option",
    "Outcome",
    "OutcomeRecord",
    "Participation",
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
    "Target",
    "UnknownCodeError",
    "Weighting",
    "WorkbookError",
    "__version__",
    "adapters",
    "agreement",
    "areas",
    "assign",
    "budget",
    "capacity",
    "classify",
    "classify_case",
    "compare",
    "convert",
    "crosstab",
    "crosswalk",
    "crosswalks",
    "dataset",
    "demo",
    "disagreements",
    "disclose",
    "disclose_all",
    "engines",
    "explain",
    "extrapolate",
    "forms",
    "hookimpl",
    "lang",
    "language",
    "languages",
    "link",
    "load_crosswalk",
    "load_language",
    "load_participation",
    "load_plan",
    "match",
    "outcomes",
    "outcomes_change",
    "parse_rule",
    "placements",
    "plan_changes",
    "privacy",
    "profile",
    "read",
    "rules_vs_panel",
    "run_audit",
    "sample",
    "sample_size",
    "save_plan",
    "schema",
    "suggest_groups",
    "synth",
    "teams",
    "testing",
    "what_works",
    "write",
]


#: One lazy import at a time: threads that import ``mns.areas`` and ``mns.crosstab`` at once
#: would otherwise each hold half of ``mns.analyses`` and see the other half unfinished.
_IMPORTING = threading.RLock()


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'mns' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    with _IMPORTING:
        module = importlib.import_module(module_name)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # the real names, for type checkers and editors
    from mns import (
        demo as demo,
        engines as engines,
        forms as forms,
        lang as lang,
        privacy as privacy,
        synth as synth,
        testing as testing,
    )
    from mns.analyses.agreement import (
        agreement as agreement,
    )
    from mns.analyses.areas import (
        areas as areas,
    )
    from mns.analyses.budget import (
        budget as budget,
    )
    from mns.analyses.compare import (
        compare as compare,
    )
    from mns.analyses.crosstab import (
        crosstab as crosstab,
    )
    from mns.analyses.extrapolate import (
        capacity as capacity,
        extrapolate as extrapolate,
    )
    from mns.analyses.match import (
        match as match,
    )
    from mns.analyses.outcomes import (
        outcomes as outcomes,
    )
    from mns.analyses.placements import (
        placements as placements,
    )
    from mns.analyses.plan_progress import (
        plan_changes as plan_changes,
    )
    from mns.analyses.profile import (
        profile as profile,
    )
    from mns.analyses.rules_panel import (
        disagreements as disagreements,
        rules_vs_panel as rules_vs_panel,
    )
    from mns.analyses.teams import (
        teams as teams,
    )
    from mns.analyses.weighting import (
        Weighting as Weighting,
    )
    from mns.analyses.what_works import (
        outcomes_change as outcomes_change,
        what_works as what_works,
    )
    from mns.audit import (
        AuditResult as AuditResult,
        run_audit as run_audit,
    )
    from mns.classification import (
        classify as classify,
        classify_case as classify_case,
        explain as explain,
    )
    from mns.conversion import (
        convert as convert,
    )
    from mns.disclosure import (
        disclose as disclose,
        disclose_all as disclose_all,
    )
    from mns.engines import (
        dataset as dataset,
    )
    from mns.errors import (
        AdapterError as AdapterError,
        EngineError as EngineError,
        LanguageError as LanguageError,
        MappingError as MappingError,
        MissingExtraError as MissingExtraError,
        MnsError as MnsError,
        PlanError as PlanError,
        RecordError as RecordError,
        RuleError as RuleError,
        SchemaError as SchemaError,
        UnknownCodeError as UnknownCodeError,
        WorkbookError as WorkbookError,
    )
    from mns.grouping import (
        assign as assign,
    )
    from mns.io import (
        read as read,
        write as write,
    )
    from mns.lang import (
        Crosswalk as Crosswalk,
        Dimension as Dimension,
        Indicator as Indicator,
        Language as Language,
        crosswalk as crosswalk,
        crosswalks as crosswalks,
        language as language,
        languages as languages,
        load_crosswalk as load_crosswalk,
        load_language as load_language,
    )
    from mns.lca import (
        suggest_groups as suggest_groups,
    )
    from mns.linking import (
        link as link,
    )
    from mns.participation import (
        Participation as Participation,
        load_participation as load_participation,
    )
    from mns.plan import (
        Cluster as Cluster,
        Funding as Funding,
        NeedGroup as NeedGroup,
        Outcome as Outcome,
        Plan as Plan,
        Service as Service,
        Target as Target,
        load_plan as load_plan,
        save_plan as save_plan,
    )
    from mns.plugins import (
        Adapter as Adapter,
        Option as Option,
        Source as Source,
        hookimpl as hookimpl,
    )
    from mns.plugins.engine import (
        EngineFactory as EngineFactory,
    )
    from mns.plugins.manager import (
        adapters as adapters,
    )
    from mns.records import schema as schema
    from mns.records.bundle import (
        Provenance as Provenance,
        Records as Records,
    )
    from mns.records.issues import (
        IssueLog as IssueLog,
    )
    from mns.records.model import (
        Assignment as Assignment,
        Audit as Audit,
        Case as Case,
        Cohort as Cohort,
        OutcomeRecord as OutcomeRecord,
        Role as Role,
        ServiceEpisode as ServiceEpisode,
    )
    from mns.rules import (
        parse as parse_rule,
    )
    from mns.sampling import (
        sample as sample,
        sample_size as sample_size,
    )
