"""Plans: need groups in clusters, their outcomes, and the services with their thresholds."""

from mns.plan.diff import Change, changes_between
from mns.plan.load import check_plan, dump_plan, load_plan, plan_from_dict, save_plan
from mns.plan.model import (
    Aim,
    CapacityUnit,
    Cluster,
    CostUnit,
    Direction,
    Evidence,
    Funding,
    Mode,
    NeedGroup,
    Outcome,
    Plan,
    Service,
    Target,
)

__all__ = [
    "Aim",
    "CapacityUnit",
    "Change",
    "Cluster",
    "CostUnit",
    "Direction",
    "Evidence",
    "Funding",
    "Mode",
    "NeedGroup",
    "Outcome",
    "Plan",
    "Service",
    "Target",
    "changes_between",
    "check_plan",
    "dump_plan",
    "load_plan",
    "plan_from_dict",
    "save_plan",
]
