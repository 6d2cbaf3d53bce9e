"""Admin pages, all under /admin and all admin-only."""
from inbox.admin.views import bp  # noqa: F401  (the routes register on bp there)
