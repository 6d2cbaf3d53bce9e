"""Embedded mode: jobs in a thread of the web process, and the demo channel's schedule."""
import threading
import time

import pytest

from inbox.jobs.schedule import due_channels
from tests import factories
from tests.conftest import jobs

attempts: list[int] = []


def flaky_job(n: int) -> None:
    attempts.append(n)
    if len(attempts) < 3:
        raise ConnectionError("database went away for a moment")


def test_a_failing_job_is_retried_until_it_succeeds(app):
    attempts.clear()
    jobs(app).enqueue(flaky_job, 7)
    jobs(app).drain()
    assert attempts == [7, 7, 7]


def test_a_job_that_keeps_failing_gives_up_after_its_retries(app):
    attempts.clear()

    def always_fails() -> None:
        attempts.append(1)
        raise ConnectionError("still down")

    jobs(app).enqueue(always_fails)
    jobs(app).drain()
    assert len(attempts) == 1 + len(app.config["IN_PROCESS_RETRY_INTERVALS"])


def test_a_long_job_does_not_hold_up_the_short_ones(app):
    """A training (a job with its own timeout) runs beside ingest and replies, not before them."""
    release, done = threading.Event(), []

    def training() -> None:
        assert release.wait(30)
        done.append("training")

    def ingest() -> None:
        done.append("ingest")

    jobs(app).enqueue(training, timeout=900)
    jobs(app).enqueue(ingest)
    deadline = time.monotonic() + 10
    while not done and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done == ["ingest"]  # while the training still runs
    release.set()
    jobs(app).drain()
    assert done == ["ingest", "training"]


def test_polled_channels_are_due_once_per_interval(ctx):
    world = factories.world()  # two demo channels, poll_interval 1 s
    last_run: dict[int, float] = {}
    due = due_channels(last_run, now=100.0)
    assert sorted(due) == sorted([world.channel_a.id, world.channel_b.id])
    last_run.update(dict.fromkeys(due, 100.0))
    assert due_channels(last_run, now=100.5) == []
    assert sorted(due_channels(last_run, now=101.0)) == sorted(due)


def test_services_queue_jobs_by_name_and_a_wrong_name_is_refused_at_once(app, monkeypatch):
    """Services name their jobs (the job functions import the services); the name resolves to
    the function in inbox/jobs/tasks.py before anything is queued, and a misspelt one raises
    where it was written instead of failing later in a worker."""
    from inbox.jobs import queue, tasks

    queued = []
    monkeypatch.setattr(jobs(app), "enqueue", lambda func, *args, timeout=None: queued.append((func, args)))
    with app.app_context():
        queue.enqueue("deliver_message", 41)
        with pytest.raises(ValueError, match="no job named 'deliver_mesage'"):
            queue.enqueue("deliver_mesage", 42)
        with pytest.raises(ValueError, match="no job named 'time'"):
            queue.kick("time")  # a module tasks imports is not a job
        with pytest.raises(ValueError, match="no job named 'enqueue'"):
            queue.enqueue("enqueue")  # nor a function it imports
    assert queued == [(tasks.deliver_message, (41,))]
