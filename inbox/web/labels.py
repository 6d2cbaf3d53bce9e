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
        "filter": {"active": _("All active"), "open": _("Open"), "pending": _("Pending"), "resolved": _("Resolved")},
        "role": {"agent": _("Agent"), "supervisor": _("Supervisor"), "admin": _("Admin")},
        "retry": _("Retry"),
        "edited": _("Edited"),
        "deleted": _("Deleted by the customer"),
        "new_arrived": _("New conversation"),
    }
