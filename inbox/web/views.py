from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from inbox.auth.decorators import any_user
from inbox.navigation import safe_next
from inbox.payloads import conversation_payload, message_payload
from inbox.services import assignment, classification, conversations, users
from inbox.services.errors import Forbidden, InvalidInput, NotFound
from inbox.web import bp


def _me():
    return current_user._get_current_object()


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("/")
@any_user
def queue():
    status_filter = request.args.get("status", "active")
    try:
        items = conversations.list_conversations(_me(), status_filter)
    except InvalidInput:
        abort(400)
    filters = [f for f in conversations.QUEUE_FILTERS if f != "triage" or _me().sees_all_teams]
    return render_template("web/queue.html", conversations=items, status_filter=status_filter, filters=filters)


@bp.get("/conversations/<int:conversation_id>")
@any_user
def conversation(conversation_id: int):
    try:
        item = conversations.get_conversation(_me(), conversation_id)
    except NotFound:
        abort(404)
    return render_template("web/conversation.html", conversation=item,
                           options=conversations.reply_options(item), targets=assignment.transfer_targets(_me()))


@bp.post("/conversations/<int:conversation_id>/reply")
@any_user
def reply(conversation_id: int):
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
    try:
        item = classification.correct_intent(_me(), conversation_id, request.form.get("intent", ""))
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        if _wants_json():
            return jsonify(error=str(exc)), 422
        abort(400)
    if _wants_json():
        return jsonify(conversation_payload(item))
    return redirect(url_for("web.conversation", conversation_id=conversation_id), 303)


def _assigned(conversation_id: int, change):
    """Claim and transfer: the service decides who may; 404 when unseen, 403 when not theirs."""
    try:
        item = change()
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except InvalidInput as exc:
        if _wants_json():
            return jsonify(error=str(exc)), 422
        flash(str(exc), "error")
        return redirect(url_for("web.conversation", conversation_id=conversation_id), 303)
    if _wants_json():
        return jsonify(conversation_payload(item))
    return redirect(url_for("web.conversation", conversation_id=conversation_id), 303)


def _int(name: str) -> int | None:
    value = request.form.get(name, "")
    return int(value) if value.isdigit() else None


@bp.post("/conversations/<int:conversation_id>/claim")
@any_user
def claim(conversation_id: int):
    return _assigned(conversation_id, lambda: assignment.claim(_me(), conversation_id))


@bp.post("/conversations/<int:conversation_id>/transfer")
@any_user
def transfer(conversation_id: int):
    return _assigned(conversation_id, lambda: assignment.transfer(
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
    try:
        items = conversations.list_conversations(_me(), request.args.get("status", "active"))
    except InvalidInput as exc:
        return jsonify(error=str(exc)), 400
    return jsonify([conversation_payload(c) for c in items])


@bp.get("/api/conversations/<int:conversation_id>")
@any_user
def api_conversation(conversation_id: int):
    try:
        item = conversations.get_conversation(_me(), conversation_id)
    except NotFound:
        return jsonify(error="not found"), 404
    return jsonify(conversation_payload(item) | {"messages": [message_payload(m) for m in item.messages]})
