"""Console sessions: Flask-Login over admin_users, sign-in limits, CSRF on every form, security headers.

A session stores the user's id and session_version; the loader rejects it once the version has
moved on (logout, disable, password reset), so a cookie copied before logout stops working.
"""
from __future__ import annotations

import ipaddress

from flask import Flask, Response, abort, request
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.admin import accounts
from app.db import get_db

# Failed sign-ins are counted over THROTTLE_MINUTES, per client network and per account from one
# network. There is deliberately no limit per account alone: anyone could then lock its owner out.
THROTTLE_MINUTES = 15
ADDRESS_FAILURES = 10  # then every sign-in from that network gets 429 until the oldest ages out
ACCOUNT_FAILURES = 5  # then that email fails from that network, even with the right password
login_manager = LoginManager()
csrf = CSRFProtect()


class TooManyAttempts(Exception):
    """This client network failed to sign in too often; it may try again after retry_after seconds."""

    def __init__(self, retry_after: int) -> None:
        minutes = -(-retry_after // 60)
        super().__init__(f"Too many sign-in attempts from your network; try again in {minutes} "
                         f"minute{'' if minutes == 1 else 's'}.")
        self.retry_after = retry_after


def client_network(address: str) -> str:
    """Return the client's address, or its /64 for IPv6 (one subscriber's usual allocation).

    Otherwise one host could dodge the per-address limit by cycling through its own addresses.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:  # dual-stack: ::ffff:a.b.c.d
        parsed = parsed.ipv4_mapped
    return str(parsed) if parsed.version == 4 else str(ipaddress.ip_network(f"{parsed}/64", strict=False))


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
