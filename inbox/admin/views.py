from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from inbox.auth.decorators import admin_only
from inbox.models import Channel
from inbox.services import (
    agents,
    canned,
    channels,
    directory,
    model_versions,
    routing_decisions,
    routing_rules,
    routing_settings,
    rule_form,
    sla_settings,
    users,
)
from inbox.services.errors import InvalidInput, NotFound

bp = Blueprint("admin", __name__, url_prefix="/admin")


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


# ---- SLA policies and business hours ---------------------------------------------------------
def _sla_page(values: sla_settings.SlaForm | None = None, errors: dict[str, str] | None = None, status: int = 200):
    return render_template("admin/sla.html", form=values or sla_settings.form(), errors=errors or {},
                           weekdays=sla_settings.WEEKDAYS, targets=sla_settings.TARGET_FIELDS), status


def _posted_overrides() -> list[dict[str, str]]:
    columns = [request.form.getlist(f"override-{key}") for key in ("name", "first_day", "last_day", "hours")]
    return [dict(zip(("name", "first_day", "last_day", "hours"), row, strict=True))
            for row in zip(*columns, strict=False)]


@bp.get("/sla")
@admin_only
def sla():
    return _sla_page()


@bp.post("/sla/policies")
@admin_only
def save_sla_policies():
    try:
        sla_settings.save_policies(_me(), request.form.to_dict())
    except sla_settings.SettingsInvalid as exc:
        shown = sla_settings.form()
        posted = {k: request.form.get(k, "") for k in shown.policies}
        return _sla_page(sla_settings.SlaForm(posted, shown.hours, shown.overrides), exc.errors, 422)
    flash(_("SLA policies saved: conversations opened from now on use them."), "info")
    return redirect(url_for("admin.sla"), 303)


@bp.post("/sla/hours")
@admin_only
def save_business_hours():
    overrides = _posted_overrides()
    try:
        sla_settings.save_business_hours(_me(), request.form.to_dict(), overrides)
    except sla_settings.SettingsInvalid as exc:
        shown = sla_settings.form()
        posted = {k: request.form.get(k, "") for k in shown.hours}
        return _sla_page(sla_settings.SlaForm(shown.policies, posted, overrides), exc.errors, 422)
    flash(_("Business hours saved."), "info")
    return redirect(url_for("admin.sla"), 303)


# ---- routing: rules, dry-run, settings, teams and agents ----------------------------------
def _routing_page(error: str | None = None, draft: str | None = None, trial=None, status: int = 200):
    return render_template("admin/routing.html", rules=routing_rules.list_rules(), error=error, draft=draft,
                           trial=trial, settings=routing_settings.get(), canned=agents.list_canned(),
                           **directory.overview()), status


@bp.get("/routing")
@admin_only
def routing():
    return _routing_page()


def _rule_page(found, form: rule_form.RuleForm, text: str | None = None, error: str | None = None,
               status: int = 200):
    """The rule's form (rows of conditions and actions), its JSON as an advanced option; after a
    refused save, everything as the admin typed it, with the errors beside the rows."""
    if text is None:
        text = json.dumps({k: v for k, v in found.as_dict().items() if k != "id"}, ensure_ascii=False,
                          indent=2) if found else ""
    return render_template("admin/rule.html", rule=found, form=form, text=text, error=error,
                           condition_kinds=rule_form.CONDITION_KINDS, action_kinds=rule_form.ACTION_KINDS,
                           options=rule_form.form_options()), status


def _save_rule(found):
    """Either the advanced JSON (field ``rule``) or the form; "add"/"remove" buttons re-render."""
    rule_id = found.id if found else None
    if "rule" in request.form:
        try:
            routing_rules.save_rule(_me(), rule_id, routing_rules.parse_json(request.form["rule"]))
        except InvalidInput as exc:
            if found is None:
                return _routing_page(str(exc), request.form["rule"], status=422)
            return _rule_page(found, rule_form.form_of(found), request.form["rule"], str(exc), 422)
    else:
        form = rule_form.read_form(request.form)
        change = request.form.get("change", "")
        if change:
            rule_form.change_form(form, change, request.form.get("new_condition"),
                                      request.form.get("new_action"))
            return _rule_page(found, form)
        try:
            rule_form.save_form(_me(), rule_id, form)
        except InvalidInput:
            return _rule_page(found, form, status=422)
    flash(_("Rule saved."), "info")
    return redirect(url_for("admin.routing"), 303)


def _found_rule(rule_id: int):
    try:
        return routing_rules.get_rule(rule_id)
    except NotFound:
        abort(404)


@bp.get("/routing/rules/new")
@admin_only
def new_rule():
    return _rule_page(None, rule_form.form_of(None))


@bp.post("/routing/rules")
@admin_only
def create_rule():
    return _save_rule(None)


@bp.get("/routing/rules/<int:rule_id>")
@admin_only
def rule(rule_id: int):
    found = _found_rule(rule_id)
    return _rule_page(found, rule_form.form_of(found))


