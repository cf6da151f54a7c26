"""The rule language: need-group membership and service thresholds as small, safe expressions.

``parse`` builds the syntax tree (never ``eval``); ``check`` resolves names in a plan's
language and checks types; the checked tree is evaluated on whole Arrow batches
(:mod:`mns.rules.arrow`) and on one case (:mod:`mns.rules.case`), which always agree.
See docs/reference/rule-language.md.
"""

from mns.rules.check import FIELDS, FUNCTIONS, Scope, check, compile_rule
from mns.rules.ir import Type
from mns.rules.syntax import MAX_DEPTH, MAX_LENGTH, Node, parse

__all__ = [
    "FIELDS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Node",
    "Scope",
    "Type",
    "check",
    "compile_rule",
    "parse",
]
