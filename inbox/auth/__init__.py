"""Sign-in, sign-out and the role checks every view uses."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from inbox.auth import views  # noqa: E402,F401  (routes register on bp)
