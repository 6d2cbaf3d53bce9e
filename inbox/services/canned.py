"""Canned responses: admins keep them (Arabic and English versions, a shortcut); agents find
them by shortcut or title and insert them with the conversation's variables filled in.

Variables are replaced by a fixed table, never by ``str.format`` (a stored ``{0.__class__}``
stays text); the result is plain text, shown and sent as text.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connectors.registry import connector_class
from inbox.extensions import db
from inbox.models import AuditLog, CannedResponse, Conversation, User
from inbox.models.base import utcnow
from inbox.services.conversations import get_conversation
from inbox.services.errors import InvalidInput, NotFound
from routing.normalize import clean_for_storage

MAX_TITLE, MAX_SHORTCUT, MAX_TEXT = 120, 40, 4000
SHORTCUT = re.compile(r"^[a-z0-9_\-]{1,40}$")
VARIABLE = re.compile(r"\{([a-z_]{1,32})\}")
VARIABLES = ("customer_name", "agent_name", "channel", "platform", "ticket", "team")


def list_canned() -> list[CannedResponse]:
    return list(db.session.scalars(select(CannedResponse).order_by(CannedResponse.title, CannedResponse.id)))


def get_canned(canned_id: int) -> CannedResponse:
    canned = db.session.get(CannedResponse, canned_id)
    if canned is None:
        raise NotFound("canned response")
    return canned


def _clean(title: str, shortcut: str, text_ar: str, text_en: str) -> dict[str, Any]:
    title = clean_for_storage(title or "").strip()
    shortcut = (shortcut or "").strip().lstrip("/").lower() or None
    text_ar = clean_for_storage(text_ar or "").strip()
    text_en = clean_for_storage(text_en or "").strip() or None
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput(f"a canned response needs a title of up to {MAX_TITLE} characters")
    if shortcut is not None and not SHORTCUT.match(shortcut):
        raise InvalidInput("a shortcut is up to 40 lowercase letters, digits, - or _")
    if not (text_ar or text_en):
        raise InvalidInput("a canned response needs an Arabic or an English text")
    if len(text_ar) > MAX_TEXT or len(text_en or "") > MAX_TEXT:
        raise InvalidInput(f"each text has at most {MAX_TEXT} characters")
    # ``text`` is what a rule's auto-reply sends: the Arabic version, else the English one.
    return {"title": title, "shortcut": shortcut, "text": text_ar or text_en, "text_en": text_en}


def save_canned(actor: User, canned_id: int | None, title: str, shortcut: str, text_ar: str,
                text_en: str) -> CannedResponse:
    """Create (``canned_id`` None) or edit a canned response; audited. A shortcut is unique."""
    fields = _clean(title, shortcut, text_ar, text_en)
    canned = CannedResponse(created_by_id=actor.id) if canned_id is None else get_canned(canned_id)
    for name, value in fields.items():
        setattr(canned, name, value)
    if canned_id is not None:
        canned.updated_at = utcnow()
    db.session.add(canned)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise InvalidInput(f"the shortcut /{fields['shortcut']} is taken by another canned response") from None
    action = "canned_response.created" if canned_id is None else "canned_response.updated"
    db.session.add(AuditLog(actor_id=actor.id, action=action, target_type="canned_response", target_id=canned.id,
                            data={"title": canned.title, "shortcut": canned.shortcut}))
    db.session.commit()
    return canned


def delete_canned(actor: User, canned_id: int) -> None:
    canned = get_canned(canned_id)
    db.session.add(AuditLog(actor_id=actor.id, action="canned_response.deleted", target_type="canned_response",
                            target_id=canned.id, data={"title": canned.title, "shortcut": canned.shortcut}))
    db.session.delete(canned)
    db.session.commit()


def variables_for(conversation: Conversation, agent: User) -> dict[str, str]:
    return {
        "customer_name": conversation.customer.display_name or "",
        "agent_name": agent.name or "",
        "channel": conversation.channel.name or "",
        "platform": connector_class(conversation.channel.platform).label,
        "ticket": f"#{conversation.id}",
        "team": conversation.team.name if conversation.team else "",
    }


def render(text: str, values: dict[str, str]) -> str:
    """Known ``{variables}`` replaced by their values; anything else left exactly as written."""
    return VARIABLE.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), text or "")


def preferred_language(conversation: Conversation) -> str:
    return "en" if conversation.language == "en" else "ar"


def for_conversation(agent: User, conversation_id: int, query: str = "") -> dict[str, Any]:
    """The canned responses matching ``query`` (shortcut or title), each version rendered for this
    conversation, and the version to offer first (the conversation's language)."""
    conversation = get_conversation(agent, conversation_id)
    values = variables_for(conversation, agent)
    needle = (query or "").strip().lstrip("/").casefold()
    items = []
    for canned in list_canned():
        if needle and needle not in (canned.shortcut or "").casefold() and needle not in canned.title.casefold():
            continue
        items.append({"id": canned.id, "title": canned.title, "shortcut": canned.shortcut,
                      "text": {"ar": render(canned.text, values) if canned.text else "",
                               "en": render(canned.text_en, values) if canned.text_en else ""}})
    # Shortcut matches first: "/bill" should find the response called bill before "billing address".
    items.sort(key=lambda i: (not (i["shortcut"] or "").startswith(needle), i["title"].casefold()))
    return {"language": preferred_language(conversation), "items": items}
