from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request

from inbox.extensions import csrf, limiter
from inbox.jobs import tasks
from inbox.jobs.queue import kick
from inbox.services import webhooks
from inbox.services.errors import InvalidInput, NotFound

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


@bp.get("/<platform>/<int:channel_id>")
@limiter.exempt
def handshake(platform: str, channel_id: int):
    try:
        challenge = webhooks.handshake(platform, channel_id, request.args.to_dict())
    except NotFound:
        return jsonify(error="not found"), 404
    if challenge is None:
        return jsonify(error="verification failed"), 403
    return Response(challenge, 200, mimetype="text/plain")


@bp.post("/<platform>/<int:channel_id>")
@csrf.exempt
@limiter.exempt
def deliver(platform: str, channel_id: int):
    """Answer fast: store first, parse later. A 2xx only once the events are in the database;
    if queueing the parse fails, the sweeper picks the stored events up (nothing is lost)."""
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(error="body too large"), 413
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        return jsonify(error="body too large"), 413
    try:
        accepted = webhooks.accept(platform, channel_id, request.headers, raw)
    except NotFound:
        return jsonify(error="not found"), 404
    except webhooks.SignatureInvalid:
        return jsonify(error="invalid signature"), 401
    except InvalidInput as exc:
        log.warning("webhook for channel %s refused: %s", channel_id, exc)
        return jsonify(error=str(exc)), 400
    if accepted.stored:
        try:
            kick(tasks.ingest_pending)
        except Exception:  # Redis away: the events are stored, the sweeper will parse them
            current_app.logger.warning("could not queue %d raw events; the sweeper will", len(accepted.stored),
                                       exc_info=True)
    return jsonify(stored=len(accepted.stored), duplicates=accepted.duplicates), 200
