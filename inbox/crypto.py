"""Channel credentials, encrypted at rest (Fernet: AES-128-CBC with HMAC-SHA256).

The key is ``CREDENTIALS_KEY`` from the config (a Fernet key); without one it is derived
from SECRET_KEY, so embedded mode needs no setting. Rotating the key means re-entering the
credentials, which the admin screen makes easy.
"""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


class CredentialsUnreadable(Exception):
    """The stored secrets were encrypted with another key: re-enter them."""


def _fernet() -> Fernet:
    key = current_app.config.get("CREDENTIALS_KEY")
    if not key:
        digest = hashlib.sha256(b"tawasul-credentials:" + current_app.config["SECRET_KEY"].encode()).digest()
        key = base64.urlsafe_b64encode(digest)
    return Fernet(key)


def encrypt(values: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(values).encode()).decode()


def decrypt(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsUnreadable("the channel's credentials cannot be decrypted with the current key") from exc


def mask(value: str | None) -> str:
    """What an admin sees of a stored secret: enough to recognise it, never enough to use it."""
    if not value:
        return ""
    return "•" * 8 + value[-4:] if len(value) > 8 else "•" * 8
