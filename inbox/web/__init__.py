"""The agent's screens: the queue, a conversation, and the JSON they refresh from."""
import secrets

from flask import Blueprint

bp = Blueprint("web", __name__)

from inbox.labels import ui_labels  # noqa: E402
from inbox.web import views  # noqa: E402,F401


@bp.app_context_processor
def _labels() -> dict:
    # new_token: one idempotency key per rendered reply form (a double submit sends once).
    return {"labels": ui_labels(), "new_token": lambda: secrets.token_hex(16)}
