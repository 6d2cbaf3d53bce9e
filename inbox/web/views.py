from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from inbox.auth.decorators import any_user
from inbox.navigation import safe_next
from inbox.payloads import conversation_payload, message_payload, note_payload
from inbox.services import (
    assignment,
    canned,
    classification,
    collision,
    conversation_tags,
    conversations,
    handoff,
    notes,
    snooze,
    timeline,
    users,
)
from inbox.services import priority as conversation_priority
from inbox.services import queue as queue_service
from inbox.services.errors import Forbidden, InvalidInput, NotFound

bp = Blueprint("web", __name__)


def _me():
    return current_user._get_current_object()


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("/")
@any_user
def queue():
    """The first page of a view, its filters in the URL (a reload or a bookmark restores them)."""
    try:
        query = queue_service.parse_query(_me(), request.args)
        page = queue_service.page(_me(), query, with_counts=True)
    except InvalidInput:
        abort(400)
    return render_template("web/queue.html", page=page, query=query, views=queue_service.views_for(_me()),
                           choices=queue_service.filter_choices(_me()), count_cap=queue_service.COUNT_CAP)


@bp.get("/conversations/<int:conversation_id>")
@any_user
def conversation(conversation_id: int):
    try:
        item = conversations.get_conversation(_me(), conversation_id)
    except NotFound:
        abort(404)
    return render_template("web/conversation.html", conversation=item,
                           options=conversations.reply_options(item), targets=assignment.transfer_targets(_me()),
                           screen=_screen(item))


def _crossing_refused(conversation_id: int):
    """A colleague's reply or the customer's new message since the agent's last look: ask first
    (409 with who answered) unless the agent confirmed; None when the reply may go."""
    try:
        collision.check(_me(), conversation_id, _int("last_seen_message_id"),
                        confirmed=request.form.get("confirm_crossing") == "1")
    except NotFound:
        abort(404)
    except collision.Crossing as crossing:
        if _wants_json():
            return jsonify(crossing.payload()), 409
        flash(str(crossing), "error")
        return redirect(url_for("web.conversation", conversation_id=conversation_id), 303)
    return None


@bp.post("/conversations/<int:conversation_id>/reply")
@any_user
def reply(conversation_id: int):
    refused = _crossing_refused(conversation_id)
    if refused is not None:
        return refused
    try:
        message = conversations.reply(
            _me(), conversation_id, request.form.get("text", ""), request.form.get("client_token"),
            template=request.form.get("template") or None,
            private=request.form.get("private") in ("1", "true", "on"),  # a private reply to the comment
        )
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        if _wants_json():
            return jsonify(error=str(exc), reason=getattr(exc, "reason", None)), 422
        flash(str(exc), "error")
        return redirect(url_for("web.conversation", conversation_id=conversation_id), 303)
    if _wants_json():
        return jsonify(message_payload(message)), 201
    return redirect(url_for("web.conversation", conversation_id=conversation_id), 303)


@bp.post("/conversations/<int:conversation_id>/handoff")
@any_user
def hand_off(conversation_id: int):
    """X: a short public reply to the mention and a DM that continues in the private conversation."""
    refused = _crossing_refused(conversation_id)
    if refused is not None:
        return refused
    try:
        done = handoff.start(_me(), conversation_id, request.form.get("public_text", ""),
                                     request.form.get("private_text", ""), request.form.get("client_token"))
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        if _wants_json():
            return jsonify(error=str(exc)), 422
        flash(str(exc), "error")
        return redirect(url_for("web.conversation", conversation_id=conversation_id), 303)
    dm_url = url_for("web.conversation", conversation_id=done.dm_conversation_id)
    if _wants_json():
        return jsonify(public=message_payload(done.public), private=message_payload(done.private),
                       dm_conversation_id=done.dm_conversation_id, dm_url=dm_url), 201
    return redirect(dm_url, 303)


@bp.post("/messages/<int:message_id>/retry")
@any_user
def retry(message_id: int):
    try:
        message = conversations.retry_message(_me(), message_id)
    except NotFound:
        abort(404)
    if _wants_json():
        return jsonify(message_payload(message))
    return redirect(url_for("web.conversation", conversation_id=message.conversation_id), 303)


