"""The production worker: rq with the JSON serializer, inside the app's context."""
from __future__ import annotations

import os

from flask import Flask
from rq import Worker
from rq.serializers import JSONSerializer

from inbox.extensions import db
from inbox.jobs.queue import QUEUE_NAME


def run_worker(app: Flask, burst: bool = False) -> bool:
    backend = app.extensions["tawasul_jobs"]
    with app.app_context():
        engine = db.engine
        # rq forks a work-horse per job: it must not reuse the parent's database sockets.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        # Maintenance every 30 s recovers a crashed worker's jobs in ~2 min, not ~10.
        worker = Worker([QUEUE_NAME], connection=backend.connection, serializer=JSONSerializer,
                        maintenance_interval=30)
        return worker.work(burst=burst, with_scheduler=True)
