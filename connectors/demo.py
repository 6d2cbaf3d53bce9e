"""The demo platform: replays realistic customer traffic from a file shipped in the repo.

It behaves like a polled platform so that demo traffic takes the same path as real traffic
(RawEvent -> parse -> ingest). The cursor is a counter; message ``n`` is line ``n mod N`` of
the data file, so ids never repeat and the same cursor always yields the same messages.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Connector
from connectors.errors import PayloadError
from connectors.types import InboundMessage, OutboundMessage, PollResult, RawPayload, SendResult

DATA_FILE = Path(__file__).parent / "data" / "demo_messages.jsonl"


@cache
def load_script(path: Path = DATA_FILE) -> tuple[dict[str, Any], ...]:
    with path.open(encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle if line.strip())


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class DemoConnector(Connector):
    platform: ClassVar[str] = "demo"
    label: ClassVar[str] = "Demo"
    polled: ClassVar[bool] = True

    def __init__(self, settings: dict[str, Any] | None = None):
        super().__init__(settings)
        self.script = load_script(Path(self.settings.get("data_file", DATA_FILE)))
        self.batch_size = int(self.settings.get("batch_size", 1))

    def payload_at(self, n: int) -> dict[str, Any]:
        """The wire payload of the n-th demo message (deterministic)."""
        rows = self.script
        row = rows[n % len(rows)]
        body: dict[str, Any] = {
            "id": f"demo-{n}",
            "type": row["kind"],
            "from": {"id": row["customer"], "handle": row["handle"], "name": row["name"]},
            "text": row["text"],
            "created_at": _now().isoformat() + "Z",
        }
        thread = row.get("thread")
        if row["kind"] == "mention" and thread:
            cycle_start = n - n % len(rows)
            root = next(i for i, r in enumerate(rows) if r.get("thread") == thread)
            if cycle_start + root != n:  # a follow-up in an earlier post's thread
                body["thread_id"] = f"demo-{cycle_start + root}"
        return body

    def poll(self, cursor: str | None) -> PollResult:
        start = int(cursor or 0)
        end = start + self.batch_size
        payloads = [RawPayload(body=self.payload_at(n), dedup_key=f"demo-{n}") for n in range(start, end)]
        return PollResult(payloads=payloads, cursor=str(end))

    def parse(self, body: dict[str, Any]) -> list[InboundMessage]:
        try:
            author = body["from"]
            kind = body["type"]
            if kind not in ("dm", "mention"):
                raise PayloadError(f"unknown demo message type {kind!r}")
            created = datetime.fromisoformat(body["created_at"].removesuffix("Z"))
            thread_id = body.get("thread_id") if kind == "mention" else None
            return [
                InboundMessage(
                    platform=self.platform,
                    external_id=str(body["id"]),
                    author_id=str(author["id"]),
                    author_handle=author.get("handle"),
                    author_name=author.get("name"),
                    text=str(body.get("text") or ""),
                    is_public=kind == "mention",
                    created_at=created.replace(tzinfo=None),
                    thread_id=thread_id or (str(body["id"]) if kind == "mention" else None),
                    parent_id=thread_id,
                )
            ]
        except PayloadError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PayloadError(f"not a demo payload: {exc!r}") from exc

    def send(self, message: OutboundMessage) -> SendResult:
        """The demo platform accepts every reply; the id derives from the idempotency key,
        so sending the same reply twice yields the same platform id."""
        return SendResult(external_id=f"demo-out-{message.idempotency_key}", sent_at=_now())
