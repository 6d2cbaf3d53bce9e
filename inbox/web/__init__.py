"""The agent's screens: the queue, a conversation, and the JSON they refresh from."""
import secrets

from inbox.labels import ui_labels
from inbox.web.views import bp  # the routes register on bp there


@bp.app_context_processor
def _labels() -> dict:
    # new_token: one idempotency key per rendered reply form (a double submit sends once).
    return {"labels": ui_labels(), "new_token": lambda: secrets.token_hex(16)}