@bp.post("/routing/rules/<int:rule_id>")
@admin_only
def save_rule(rule_id: int):
    return _save_rule(_found_rule(rule_id))


@bp.post("/routing/rules/<int:rule_id>/<any(up, down, enable, disable, delete):change>")
@admin_only
def change_rule(rule_id: int, change: str):
    try:
        if change in ("up", "down"):
            routing_rules.move(_me(), rule_id, change)
        elif change == "delete":
            routing_rules.delete_rule(_me(), rule_id)
        else:
            routing_rules.set_enabled(_me(), rule_id, change == "enable")
    except NotFound:
        abort(404)
    return redirect(url_for("admin.routing"), 303)


@bp.post("/routing/dry-run")
@admin_only
def dry_run():
    form = request.form
    try:
        draft = None
        if form.get("rule", "").strip():
            draft = routing_rules.parse_rule(routing_rules.parse_json(form["rule"]))
        trial = routing_decisions.dry_run(
            form.get("text", ""), int(form["channel_id"]) if form.get("channel_id", "").isdigit() else None,
            form.get("public") == "1", agents.parse_names(form.get("customer_tags", "")),
            {"inside": True, "outside": False}.get(form.get("business_hours", "")), draft=draft)
    except InvalidInput as exc:
        return _routing_page(str(exc), form.get("rule"), status=422)
    return _routing_page(draft=form.get("rule"), trial=trial)


@bp.post("/routing/settings")
@admin_only
def save_routing_settings():
    form = request.form
    try:
        ladder = routing_rules.parse_json(form.get("ladder", ""))
        weights = routing_rules.parse_json(form.get("weights", ""))
        routing_settings.save(_me(), {
            "triage_below": float(form.get("triage_below", "")), "ladder": ladder, "weights": weights,
            "return_work_when_offline": form.get("return_work_when_offline") == "1",
            "offline_grace_seconds": int(form.get("offline_grace_seconds", "")),
            "skills": agents.parse_names(form.get("skills", ""))})
    except ValueError:
        return _routing_page(_("Numbers are needed for the threshold and the grace."), status=422)
    except InvalidInput as exc:
        return _routing_page(str(exc), status=422)
    flash(_("Routing settings saved."), "info")
    return redirect(url_for("admin.routing"), 303)


@bp.post("/teams/<int:team_id>/parent")
@admin_only
def set_team_parent(team_id: int):
    parent = request.form.get("parent_id", "")
    try:
        agents.set_team_parent(_me(), team_id, int(parent) if parent.isdigit() else None)
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        return _routing_page(str(exc), status=422)
    return redirect(url_for("admin.routing"), 303)


@bp.post("/users/<int:user_id>/routing")
@admin_only
def set_agent_routing(user_id: int):
    form = request.form
    try:
        capacity = int(form.get("capacity", ""))
        agents.set_agent_routing(_me(), user_id, agents.parse_names(form.get("skills", "")),
                                 form.getlist("languages"), capacity)
    except NotFound:
        abort(404)
    except ValueError:
        return _routing_page(_("Capacity is a whole number."), status=422)
    except InvalidInput as exc:
        return _routing_page(str(exc), status=422)
    return redirect(url_for("admin.routing"), 303)


@bp.post("/canned")
@admin_only
def add_canned():
    try:
        agents.add_canned(_me(), request.form.get("title", ""), request.form.get("text", ""))
    except InvalidInput as exc:
        return _routing_page(str(exc), status=422)
    return redirect(url_for("admin.routing"), 303)


# ---- canned responses: shortcut, Arabic and English versions (inbox/services/canned.py) ----

def _canned_page(edit=None, error: str | None = None, form=None, status: int = 200):
    return render_template("admin/canned.html", items=canned.list_canned(), edit=edit, error=error,
                           form=form or {}, variables=canned.VARIABLES), status


@bp.get("/canned")
@admin_only
def canned_list():
    return _canned_page()


@bp.get("/canned/<int:canned_id>")
@admin_only
def canned_edit(canned_id: int):
    try:
        return _canned_page(edit=canned.get_canned(canned_id))
    except NotFound:
        abort(404)


@bp.post("/canned/save")
@admin_only
def canned_save():
    form = request.form
    canned_id = int(form["id"]) if form.get("id", "").isdigit() else None
    try:
        canned.save_canned(_me(), canned_id, form.get("title", ""), form.get("shortcut", ""),
                           form.get("text_ar", ""), form.get("text_en", ""))
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        edit = canned.get_canned(canned_id) if canned_id else None
        return _canned_page(edit=edit, error=str(exc), form=form, status=422)
    flash(_("Canned response saved."), "info")
    return redirect(url_for("admin.canned_list"), 303)


@bp.post("/canned/<int:canned_id>/delete")
@admin_only
def canned_delete(canned_id: int):
    try:
        canned.delete_canned(_me(), canned_id)
    except NotFound:
        abort(404)
    flash(_("Canned response deleted."), "info")
    return redirect(url_for("admin.canned_list"), 303)
