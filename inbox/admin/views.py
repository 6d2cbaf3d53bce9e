from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from inbox.admin import bp
from inbox.auth.decorators import admin_only
from inbox.models import Channel
from inbox.services import channels, directory, model_versions, users
from inbox.services.errors import InvalidInput, NotFound


def _me():
    return current_user._get_current_object()


@bp.get("/")
@admin_only
def index():
    return render_template("admin/index.html", **directory.overview(), reauth=channels.needing_reauth(),
                           platforms=channels.ADMIN_PLATFORMS)


@bp.post("/users/<int:user_id>/active")
@admin_only
def set_user_active(user_id: int):
    active = request.form.get("active") == "1"
    try:
        users.set_active(_me(), user_id, active)
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.index"), 303)
    flash(_("User activated.") if active else _("User deactivated; their sessions have ended."), "info")
    return redirect(url_for("admin.index"), 303)


# ---- channels ----------------------------------------------------------------------------
def _platform(name: str | None) -> str:
    if name not in channels.ADMIN_PLATFORMS:
        abort(404)
    return name


def _channel(channel_id: int) -> Channel:
    try:
        return channels.get_channel(channel_id)
    except NotFound:
        abort(404)


def _page(channel: Channel | None, platform: str, posted: dict[str, str] | None = None,
          error: str | None = None, status: int = 200):
    """The channel's form (and status, once it exists). After a refused save it shows what
    was posted, except credentials, which are never sent back to the browser."""
    form = channels.channel_form(channel, platform)
    values = {**form.values, **(posted or {})}
    return render_template("admin/channel_form.html", channel=channel, form=form, values=values, error=error,
                           webhook_url=_public_url(form.webhook_path) if form.webhook_path else None,
                           team_names=channels.team_names(), reauth=channels.needing_reauth()), status


def _public_url(path: str) -> str:
    """Where platforms reach this app: PUBLIC_BASE_URL behind a proxy, else this request's host."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/") + path


def _posted(platform: str) -> dict[str, str]:
    """The form's fields this platform has: name, team, settings and credentials."""
    keys = ("name", "team", *channels.editable_settings(platform), *channels.secret_keys(platform))
    return {key: request.form[key] for key in keys if key in request.form}


def _save(channel: Channel | None, platform: str):
    posted = _posted(platform)
    try:
        saved = channels.save_channel(_me(), channel.id if channel else None, platform, posted.pop("name", ""),
                                      posted.pop("team", ""), posted)
    except InvalidInput as exc:
        shown = {k: v for k, v in request.form.items() if k not in channels.secret_keys(platform)}
        return _page(channel, platform, shown, str(exc), 422)
    flash(_("Channel saved."), "info")
    return redirect(url_for("admin.channel", channel_id=saved.id), 303)


@bp.get("/channels/new")
@admin_only
def new_channel():
    return _page(None, _platform(request.args.get("platform")))


@bp.post("/channels")
@admin_only
def create_channel():
    return _save(None, _platform(request.form.get("platform")))


@bp.get("/channels/<int:channel_id>")
@admin_only
def channel(channel_id: int):
    found = _channel(channel_id)
    return _page(found, found.platform)


@bp.post("/channels/<int:channel_id>")
@admin_only
def save_channel(channel_id: int):
    found = _channel(channel_id)
    return _save(found, found.platform)


@bp.post("/channels/<int:channel_id>/pause")
@admin_only
def pause_channel(channel_id: int):
    paused = request.form.get("paused")
    if paused not in ("0", "1"):
        abort(400)
    try:
        channels.set_paused(_me(), channel_id, paused == "1")
    except NotFound:
        abort(404)
    flash(_("Channel paused: nothing is fetched or sent until it is resumed.") if paused == "1"
          else _("Channel resumed."), "info")
    return redirect(url_for("admin.channel", channel_id=channel_id), 303)


@bp.post("/channels/<int:channel_id>/test")
@admin_only
def test_channel(channel_id: int):
    try:
        ok, detail = channels.check_health(channel_id)
    except NotFound:
        abort(404)
    if ok:
        flash(_("The connection works: %(detail)s", detail=detail), "info")
    else:
        flash(_("The connection failed: %(reason)s", reason=detail), "error")
    return redirect(url_for("admin.channel", channel_id=channel_id), 303)


@bp.post("/channels/<int:channel_id>/webhook")
@admin_only
def register_webhook(channel_id: int):
    found = _channel(channel_id)
    ok, detail = channels.register_webhook(_me(), channel_id, _public_url(channels.webhook_path(found)))
    if ok:
        flash(_("Webhook registered: %(detail)s", detail=detail), "info")
    else:
        flash(_("The webhook could not be registered: %(reason)s", reason=detail), "error")
    return redirect(url_for("admin.channel", channel_id=channel_id), 303)


# ---- intent models -----------------------------------------------------------------------
@bp.get("/models")
@admin_only
def models():
    return render_template("admin/models.html", versions=model_versions.list_versions(),
                           labelled=model_versions.labelled_conversations())


@bp.post("/models/train")
@admin_only
def train_model():
    try:
        model_versions.request_training(_me(), activate=request.form.get("activate") == "1",
                                        notes=request.form.get("notes"))
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.models"), 303)
    flash(_("Training started: the new version appears here in a minute or two."), "info")
    return redirect(url_for("admin.models"), 303)


@bp.post("/models/<int:version_id>/activate")
@admin_only
def activate_model(version_id: int):
    try:
        version = model_versions.activate_version(_me().id, version_id)
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.models"), 303)
    flash(_("Version %(version)s classifies new conversations now.", version=version.version), "info")
    return redirect(url_for("admin.models"), 303)
