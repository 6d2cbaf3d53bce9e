"""`flask --app app ...` commands: users, the demo seed, the rq worker."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from connectors.errors import PayloadError
from connectors.registry import PLATFORMS, connector_for
from inbox.models.user import ROLES
from inbox.services import seed, users
from inbox.services.errors import InvalidInput

users_cli = AppGroup("users", help="Manage user accounts.")


def require_schema() -> None:
    """A clear error, not a traceback, when the database has no tables yet (a fresh instance
    that neither ran `flask db upgrade` nor started the embedded app, which upgrades itself)."""
    from sqlalchemy import inspect

    from inbox.extensions import db

    if not inspect(db.engine).has_table("users"):
        raise click.ClickException("the database has no tables yet: run `flask --app app db upgrade` first")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--name", default=None, help="Display name (default: the part before @).")
@click.option("--language", type=click.Choice(users.LANGUAGES), default="ar", show_default=True)
@click.option("--team", "teams", multiple=True, help="Team to join (repeatable; created if new).")
@click.password_option(help="Prompted for when omitted.")
def create_user(email, role, name, language, teams, password):
    """Create a user who can sign in at once."""
    require_schema()
    try:
        user = users.create_user(email, password, role=role, name=name, language=language, team_names=list(teams))
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user.role} {user.email}")


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Create the demo accounts and channel (only if there are no users yet)."""
    require_schema()
    created = seed.seed_demo(current_app.config["DEMO_INTERVAL_SECONDS"])
    click.echo("demo data created" if created else "users exist already: nothing seeded")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker(burst):
    """Run an rq worker (JSON serializer, scheduler for retries) with this app's settings."""
    from inbox.jobs.worker import run_worker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: without it, jobs run inside the web process")
    run_worker(current_app._get_current_object(), burst=burst)


connectors_cli = AppGroup("connectors", help="Look at what the platform connectors read.")


@connectors_cli.command("parse")
@click.argument("platform", type=click.Choice([p for p in PLATFORMS if p != "demo"] + ["demo"]))
@click.argument("payload", type=click.File("rb"))
@click.option("--account-id", default=None, help="The channel's own account id, to tell our messages apart.")
def parse_payload(platform, payload, account_id):
    """Print the messages a stored payload holds, one JSON object per line (exit 2 if unreadable)."""
    try:
        body = json.loads(payload.read())
        events = connector_for(platform, {"account_id": account_id} if account_id else {}).parse(body)
    except PayloadError as exc:
        click.echo(f"cannot read this {platform} payload: {exc.reason}", err=True)
        sys.exit(2)
    except (ValueError, RecursionError) as exc:
        click.echo(f"cannot read this {platform} payload: not JSON ({type(exc).__name__})", err=True)
        sys.exit(2)
    for event in events:
        click.echo(json.dumps(event.to_dict(), ensure_ascii=False))


routing_cli = AppGroup("routing", help="Train, run and measure the intent classifier.")


@routing_cli.command("train")
@click.option("--select/--no-select", default=False, show_default=True,
              help="Choose the configuration by cross-validation first (several minutes; the default "
                   "configuration is the one it chose on the shipped data).")
@click.option("--activate/--no-activate", default=True, show_default=True,
              help="Make the new version the one that classifies (the first version always is).")
@click.option("--agent-labels/--no-agent-labels", default=True, show_default=True,
              help="Train on the agents' intent corrections too (never tested on them).")
@click.option("--notes", default=None, help="A note kept with the version.")
@with_appcontext
def train_model(select, activate, agent_labels, notes):
    """Train on the shipped train split (and agents' corrections), evaluate on its test split,
    save as a new version in its own folder of INTENT_MODEL_DIR."""
    from inbox.services import classification, model_versions
    from routing.cli_support import summary_lines

    require_schema()
    version = model_versions.train_new_version(select_config=select, activate=activate, with_labels=agent_labels,
                                               notes=notes)
    if version.status != "ready":
        raise click.ClickException(f"training failed: {version.error}")
    click.echo(f"saved model {version.version} to {classification.version_path(version.directory)}")
    click.echo(f"version #{version.id} ({'active' if version.active else 'not active'}): trained on "
               f"{version.train_rows} rows, {version.agent_labels} of them agents' labels")
    for line in summary_lines(version.metrics):
        click.echo(line)


@routing_cli.command("classify")
@click.option("--jsonl", "path", required=True, type=click.Path(dir_okay=False, allow_dash=True))
@with_appcontext
def classify(path):
    """{"id","text"} lines in; {"id","intent","confidence","lang","sentiment","urgent"} lines out."""
    from inbox.services.classification import active_model
    from routing.cli_support import classify_jsonl

    model, _version_id = active_model()
    try:
        with click.open_file(path, encoding="utf-8") as handle:
            for row in classify_jsonl(model, handle):
                click.echo(json.dumps(row, ensure_ascii=False))
    except ValueError as exc:
        click.echo(f"cannot read {path}: {exc}", err=True)
        sys.exit(2)


@routing_cli.command("evaluate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def evaluate_model(path):
    """Accuracy and macro-F1 of the saved model on a labelled JSONL file."""
    from inbox.services.classification import active_model
    from routing.cli_support import evaluate_file, summary_lines

    model, _version_id = active_model()
    if model is None:
        raise click.ClickException("no active model: run `flask --app app routing train` first")
    try:
        metrics = evaluate_file(model, path)
    except ValueError as exc:
        click.echo(f"cannot read {path}: {exc}", err=True)
        sys.exit(2)
    for line in summary_lines(metrics):
        click.echo(line)


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Enqueue periodic jobs (polls, sweeps, health checks) onto rq; run exactly one."""
    from inbox.jobs.schedule import run_schedule

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: in embedded mode the web process schedules")
    run_schedule(current_app._get_current_object())


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(worker)
    app.cli.add_command(connectors_cli)
    app.cli.add_command(scheduler)
    app.cli.add_command(routing_cli)
