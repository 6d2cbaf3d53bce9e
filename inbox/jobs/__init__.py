"""Background jobs: rq when REDIS_URL is set, a thread in the web process otherwise.

The job functions are the same either way (``inbox.jobs.tasks``); they take ids, load what
they need, and are safe to run twice.
"""
from inbox.jobs.queue import enqueue, init_app

__all__ = ["enqueue", "init_app"]
