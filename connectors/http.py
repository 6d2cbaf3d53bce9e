"""HTTP for connectors: one session, explicit timeouts, network failures as TransientError."""
from __future__ import annotations

from typing import Any

import requests

from connectors.errors import TransientError

DEFAULT_TIMEOUT = (5, 20)  # connect, read (seconds)


class HttpClient:
    def __init__(self, base_url: str, headers: dict[str, str] | None = None, timeout: Any = DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.timeout = timeout

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send; a timeout or connection failure becomes TransientError. The caller
        classifies the response (status, body) with its platform's rules."""
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        kwargs.setdefault("timeout", self.timeout)
        try:
            return self.session.request(method, url, **kwargs)
        except requests.Timeout as exc:
            raise TransientError(f"the platform did not answer in time ({method} {path})", "timeout") from exc
        except requests.ConnectionError as exc:
            raise TransientError(f"could not reach the platform ({method} {path})", "connection") from exc

    def json(self, response: requests.Response) -> Any:
        """The body as JSON, or TransientError: a non-JSON answer is a proxy or outage page."""
        try:
            return response.json()
        except ValueError as exc:
            raise TransientError(f"the platform answered {response.status_code} with a body that is not JSON",
                                 "malformed_json") from exc
