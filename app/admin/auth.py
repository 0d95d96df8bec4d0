"""Console sessions: Flask-Login over admin_users, CSRF on every form, security headers.

A session stores the user's id and session_version; the loader rejects it once the version has
moved on (logout, disable, password reset), so a cookie copied before logout stops working.
"""
from __future__ import annotations

from flask import Flask, Response, abort, request
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.admin import accounts
from app.db import get_db

THROTTLE_FAILURES = 5
THROTTLE_MINUTES = 15
login_manager = LoginManager()
csrf = CSRFProtect()


class ConsoleUser(UserMixin):
    """The signed-in console user as Flask-Login sees it."""

    def __init__(self, user: accounts.User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}"

    @property
    def role(self) -> str:
        return self.user.role


@login_manager.user_loader
def _load(session_id: str) -> ConsoleUser | None:
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = accounts.find(get_db(), int(user_id))
    if user is None or user.disabled or user.session_version != int(version):
        return None
    return ConsoleUser(user)


def require_admin() -> Response | None:
    """Before-request guard for admin-only pages: sign-in page for anonymous, 403 for reviewers."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role != "admin":
        abort(403, "Only an admin can use this page. Ask an admin if you need something from it.")
    return None


def _headers(response: Response) -> Response:
    if request.path.startswith("/admin"):
        response.headers["Content-Security-Policy"] = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                                       "img-src 'self'; frame-ancestors 'none'; form-action 'self'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
    return response


def _protect_console_forms() -> None:
    # The API authenticates with bearer tokens, not cookies, so only console forms need CSRF tokens.
    if request.path.startswith("/admin") and request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            csrf.protect()
        except CSRFError:
            abort(400, "This form expired or did not come from the console. Go back, reload the page and try "
                       "again.")


def init_app(app: Flask) -> None:
    """Wire Flask-Login, CSRF (console forms only) and the console's security headers."""
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=app.config["SECURE_COOKIES"],
                      REMEMBER_COOKIE_DURATION=60 * 60 * 12, WTF_CSRF_TIME_LIMIT=None,
                      WTF_CSRF_CHECK_DEFAULT=False)
    login_manager.login_view = "admin.login"
    login_manager.init_app(app)
    csrf.init_app(app)
    app.before_request(_protect_console_forms)
    app.after_request(_headers)
