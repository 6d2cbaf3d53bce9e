"""Where platforms deliver: no session, no CSRF token, authenticity by signature instead."""
from inbox.webhooks.views import bp  # noqa: F401  (the routes register on bp there)
