"""An invoice's status and a ladder step's state as a reader sees them (stored values are English codes)."""
from __future__ import annotations

from bot.i18n import N_, _
from bot.store.models import InvoiceStatus, StepState

STATUS_NAMES = {"open": N_("open"), "paid": N_("paid"), "disputed": N_("disputed"), "cancelled": N_("cancelled")}
STATE_NAMES = {"pending": N_("pending"), "sending": N_("sending"), "sent": N_("sent"), "acknowledged": N_("acknowledged"),
               "cancelled": N_("cancelled"), "skipped": N_("skipped"), "paused": N_("paused"), "waiting": N_("waiting"),
               "undeliverable": N_("undeliverable")}


RESPONSIBLE_NAMES = {"owner": N_("owner"), "collector": N_("collector"), "manager": N_("manager"), "lawyer": N_("lawyer")}
"""Who a ladder step goes to, as /ladders <name> shows it (the YAML's `responsible`)."""


def responsible_name(responsible: str) -> str:
    return _(RESPONSIBLE_NAMES.get(responsible, responsible))


def status_name(status: InvoiceStatus) -> str:
    return _(STATUS_NAMES.get(status.value, status.value))


def state_name(state: StepState) -> str:
    return _(STATE_NAMES.get(state.value, state.value))
ACTION_NAMES = {"call": N_("call"), "check-in": N_("check-in"), "claim": N_("claim"), "legal": N_("legal"),
                "letter": N_("letter"), "message": N_("message"), "email": N_("e-mail")}


def action_name(action: str) -> str:
    return _(ACTION_NAMES.get(action, action))
