"""Sign-in, sign-out and the role checks every view uses."""
from inbox.auth.views import bp  # noqa: F401  (the routes register on bp there)