@bp.post("/conversations/<int:conversation_id>/status")
@any_user
def set_status(conversation_id: int):
    try:
        item = conversations.set_status(_me(), conversation_id, request.form.get("status", ""))
    except NotFound:
        abort(404)
    except InvalidInput:
        abort(400)
    if _wants_json():
        return jsonify(conversation_payload(item))
    return redirect(url_for("web.conversation", conversation_id=conversation_id), 303)


@bp.post("/conversations/<int:conversation_id>/intent")
@any_user
def correct_intent(conversation_id: int):
    """An agent's correction of the intent: the conversation's from now on, and a training row."""
    return _json_or_back(conversation_id, lambda: classification.correct_intent(
        _me(), conversation_id, request.form.get("intent", "")), bad_form=400)


@bp.post("/conversations/<int:conversation_id>/priority")
@any_user
def set_priority(conversation_id: int):
    """Form field ``priority`` 1 (urgent) … 4 (low): the SLA's due times follow the new policy."""
    return _json_or_back(conversation_id, lambda: conversation_priority.set_priority(
        _me(), conversation_id, request.form.get("priority", "")), bad_form=400)


def _int(name: str) -> int | None:
    value = request.form.get(name, "")
    return int(value) if value.isdigit() else None


@bp.post("/conversations/<int:conversation_id>/claim")
@any_user
def claim(conversation_id: int):
    return _json_or_back(conversation_id, lambda: assignment.claim(_me(), conversation_id))


@bp.post("/conversations/<int:conversation_id>/transfer")
@any_user
def transfer(conversation_id: int):
    return _json_or_back(conversation_id, lambda: assignment.transfer(
        _me(), conversation_id, agent_id=_int("agent_id"), team_id=_int("team_id")))


@bp.post("/presence")
@any_user
def set_presence():
    try:
        assignment.set_presence(_me(), request.form.get("presence", ""))
    except InvalidInput:
        abort(400)
    return redirect(safe_next(request.form.get("next")), 303)


@bp.post("/language")
def set_language():
    """Anyone may switch language; a signed-in user keeps the choice on their account."""
    language = request.form.get("language", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400)
    if current_user.is_authenticated:
        users.set_language(_me(), language)
    session["language"] = language
    return redirect(safe_next(request.form.get("next")), 303)


@bp.get("/api/conversations")
@any_user
def api_conversations():
    """``?view=&status=&channel=&platform=&intent=&language=&priority=&sla=&q=&after=&counts=1``:
    ``{"items": [...], "next": cursor or null}`` (and ``"counts"`` per view when asked)."""
    try:
        query = queue_service.parse_query(_me(), request.args)
        page = queue_service.page(_me(), query, with_counts=request.args.get("counts") == "1")
    except InvalidInput as exc:
        return jsonify(error=str(exc)), 400
    body = {"items": [conversation_payload(c) for c in page.items], "next": page.next}
    return jsonify(body | ({"counts": page.counts} if page.counts else {}))


@bp.get("/api/conversations/counts")
@any_user
def api_conversation_counts():
    """The counts per view under the same filters: the tabs refresh them on socket events."""
    try:
        query = queue_service.parse_query(_me(), request.args)
        return jsonify(counts=queue_service.counts(_me(), query))
    except InvalidInput as exc:
        return jsonify(error=str(exc)), 400


@bp.get("/api/conversations/<int:conversation_id>")
@any_user
def api_conversation(conversation_id: int):
    try:
        item = conversations.get_conversation(_me(), conversation_id)
    except NotFound:
        return jsonify(error="not found"), 404
    return jsonify(conversation_payload(item) | {"messages": [message_payload(m) for m in item.messages],
                                                 "assignee_name": item.assignee.name if item.assignee else None})


@bp.get("/team")
@any_user
def team():
    """Supervisors' live panel: every agent's presence and open load (inbox/static/together.js)."""
    if not _me().sees_all_teams:
        abort(403)
    return render_template("web/team.html", agents=assignment.team_presence())


@bp.get("/api/team")
@any_user
def api_team():
    if not _me().sees_all_teams:
        return jsonify(error="forbidden"), 403
    return jsonify(assignment.team_presence())


# ---- the conversation screen: notes and mentions, tags, snooze, history, canned responses ----

def _screen(item) -> dict:
    """What conversation.html shows beyond the conversation itself."""
    limit, counting = conversations.text_limit(item)
    private_limit, _counting = conversations.text_limit(item, private=True)
    return {"thread": timeline.thread(item), "history": timeline.customer_history(_me(), item),
            "events": timeline.events(item), "text_limit": limit, "text_counting": counting,
            "private_text_limit": private_limit, "canned_language": canned.preferred_language(item),
            "handoff_text": handoff.suggested_text(item.language) if handoff.available(item) else None}


