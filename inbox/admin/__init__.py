"""Admin pages, all under /admin and all admin-only."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from inbox.admin import views  # noqa: E402,F401
