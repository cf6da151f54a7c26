"""Suggest need groups from the data: latent class analysis (the optional extra ``mns[lca]``).

A planning panel groups cases "as if from scratch"; a statistical analysis complements it.
:func:`suggest_groups` fits latent class models over the audit's indicators for a range of
class counts, recommends one, and describes each class as a planning group would want it:
size, what distinguishes it, who is in it, and a draft rule in the rule language::

    import mns
    result = mns.suggest_groups(cases, indicators="cin", k=range(2, 9), seed=1)
    result.models        # the model-choice table (BIC, SABIC, CAIC, entropy, problems)
    result.classes       # one row per class, with its draft rule
    mns.lca.compare_classes(result, assignments)    # where the panel and the data differ

StepMix is imported only when a model is fitted, so ``import mns`` stays cheap.
"""

from mns.lca._compare import ClassComparison, align, compare_classes
from mns.lca._report import ReportSection, what_the_data_suggests
from mns.lca._suggest import Suggestion, suggest_groups

__all__ = [
    "ClassComparison",
    "ReportSection",
    "Suggestion",
    "align",
    "compare_classes",
    "suggest_groups",
    "what_the_data_suggests",
]
