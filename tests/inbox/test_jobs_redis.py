"""Jobs on real Redis through rq: JSON on the wire, a timeout and retries on every job."""
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from inbox.extensions import db
from inbox.models import Message
from tests import factories
from tests.conftest import login, make_app, post
from tests.services import REDIS_URL, require

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_app(database_url):
    require("redis")
    connection = Redis.from_url(REDIS_URL)
    connection.flushdb()
    app = make_app(database_url, REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI=REDIS_URL)
    yield app
    connection.flushdb()
    connection.close()


def agent_replies(app, text: str, client_token: str):
    """An agent answers a new customer message; returns the reply as the API shows it."""
    with app.app_context():
        world = factories.refs(factories.world())
        got = factories.receive(world.channel_a.id)
    client = app.test_client()
    login(client, world.agent_a.email)
    response = post(client, f"/conversations/{got.conversation_id}/reply", {"text": text, "client_token": client_token},
                    headers={"Accept": "application/json"})
    assert response.status_code == 201
    return response


def test_a_reply_goes_through_rq_and_is_sent(redis_app):
    app = redis_app
    response = agent_replies(app, "checking", "r1")

    queue = Queue("default", connection=Redis.from_url(REDIS_URL), serializer=JSONSerializer)
    [job_id] = queue.job_ids
    raw = Redis.from_url(REDIS_URL).hget(f"rq:job:{job_id}", "data")
    assert json.loads(zlib.decompress(raw))  # JSON, never pickle
    job = queue.fetch_job(job_id)
    assert job.timeout == app.config["JOB_TIMEOUT_SECONDS"]
    assert job.retries_left == len(app.config["JOB_RETRY_INTERVALS"])

    with app.app_context():
        assert db.session.get(Message, response.json["id"]).state == "queued"
        SimpleWorker([queue], connection=queue.connection, serializer=JSONSerializer).work(burst=True)
        db.session.expire_all()
        assert db.session.get(Message, response.json["id"]).state == "sent"
    # Running the job again (at-least-once delivery) changes nothing.
    with app.app_context():
        from inbox.jobs import tasks

        tasks.deliver_message(response.json["id"])
        message = db.session.get(Message, response.json["id"])
        assert message.state == "sent" and message.external_id == "demo-out-r1"


def test_a_training_job_gets_its_own_longer_timeout(redis_app):
    """Training takes about a minute: under the 60 s every other job gets, rq would kill it."""
    from inbox.services import model_versions

    with redis_app.app_context():
        admin = factories.user("admin@example.com", role="admin")
        model_versions.request_training(admin, activate=False)
    queue = Queue("default", connection=Redis.from_url(REDIS_URL), serializer=JSONSerializer)
    [job_id] = queue.job_ids
    job = queue.fetch_job(job_id)
    assert job.func_name == "inbox.jobs.tasks.train_intent_model"
    assert job.timeout == redis_app.config["TRAINING_JOB_TIMEOUT_SECONDS"] > redis_app.config["JOB_TIMEOUT_SECONDS"]


def test_the_worker_command_refuses_to_run_without_redis(database_url):
    app = make_app(database_url)
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output


def test_the_worker_command_runs_queued_jobs(redis_app, database_url, tmp_path):
    """`flask --app app worker`: a forking rq worker with the app's context in each job."""
    app = redis_app
    reply = agent_replies(app, "hello", "w1").json
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
           "TAWASUL_INSTANCE_PATH": str(tmp_path / "worker")}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "worker", "--burst"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    with app.app_context():
        assert db.session.get(Message, reply["id"]).state == "sent"
