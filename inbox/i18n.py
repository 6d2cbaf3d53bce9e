"""Locale, timezone and text direction for each request (Arabic first, RTL)."""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from inbox.extensions import babel

RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a job or a command: the product's first language
        return languages[0]
    if current_user.is_authenticated:
        return current_user.language
    if session.get("language") in languages:
        return session["language"]
    return request.accept_languages.best_match(languages) or languages[0]


def select_timezone() -> str:
    if has_request_context() and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def text_direction() -> str:
    return "rtl" if str(get_locale()).split("_")[0] in RTL_LANGUAGES else "ltr"


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        default_locale="ar",
        default_timezone=app.config["DEFAULT_TIMEZONE"],
        locale_selector=select_locale,
        timezone_selector=select_timezone,
    )

    @app.context_processor
    def _locale_context() -> dict:
        return {"html_lang": str(get_locale()), "html_dir": text_direction()}
