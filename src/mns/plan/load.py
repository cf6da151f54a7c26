"""Reading, checking and writing plan files (TOML).

Loading checks every cross-reference (clusters, need groups, services, the language) and
reports each problem with the file, the item, the field and what is allowed.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

from mns.converters import describe_errors, make_converter, read_toml
from mns.errors import PlanError, UnknownCodeError
from mns.plan.model import Plan

if TYPE_CHECKING:
    from mns.lang.model import Language

__all__ = ["check_plan", "dump_plan", "load_plan", "plan_from_dict", "save_plan"]

_CONVERTER = make_converter()
_SECTIONS = {
    "clusters": "cluster",
    "need_groups": "need_group",
    "outcomes": "outcome",
    "services": "service",
}


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan file. Raises :class:`PlanError` naming every problem."""
    path = Path(path)
    raw = read_toml(path, PlanError, "plan file")
    return plan_from_dict(_beside(raw, path.parent), str(path))


def _beside(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Make the plan's own files (a language file, crosswalks) relative to the plan file."""
    head = raw.get("plan")
    if not isinstance(head, dict):
        return raw
    head = dict(head)

    def resolve(name: Any) -> Any:
        if isinstance(name, str) and name.endswith(".toml") and not Path(name).is_absolute():
            return str(folder / name)
        return name

    head["language"] = resolve(head.get("language"))
    if isinstance(head.get("crosswalks"), list):
        head["crosswalks"] = [resolve(c) for c in head["crosswalks"]]
    return {**raw, "plan": {k: v for k, v in head.items() if v is not None}}


def plan_from_dict(raw: Mapping[str, Any], file: str = "<dict>") -> Plan:
    """Build and check a plan from its TOML-shaped mapping; ``file`` names it in errors."""
    extra = sorted(set(raw) - {"plan", *_SECTIONS.values()})
    if extra:
        allowed = ", ".join(
            f"[{k}]" if k == "plan" else f"[[{k}]]" for k in ("plan", *_SECTIONS.values())
        )
        raise PlanError(
            f"{file}: unknown top-level key {', '.join(map(repr, extra))}; allowed are {allowed}",
            file=file,
            item=extra[0],
        )
    head = raw.get("plan")
    if not isinstance(head, dict):
        raise PlanError(f"{file}: missing the [plan] table (name and language)", file=file)
    data = dict(head)
    for field, section in _SECTIONS.items():
        if section in data:
            raise PlanError(f"{file}: write {section} entries as [[{section}]] tables", file=file)
        data[field] = raw.get(section, [])
    data["outcomes"] = [_text_target(o) for o in data["outcomes"]]
    listed = list(_lists_given(raw))
    if listed:
        raise _error(file, listed)
    try:
        plan = _CONVERTER.structure(data, Plan)
    except Exception as exc:
        raise _error(file, describe_errors(exc, raw, _SECTIONS, "plan")) from None
    problems = list(check_plan(plan))
    if problems:
        raise _error(file, problems)
    return plan


#: The fields that hold a list of text, by section: one text given instead would otherwise
#: be read letter by letter.
_TEXT_LISTS = {
    "plan": ("crosswalks",),
    "need_group": ("replaces",),
    "service": ("need_groups", "agencies", "received_as"),
}


def _lists_given(raw: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every list-of-text field written as one text (``need_groups = "A1"``)."""
    for section, fields in _TEXT_LISTS.items():
        entries = [raw.get(section)] if section == "plan" else raw.get(section)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict):
                continue
            where = "plan" if section == "plan" else f"{section}[{i}] (code {entry.get('code')!r})"
            for field in fields:
                value = entry.get(field)
                if isinstance(value, str):
                    yield (
                        f"{where} field {field}",
                        f"write {field} as a list, even of one: {field} = "
                        f"[{json.dumps(value, ensure_ascii=False)}]",
                    )


def _text_target(outcome: Any) -> Any:
    """An outcome whose ``target`` is text (``"70% of children"``, as plans written before
    structured targets say it) keeps it as its ``note``."""
    if isinstance(outcome, dict) and isinstance(outcome.get("target"), str):
        text = outcome["target"]
        rest = {k: v for k, v in outcome.items() if k != "target"}
        if text.strip():
            rest["note"] = f"{rest['note']} {text}".strip() if rest.get("note") else text
        return rest
    return outcome


def _error(file: str, problems: list[tuple[str, str]]) -> PlanError:
    lines = "\n".join(f"  {place}: {message}" for place, message in problems)
    noun = "problem" if len(problems) == 1 else "problems"
    first = problems[0][0]
    return PlanError(f"{file}: {len(problems)} {noun} in the plan:\n{lines}", file=file, item=first)


def _hint(value: str, allowed: Iterable[str]) -> str:
    pool = list(allowed)
    close = difflib.get_close_matches(value, pool, n=1, cutoff=0.5)
    listed = ", ".join(repr(a) for a in pool) if pool else "none defined"
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"({guess}defined: {listed})"


def _duplicates(section: str, codes: list[str]) -> Iterator[tuple[str, str]]:
    seen: dict[str, int] = {}
    for i, code in enumerate(codes):
        if code in seen:
            yield (
                f"{section}[{i}] (code {code!r}) field code",
                f"duplicate code {code!r}: {section}[{seen[code]}] already uses it; "
                "codes must be unique",
            )
        else:
            seen[code] = i


def check_plan(plan: Plan) -> Iterator[tuple[str, str]]:
    """Every cross-reference problem in ``plan``, as ``(place, message)`` pairs."""
    from mns.lang import language as find_language

    lang = None
    try:
        lang = find_language(plan.language)
    except UnknownCodeError as exc:
        yield "[plan] field language", exc.message
    except Exception as exc:  # a user's language file that fails to load
        yield "[plan] field language", str(exc)
    clusters = [c.code for c in plan.clusters]
    groups = [g.code for g in plan.need_groups]
    yield from _duplicates("cluster", clusters)
    yield from _duplicates("need_group", groups)
    yield from _duplicates("outcome", [o.code for o in plan.outcomes])
    yield from _duplicates("service", [s.code for s in plan.services])
    for i, g in enumerate(plan.need_groups):
        if g.cluster is not None and g.cluster not in clusters:
            yield (
                f"need_group[{i}] (code {g.code!r}) field cluster",
                f"unknown cluster {g.cluster!r} {_hint(g.cluster, clusters)}",
            )
        for code in g.replaces:
            if code in groups:
                yield (
                    f"need_group[{i}] (code {g.code!r}) field replaces",
                    f"{code!r} is a need group of this plan: replaces lists only groups of the "
                    "previous plan that this plan no longer has (merged into this group, split "
                    f"between it and others, or renamed); give the continuing group {code!r} a "
                    "new code too, or take it out of replaces (this group is then new)",
                )
    for i, o in enumerate(plan.outcomes):
        if o.need_group not in groups:
            yield (
                f"outcome[{i}] (code {o.code!r}) field need_group",
                f"unknown need group {o.need_group!r} {_hint(o.need_group, groups)}",
            )
    for i, s in enumerate(plan.services):
        place = f"service[{i}] (code {s.code!r}) field need_groups"
        if not s.need_groups:
            yield place, "the service serves no need group; list at least one"
        for ng in s.need_groups:
            if ng not in groups:
                yield place, f"unknown need group {ng!r} {_hint(ng, groups)}"
    if lang is not None:
        yield from _check_rules(plan, lang)


def _check_rules(plan: Plan, lang: Language) -> Iterator[tuple[str, str]]:
    """Parse and type-check every need-group rule and service threshold in the plan's language;
    each problem's message shows the rule with a caret under the place."""
    from mns.errors import RuleError
    from mns.rules.check import Scope, check
    from mns.rules.syntax import parse

    scope = Scope(language=lang)
    rules = [
        (f"need_group[{i}] (code {g.code!r}) field rule", g.rule)
        for i, g in enumerate(plan.need_groups)
    ] + [
        (f"service[{i}] (code {s.code!r}) field threshold", s.threshold)
        for i, s in enumerate(plan.services)
    ]
    for place, rule in rules:
        if rule is None:
            continue
        try:
            check(parse(rule), rule, scope)
        except RuleError as exc:
            yield place, exc.message


def dump_plan(plan: Plan) -> str:
    """The TOML text of ``plan``; :func:`plan_from_dict` of it gives ``plan`` back."""
    data = _CONVERTER.unstructure(plan)
    doc: dict[str, Any] = {"plan": {k: v for k, v in data.items() if k not in _SECTIONS}}
    for field, section in _SECTIONS.items():
        if data.get(field):
            doc[section] = [_enum_values(item) for item in data[field]]
    doc["plan"] = _enum_values(doc["plan"])
    return tomli_w.dumps(doc)


def _enum_values(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _toml_value(v) for k, v in item.items() if v is not None}


def _toml_value(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_toml_value(v) for v in value]
    if isinstance(value, dict):
        return _enum_values(value)
    return value


def save_plan(plan: Plan, path: str | Path) -> None:
    """Write ``plan`` as a TOML file a planning group can read and edit (whole or not at
    all: an earlier file is replaced in one step)."""
    from mns.records.folder import replacing

    text = dump_plan(plan)
    with replacing(path) as temporary:
        temporary.write_text(text, "utf-8")
