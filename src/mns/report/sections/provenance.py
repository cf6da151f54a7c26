"""Where the numbers come from: the plan, the inputs (adapter, files, checksums) and notes."""

from __future__ import annotations

from mns.report.model import ReportInput
from mns.report.sections._base import Section, annual, fragment

#: Provenance shows no published table (only ``ReportInput.sources`` and ``notes``).
SHOWS: frozenset[str] = frozenset()

ROLE_NAMES = {
    "sample": "The audit sample",
    "baseline": "The baseline audit",
    "referrals": "The year's cases",
    "population": "The population table",
}


def build(ri: ReportInput) -> Section:
    facts = [("Plan", f"{ri.plan.name} (language {ri.plan.language})")]
    if ri.plan_sha256:
        facts.append(("Plan file SHA-256", ri.plan_sha256))
    if ri.reference_date:
        facts.append(("Reference date", ri.reference_date))
    if ri.groups:
        facts.append(("Need groups given by", ri.groups))
    if ri.census is not None:
        facts.append(("Annual figures", annual(ri)))
    if ri.mns_version:
        facts.append(("Made with", f"mns {ri.mns_version}"))
    known = list(ROLE_NAMES)
    sources = []
    for role in sorted(ri.sources, key=lambda r: (known.index(r) if r in known else len(known), r)):
        prov = ri.sources[role]
        details = [
            f"adapter {prov.adapter}" + (f" {prov.adapter_version}" if prov.adapter_version else "")
        ]
        if prov.collection_year:
            details.append(f"collection year {prov.collection_year}")
        if prov.reference_date:
            details.append(f"reference date {prov.reference_date.isoformat()}")
        details.append("identifiers pseudonymised" if prov.pseudonymised else "identifiers as read")
        sources.append(
            {
                "role": role,
                "name": ROLE_NAMES.get(role, role),
                "details": "; ".join(details),
                "files": [(f.name, f"{f.size:,}", f.sha256) for f in prov.files],
            }
        )
    return Section(
        id="provenance",
        heading="Where the numbers come from",
        html=fragment("provenance.html", facts=facts, sources=sources, notes=ri.notes),
    )
