"""Where a job goes: rq (JSON serializer, timeout, Retry) or the in-process runner."""
from __future__ import annotations

import importlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app

log = logging.getLogger(__name__)

QUEUE_NAME = "default"  # JOB_QUEUE's default
KICK_TTL_SECONDS = 60  # a kick whose job vanished with Redis is forgotten after this


def _kick_key(queue_name: str, func: Callable[..., Any]) -> str:
    return f"tawasul:kick:{queue_name}:{func.__module__}.{func.__name__}"


class RqBackend:
    def __init__(self, app: Flask):
        from rq import Queue
        from rq.serializers import JSONSerializer

        from inbox.redis_pool import connect

        self.connection = connect(app.config["REDIS_URL"])
        self.queue = Queue(app.config["JOB_QUEUE"], connection=self.connection, serializer=JSONSerializer)
        self.timeout = app.config["JOB_TIMEOUT_SECONDS"]
        self.intervals = app.config["JOB_RETRY_INTERVALS"]

    def _options(self, timeout: float | None = None) -> dict[str, Any]:
        from rq import Retry

        return {"job_timeout": timeout or self.timeout,
                "retry": Retry(max=len(self.intervals), interval=self.intervals), "failure_ttl": 7 * 24 * 3600}

    def enqueue(self, func: Callable[..., Any], *args: Any, timeout: float | None = None) -> None:
        self.queue.enqueue(func, *args, **self._options(timeout))

    def waiting(self) -> int:
        """Jobs queued and not yet started."""
        return self.queue.count

    def kick(self, func: Callable[..., Any]) -> None:
        key = _kick_key(self.queue.name, func)
        if self.connection.set(key, 1, nx=True, ex=KICK_TTL_SECONDS):
            try:
                self.enqueue(func)
            except Exception:
                self.connection.delete(key)
                raise

    def kicked(self, func: Callable[..., Any]) -> None:
        self.connection.delete(_kick_key(self.queue.name, func))

    def enqueue_in(self, seconds: float, func: Callable[..., Any], *args: Any) -> None:
        """Needs a worker started with the scheduler (`flask --app app worker` does)."""
        self.queue.enqueue_in(timedelta(seconds=seconds), func, *args, **self._options())


class InProcessRunner:
    """One worker thread, so embedded mode keeps a single writer; retries with backoff. A job
    given its own timeout is a long one (a model training, most of a minute): it runs on a second
    thread, so ingest and replies do not wait behind it (SQLite's busy timeout and BEGIN IMMEDIATE
    already let the web threads write beside the worker)."""

    def __init__(self, app: Flask):
        self.app = app
        self.intervals = app.config["IN_PROCESS_RETRY_INTERVALS"]
        self._queue: queue.Queue[tuple[Callable[..., Any], tuple, int]] = queue.Queue()
        self._long_queue: queue.Queue[tuple[Callable[..., Any], tuple, int]] = queue.Queue()
        self._pending = 0
        self._lock = threading.Condition()
        self._threads: dict[str, threading.Thread] = {}
        self._kicked: set[str] = set()

    def kick(self, func: Callable[..., Any]) -> None:
        with self._lock:
            if func.__name__ in self._kicked:
                return
            self._kicked.add(func.__name__)
        self.enqueue(func)

    def kicked(self, func: Callable[..., Any]) -> None:
        with self._lock:
            self._kicked.discard(func.__name__)

    def enqueue(self, func: Callable[..., Any], *args: Any, timeout: float | None = None) -> None:
        """``timeout`` marks a long job (see the class); a thread cannot be stopped from outside,
        so the timeout itself is not enforced here."""
        lane = self._long_queue if timeout else self._queue
        with self._lock:
            self._pending += 1
            self._start(lane)
        lane.put((func, args, 0))

    def enqueue_in(self, seconds: float, func: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            self._pending += 1
        timer = threading.Timer(max(seconds, 0), self._queue_later, [func, args])
        timer.daemon = True
        timer.start()

    def waiting(self) -> int:
        return self._queue.qsize()

    def _queue_later(self, func: Callable[..., Any], args: tuple) -> None:
        with self._lock:
            self._start(self._queue)
        self._queue.put((func, args, 0))

    def _start(self, lane: queue.Queue) -> None:
        """The thread that drains ``lane``, started on first use (call with the lock held)."""
        name = "tawasul-jobs" if lane is self._queue else "tawasul-long-jobs"
        if name not in self._threads:
            self._threads[name] = threading.Thread(target=self._run, args=(lane,), name=name, daemon=True)
            self._threads[name].start()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every job, retries included, has finished (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._pending} jobs still pending")
                self._lock.wait(remaining)

    def _run(self, lane: queue.Queue) -> None:
        while True:
            func, args, attempt = lane.get()
            try:
                with self.app.app_context():
                    func(*args)
            except Exception:
                if attempt < len(self.intervals):
                    delay = self.intervals[attempt]
                    log.warning("job %s%r failed, retry in %ss", func.__name__, args, delay, exc_info=True)
                    timer = threading.Timer(delay, lane.put, [(func, args, attempt + 1)])
                    timer.daemon = True
                    timer.start()
                    continue
                log.exception("job %s%r failed for good", func.__name__, args)
            with self._lock:
                self._pending -= 1
                self._lock.notify_all()


def init_app(app: Flask) -> None:
    app.config.setdefault("IN_PROCESS_RETRY_INTERVALS", [1, 5, 15, 60, 300])
    app.config.setdefault("JOB_QUEUE", QUEUE_NAME)
    backend = RqBackend(app) if app.config.get("REDIS_URL") else InProcessRunner(app)
    app.extensions["tawasul_jobs"] = backend


def backend() -> RqBackend | InProcessRunner:
    return current_app.extensions["tawasul_jobs"]


Job = Callable[..., Any] | str
TASKS_MODULE = "inbox.jobs.tasks"


def task(job: Job) -> Callable[..., Any]:
    """The job function ``job`` is, or names in inbox/jobs/tasks.py. Services queue jobs by name:
    the job functions call services, so a service that imported them would import itself."""
    if callable(job):
        return job
    func = getattr(importlib.import_module(TASKS_MODULE), job, None)
    if not callable(func) or getattr(func, "__module__", None) != TASKS_MODULE:  # not what tasks imports
        raise ValueError(f"no job named {job!r} in {TASKS_MODULE}")
    return func


def enqueue(job: Job, *args: Any, timeout: float | None = None) -> None:
    """Queue ``job(*args)``; call only after the transaction that made the work has committed.
    ``timeout`` (seconds) replaces JOB_TIMEOUT_SECONDS for a job known to take longer."""
    backend().enqueue(task(job), *args, timeout=timeout)


def enqueue_in(seconds: float, job: Job, *args: Any) -> None:
    backend().enqueue_in(seconds, task(job), *args)


def waiting() -> int:
    return backend().waiting()


def kick(job: Job) -> None:
    """Queue ``job()`` unless a call to it is queued and not yet started: work that drains a
    backlog (ingest) runs as a few long jobs, not one job per webhook. The job calls
    ``kicked(job)`` first thing, so work stored after that point kicks a new job."""
    backend().kick(task(job))


def kicked(job: Job) -> None:
    backend().kicked(task(job))
