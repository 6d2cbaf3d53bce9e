"""Shared column helpers."""
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC: stored as-is on SQLite and PostgreSQL, shown in Asia/Amman by Babel."""
    return datetime.now(UTC).replace(tzinfo=None)
