"""Where platforms deliver: no session, no CSRF token, authenticity by signature instead."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

from inbox.webhooks import views  # noqa: E402,F401
