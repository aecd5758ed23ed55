"""The routines, one file each. FLOWS maps a routine's config name to its flow; importing this package also
registers each routine's /partner subcommands and button handlers."""

from bot.flows.base import Due, Flow
from bot.flows.deliverables import DeliverablesFlow
from bot.flows.norms import NormsFlow
from bot.flows.pulse import PulseFlow
from bot.flows.roles import RolesFlow
from bot.flows.summary import SummaryFlow

FLOWS: dict[str, Flow] = {
    flow.name: flow for flow in (NormsFlow(), RolesFlow(), SummaryFlow(), DeliverablesFlow(), PulseFlow())
}

__all__ = ["FLOWS", "Due", "Flow"]
