"""Headers every response carries."""
from __future__ import annotations

from flask import Flask, Response

PLATFORM_MEDIA_HOSTS = (
    "https://*.fbcdn.net", "https://*.fbsbx.com", "https://*.cdninstagram.com",  # Facebook, Messenger, Instagram
    "https://pbs.twimg.com", "https://video.twimg.com", "https://ton.twitter.com",  # X
)
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Customers' image attachments load from the platforms' own media hosts only: an image URL
        # a customer controls would tell its owner each agent's address and when they looked.
        "img-src 'self' data: " + " ".join(PLATFORM_MEDIA_HOSTS),
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if not app.config.get("EMBEDDED"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
