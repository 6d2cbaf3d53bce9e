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


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--name", default=None, help="Display name (default: the part before @).")
@click.option("--language", type=click.Choice(users.LANGUAGES), default="ar", show_default=True)
@click.option("--team", "teams", multiple=True, help="Team to join (repeatable; created if new).")
@click.password_option(help="Prompted for when omitted.")
def create_user(email, role, name, language, teams, password):
    """Create a user who can sign in at once."""
    try:
        user = users.create_user(email, password, role=role, name=name, language=language, team_names=list(teams))
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user.role} {user.email}")


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Create the demo accounts and channel (only if there are no users yet)."""
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
