from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from inbox.auth.forms import LoginForm
from inbox.extensions import limiter
from inbox.navigation import safe_next
from inbox.services import users

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.queue"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # no session fixation
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        flash(_("Wrong e-mail or password."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        users.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
