"""Platform name -> connector class, imported on first use."""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from connectors.base import Connector

PLATFORMS: dict[str, str] = {
    "demo": "connectors.demo:DemoConnector",
    "twitter": "connectors.twitter:TwitterConnector",
    "facebook": "connectors.facebook:FacebookConnector",
    "instagram": "connectors.instagram:InstagramConnector",
    "whatsapp": "connectors.whatsapp:WhatsAppConnector",
    "telegram": "connectors.telegram:TelegramConnector",
}


def connector_class(platform: str) -> type[Connector]:
    try:
        module_name, class_name = PLATFORMS[platform].split(":")
    except KeyError:
        raise LookupError(f"no connector for platform {platform!r}") from None
    return getattr(importlib.import_module(module_name), class_name)


def connector_for(platform: str, settings: Mapping[str, Any] | None = None) -> Connector:
    return connector_class(platform)(settings)


def polled_platforms() -> list[str]:
    return [name for name in PLATFORMS if _available(name) and connector_class(name).polled]


def _available(platform: str) -> bool:
    try:
        connector_class(platform)
    except ImportError:
        return False
    return True
