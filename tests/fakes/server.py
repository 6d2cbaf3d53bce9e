"""A small real HTTP server on 127.0.0.1 that plays a platform's API in tests.

Connectors reach it through `requests`, exactly as they reach the real platform: nothing is
patched. A test scripts the answers per route and reads back what was requested.

    with FakePlatform() as fake:
        fake.reply("GET", r"/2/users/\\d+/mentions", json={...}, headers={...})
        fake.reply("POST", "/2/tweets", status=429, json={...}, headers={"x-rate-limit-reset": "..."})
        connector = TwitterConnector({"api_base": fake.url, ...})
        ...
        assert fake.requests[0].json == {...}

Answers queued for a route are used once each, in order; the last one repeats until another
is queued. ``delay`` makes the
server sleep before answering (for client timeouts); ``body`` sends raw bytes (malformed JSON).
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Answer:
    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


class FakePlatform:
    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], list[Answer]]] = []
        self._used: dict[int, int] = {}  # route index -> answers served
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
                answer = fake._answer_for(request)
                if answer.delay:
                    time.sleep(answer.delay)
                payload = answer.body if answer.body is not None else json.dumps(answer.json).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def reply(self, method: str, path_pattern: str, status: int = 200, json: Any = None,
              body: bytes | None = None, headers: dict[str, str] | None = None, delay: float = 0.0) -> None:
        """Queue an answer for requests whose method matches and whose path fully matches."""
        answer = Answer(status, json if json is not None else {}, body, headers or {}, delay)
        with self._lock:
            for m, pattern, answers in self.routes:
                if m == method and pattern.pattern == path_pattern:
                    answers.append(answer)
                    return
            self.routes.append((method, re.compile(path_pattern), [answer]))

    def _answer_for(self, request: Request) -> Answer:
        with self._lock:
            self.requests.append(request)
            for index, (method, pattern, answers) in enumerate(self.routes):
                if method == request.method and pattern.fullmatch(request.path):
                    used = self._used.get(index, 0)
                    self._used[index] = used + 1
                    return answers[min(used, len(answers) - 1)]
        return Answer(404, {"error": f"fake has no route for {request.method} {request.path}"})

    def requests_to(self, path_pattern: str) -> list[Request]:
        return [r for r in self.requests if re.fullmatch(path_pattern, r.path)]

    def __enter__(self) -> FakePlatform:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
