from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from inbox.admin import bp
from inbox.auth.decorators import admin_only
from inbox.services import directory, users
from inbox.services.errors import InvalidInput, NotFound


@bp.get("/")
@admin_only
def index():
    return render_template("admin/index.html", **directory.overview())


@bp.post("/users/<int:user_id>/active")
@admin_only
def set_user_active(user_id: int):
    active = request.form.get("active") == "1"
    try:
        users.set_active(current_user._get_current_object(), user_id, active)
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.index"), 303)
    flash(_("User activated.") if active else _("User deactivated; their sessions have ended."), "info")
    return redirect(url_for("admin.index"), 303)