def _json_or_back(conversation_id: int, change, payload=conversation_payload, status: int = 200,
                  bad_form: int | None = None):
    """Run a change on a conversation: JSON for the screen's fetch, a redirect back for a plain form.
    The service decides who may: 404 when the conversation is unseen, 403 when not theirs; invalid
    input is 422 with the reason as JSON, and for a form a flashed message (or ``bad_form``)."""
    try:
        result = change()
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except InvalidInput as exc:
        if _wants_json():
            return jsonify(error=str(exc)), 422
        if bad_form:
            abort(bad_form)
        flash(str(exc), "error")
        return redirect(url_for("web.conversation", conversation_id=conversation_id), 303)
    if _wants_json():
        return jsonify(payload(result)), status
    return redirect(url_for("web.conversation", conversation_id=conversation_id), 303)


@bp.post("/conversations/<int:conversation_id>/notes")
@any_user
def add_note(conversation_id: int):
    """A private note; the colleagues it @mentions are notified."""
    return _json_or_back(conversation_id, lambda: notes.add_note(_me(), conversation_id, request.form.get("text", "")),
                         note_payload, 201)


@bp.get("/conversations/<int:conversation_id>/mentionable")
@any_user
def mentionable(conversation_id: int):
    try:
        people = notes.mentionable(_me(), conversation_id)
    except NotFound:
        return jsonify(error="not found"), 404
    return jsonify([{"id": p.id, "name": p.name, "handle": notes.handle_of(p)} for p in people if p.id != _me().id])


@bp.get("/conversations/<int:conversation_id>/timeline")
@any_user
def conversation_timeline(conversation_id: int):
    """The event history as an HTML fragment (the screen refreshes it when an event is recorded)."""
    try:
        item = conversations.get_conversation(_me(), conversation_id)
    except NotFound:
        abort(404)
    return render_template("web/_timeline.html", events=timeline.events(item))


@bp.post("/conversations/<int:conversation_id>/tags")
@any_user
def add_tag(conversation_id: int):
    return _json_or_back(conversation_id, lambda: conversation_tags.add_tag(
        _me(), conversation_id, request.form.get("name", "")), _tags_payload)


@bp.post("/conversations/<int:conversation_id>/tags/remove")
@any_user
def remove_tag(conversation_id: int):
    return _json_or_back(conversation_id, lambda: conversation_tags.remove_tag(
        _me(), conversation_id, request.form.get("name", "")), _tags_payload)


def _tags_payload(item) -> dict:
    return {"conversation_id": item.id, "tags": sorted(t.name for t in item.tags)}


@bp.post("/conversations/<int:conversation_id>/snooze")
@any_user
def snooze_conversation(conversation_id: int):
    """Snoozed until the ``until`` field (the user's local date and time)."""
    return _json_or_back(conversation_id, lambda: snooze.snooze(
        _me(), conversation_id, snooze.parse_local(request.form.get("until", ""), _me().timezone)))


@bp.get("/api/canned")
@any_user
def api_canned():
    """Canned responses matching ``q``, rendered for ``conversation_id`` (its variables filled in)."""
    conversation_id = request.args.get("conversation_id", "")
    if not conversation_id.isdigit():
        return jsonify(error="conversation_id is required"), 400
    try:
        return jsonify(canned.for_conversation(_me(), int(conversation_id), request.args.get("q", "")))
    except NotFound:
        return jsonify(error="not found"), 404


@bp.get("/notifications")
@any_user
def notification_list():
    from inbox.payloads import notification_payload

    return jsonify(unread=notes.unread_count(_me()),
                   items=[notification_payload(n) for n in notes.notifications_for(_me())])


@bp.post("/notifications/read")
@any_user
def notifications_read():
    """Mark one notification (``id``) or all of them read."""
    try:
        notes.mark_read(_me(), _int("id"))
    except NotFound:
        abort(404)
    if _wants_json():
        return jsonify(unread=notes.unread_count(_me()))
    return redirect(safe_next(request.form.get("next")), 303)


@bp.app_context_processor
def _notification_count() -> dict:
    """The top bar's unread badge, counted only when a page shows it."""
    def unread() -> int:
        return notes.unread_count(_me()) if current_user.is_authenticated else 0
    return {"unread_notifications": unread}
