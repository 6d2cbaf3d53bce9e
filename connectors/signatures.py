"""Webhook authenticity checks, always over the raw bytes and in constant time."""
from __future__ import annotations

import hashlib
import hmac


def meta_signature_valid(app_secret: str | None, raw_body: bytes, header: str | None) -> bool:
    """Meta's ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>``."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


def secret_token_valid(expected: str | None, given: str | None) -> bool:
    """A shared secret sent as a header (Telegram's ``X-Telegram-Bot-Api-Secret-Token``)."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def meta_handshake(query: dict[str, str], verify_token: str | None) -> str | None:
    """The subscription handshake: the challenge to echo, or None (answer 403)."""
    if (
        verify_token
        and query.get("hub.mode") == "subscribe"
        and hmac.compare_digest(query.get("hub.verify_token", "").encode(), verify_token.encode())
    ):
        return query.get("hub.challenge", "")
    return None
