"""The 903 code lists as the DfE 903 validator publishes them, ruleset by ruleset (test data).

Source: data-to-insight/csc-validator-be-903 (MIT), ``lac_validator/rules/lac<years>/``. Each
ruleset holds only the rules that changed that year and inherits the rest from the year
before (``lac2025_26/__init__.py`` updates ``lac2024_25``'s registry), so a list is quoted
from the latest ruleset at or before the year that defines its rule. Collection years are
the year a collection ends (2026 = 2025-26). Lists are copied as published, in their order.
"""

from __future__ import annotations

_BASE = "data-to-insight/csc-validator-be-903/lac_validator/rules"

#: rule 146 (PLACE), lac2022_23/rule_146.py @ 9ac8316fddcd; lac2023_24 has no rule 146
_PLACE_2023 = (
    "A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1",
    "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1",
)  # fmt: skip
#: lac2024_25/rule_146.py @ 18e3db7fd0f4: published with K3 spelt "k3" (the rule compares
#: case-sensitively, so as published it would refuse K3; rule 371 of the same ruleset checks
#: K3 placements, so K3 is meant)
_PLACE_2025 = (
    "A3", "A4", "A5", "A6", "H5", "K1", "K2", "k3", "P1", "P2", "P3", "R1", "R2", "R3", "R5",
    "S1", "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1",
)  # fmt: skip
#: lac2025_26/rule_146.py @ 31987277739f
_PLACE_2026 = (
    "A3", "A4", "A5", "A6", "K1", "K2", "K3", "P1", "P3", "R1", "R2", "R3", "R5", "S1", "T0",
    "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z11", "Z12", "Z13", "Z14",
)  # fmt: skip
#: rule 178 (PLACE_PROVIDER): lac2022_23/rule_178.py @ 0ff1e38c285e, lac2025_26 @ 2ee9e44d881b
_PROVIDER = ("PR0", "PR1", "PR2", "PR3", "PR4", "PR5")
#: rule 149 (REC), lac2022_23/rule_149.py @ 1e17be6f95ac; not redefined up to 2025-26
_REC = (
    "E11", "E12", "E2", "E3", "E4A", "E4B", "E13", "E41", "E45", "E46", "E47", "E48", "E5",
    "E6", "E7", "E8", "E9", "E14", "E15", "E16", "E17", "X1",
)  # fmt: skip
#: rule 143 (RNE), lac2022_23/rule_143.py @ 3a231f518c28
_RNE = ("S", "P", "L", "T", "U", "B")
#: rule 144 (LS), lac2022_23/rule_144.py @ 1e17be6f95ac
_LS = ("C1", "C2", "D1", "E1", "V2", "V3", "V4", "J1", "J2", "J3", "L1", "L2", "L3")
#: rule 145 (CIN), lac2022_23/rule_145.py @ 8253e6ab4d6f
_CIN = ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8")
#: rule 120 (REASON_PLACED_CEASED), lac2022_23/rule_120.py @ 99e5bf2d20fc
_RPC = ("RD1", "RD2", "RD3", "RD4")

_COMMON = {
    "PLACE_PROVIDER": _PROVIDER,
    "REC": _REC,
    "RNE": _RNE,
    "LS": _LS,
    "CIN": _CIN,
    "REASON_PLACED_CEASED": _RPC,
}

#: collection year -> column -> the published list
CODE_LISTS: dict[int, dict[str, tuple[str, ...]]] = {
    2023: {"PLACE": _PLACE_2023, **_COMMON},
    2024: {"PLACE": _PLACE_2023, **_COMMON},
    2025: {"PLACE": _PLACE_2025, **_COMMON},
    2026: {"PLACE": _PLACE_2026, **_COMMON},
}

#: placements that take no PLACE_PROVIDER: rule 178 (lac2022_23, with T0-T4 and Z1) and
#: rule 213 (lac2025_26/rule_213.py @ 0ac22f5bb2fb, with Z11-Z14 in place of Z1)
NO_PROVIDER: dict[int, tuple[str, ...]] = {
    2023: ("T0", "T1", "T2", "T3", "T4", "Z1"),
    2026: ("T0", "T1", "T2", "T3", "T4", "Z11", "Z12", "Z13", "Z14"),
}

SOURCE = _BASE
