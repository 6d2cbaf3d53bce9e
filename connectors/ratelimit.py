"""Reading "when may I try again" from the three header dialects platforms use."""
from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

MAX_WAIT_SECONDS = 15 * 60


def _clamp(seconds: float) -> float:
    return max(0.0, min(float(seconds), MAX_WAIT_SECONDS))


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP-date) or ``x-rate-limit-reset``
    (epoch seconds, X). None when absent or unreadable: the caller backs off on its own."""
    now = time.time() if now is None else now
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after")
    if value:
        value = value.strip()
        try:
            return _clamp(float(value))
        except ValueError:
            try:
                return _clamp(parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
    reset = lowered.get("x-rate-limit-reset")
    if reset:
        try:
            return _clamp(float(reset.strip()) - now)
        except ValueError:
            pass
    return None
