"""Platform name -> connector class."""
from __future__ import annotations

from typing import Any

from connectors.base import Connector
from connectors.demo import DemoConnector

CONNECTORS: dict[str, type[Connector]] = {
    DemoConnector.platform: DemoConnector,
}


def connector_for(platform: str, settings: dict[str, Any] | None = None) -> Connector:
    try:
        cls = CONNECTORS[platform]
    except KeyError:
        raise LookupError(f"no connector for platform {platform!r}") from None
    return cls(settings)
