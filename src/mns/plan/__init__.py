"""Plans: need groups in clusters, their outcomes, and the services with their thresholds."""

from mns.plan.load import check_plan, dump_plan, load_plan, plan_from_dict, save_plan
from mns.plan.model import Aim, Cluster, Evidence, Mode, NeedGroup, Outcome, Plan, Service

__all__ = [
    "Aim",
    "Cluster",
    "Evidence",
    "Mode",
    "NeedGroup",
    "Outcome",
    "Plan",
    "Service",
    "check_plan",
    "dump_plan",
    "load_plan",
    "plan_from_dict",
    "save_plan",
]
