"""Translated names of statuses, states and roles, for templates and (as JSON) for app.js."""
from __future__ import annotations

from flask_babel import gettext as _


def ui_labels() -> dict:
    return {
        "status": {
            "new": _("New"), "open": _("Open"), "pending": _("Pending"),
            "snoozed": _("Snoozed"), "resolved": _("Resolved"),
        },
        "state": {
            "received": _("Received"), "queued": _("Queued"), "sending": _("Sending"), "sent": _("Sent"),
            "delivered": _("Delivered"), "read": _("Read"), "failed": _("Failed"),
        },
        "kind": {"public": _("Public"), "private": _("Private")},
        "filter": {"active": _("All active"), "open": _("Open"), "pending": _("Pending"), "resolved": _("Resolved"),
                   "triage": _("Triage")},
        "presence": {"online": _("Online"), "away": _("Away"), "offline": _("Offline")},
        "role": {"agent": _("Agent"), "supervisor": _("Supervisor"), "admin": _("Admin")},
        "intent": {
            "billing": _("Billing"), "balance_recharge": _("Balance and recharge"),
            "network_coverage": _("Network coverage"), "internet_speed": _("Internet speed"),
            "plans_offers": _("Plans and offers"), "sim_number": _("SIM and number"), "roaming": _("Roaming"),
            "device_delivery": _("Devices and delivery"), "app_account": _("App and account"),
            "cancellation": _("Cancellation"), "service_complaint": _("Service complaint"),
            "praise": _("Praise"), "other": _("Other"),
        },
        "no_intent": _("No intent"),
        "intent_by_agent": _("set by an agent"),
        "retry": _("Retry"),
        "edited": _("Edited"),
        "deleted": _("Deleted by the customer"),
        "new_arrived": _("New conversation"),
        "sla_due": _("SLA due"),
        "sla_breached": _("SLA breached"),
        "no_free_agent": _("No free agent yet:"),
    }
