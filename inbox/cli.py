"""`flask --app app ...` commands: users, the demo seed, the rq worker."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

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


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(worker)
