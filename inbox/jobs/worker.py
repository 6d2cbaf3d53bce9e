"""The production worker: rq with the JSON serializer, inside the app's context."""
from __future__ import annotations

import logging
import os

from flask import Flask
from rq import Worker
from rq.serializers import JSONSerializer

from inbox.extensions import db
from inbox.services import classification

log = logging.getLogger(__name__)


class AppWorker(Worker):
    """Forks each job's work-horse from a warm parent: the active intent model is loaded (and
    swapped after an activation) here, once, so no job pays for loading it."""

    def execute_job(self, job, queue):
        try:
            classification.active_model()  # a query at most every INTENT_MODEL_CHECK_SECONDS
        except Exception:  # the database away for a moment: the job will say so itself
            log.warning("could not check the active intent model", exc_info=True)
        finally:
            db.session.remove()  # no transaction or connection carried into the fork
        return super().execute_job(job, queue)


def run_worker(app: Flask, burst: bool = False) -> bool:
    backend = app.extensions["tawasul_jobs"]
    # Platforms wait on the web process for their webhook's answer (Meta retries slow ones); a
    # worker draining a backlog can wait a little: on a shared machine the web tier goes first.
    os.nice(int(app.config["WORKER_NICENESS"]))
    with app.app_context():
        engine = db.engine
        # rq forks a work-horse per job: it must not reuse the parent's database sockets.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        # Maintenance every 30 s recovers a crashed worker's jobs in ~2 min, not ~10.
        worker = AppWorker([backend.queue.name], connection=backend.connection, serializer=JSONSerializer,
                           maintenance_interval=30)
        return worker.work(burst=burst, with_scheduler=True)
