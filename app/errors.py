"""Stable error codes and the app-level handlers that render them.

Under /api every error is JSON `{"error": code, "message": text}`; elsewhere a short HTML page, and
under /admin for a signed-in console user the console's own page, navigation included, so the way
back is one click. Handlers are registered on the app, not a blueprint, so routing 404s and 405s
are covered too. No response ever carries a traceback.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, render_template_string, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app import integrity
from app.logs import Trusted, method_name

log = logging.getLogger(__name__)

# code → (HTTP status, default message). The README lists the same table.
CODES: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "The request body must be a JSON object with the documented fields."),
    "unauthorized": (401, "A valid visitor token is required (Authorization: Bearer <token>)."),
    "forbidden": (403, "Your account does not have access to this."),
    "not_found": (404, "No such resource."),
    "method_not_allowed": (405, "That method is not allowed here."),
    "consent_required": (409, "A person can only help if the conversation is kept: send "
                              "{\"grant_transcripts\": true} to agree and ask in one step."),
    "handoff_not_open": (409, "There is no open request for a person in this conversation."),
    "message_too_long": (413, "The message is longer than the allowed maximum."),
    "request_too_large": (413, "The request body is larger than the allowed maximum."),
    "unsupported_media_type": (415, "Send the body as application/json."),
    "rate_limited": (429, "Too many requests; wait a moment and try again."),
    "internal_error": (500, "Something went wrong on our side; please try again in a moment."),
    "unavailable": (503, "The service is starting or degraded; retry shortly."),
}
_BY_STATUS = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "request_too_large", 415: "unsupported_media_type",
              429: "rate_limited", 503: "unavailable"}

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ status }}</title>
</head><body><h1>{{ status }}</h1><p>{{ message }}</p></body></html>"""
_TITLES = {400: "That request was not valid", 403: "Not for your account", 404: "Not found",
           405: "Not allowed here", 413: "Too large"}


class ApiError(Exception):
    """An error the client caused or must know about, with a stable code."""

    def __init__(self, code: str, message: str | None = None, headers: dict[str, str] | None = None) -> None:
        status, default = CODES[code]
        super().__init__(message or default)
        self.code, self.status, self.message = code, status, message or default
        self.headers = headers or {}


def _console_page(status: int, message: str) -> str | None:
    """Render a console error page inside the console's layout; None if this is no console user's page."""
    if not request.path.startswith("/admin") or status >= 500:
        return None  # a 500 may come from the database the navigation reads: keep that page plain
    try:
        if not current_user.is_authenticated:
            return None
        return render_template("admin/error.html", status=status, message=message,
                               title=_TITLES.get(status, "That did not work"))
    except Exception:  # an error page must never fail; the plain page below still says what happened
        log.exception("console error page failed")
        return None


def _render(code: str, status: int, message: str) -> Response | tuple[str, int]:
    if request.path.startswith("/api/"):
        response = jsonify(error=code, message=message)
        response.status_code = status
        return response
    console = _console_page(status, message)
    if console is not None:
        return console, status  # the console's own security headers are added after the request
    page = render_template_string(_PAGE, status=status, message=message)
    return page, status, {"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
                          "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def _handle_api_error(error: ApiError):
    response = make_response(_render(error.code, error.status, error.message))
    response.headers.update(error.headers)
    return response


def _handle_http(error: HTTPException):
    status = error.code or 500
    code = _BY_STATUS.get(status, "internal_error" if status >= 500 else "invalid_request")
    message = CODES[code][1]
    if not request.path.startswith("/api/") and error.description != type(error).description:
        message = error.description  # a page's own explanation, e.g. abort(400, "Enter the date as …")
    elif not request.path.startswith("/api/") and status == 400:
        message = "That request was not valid. Go back, check the form and try again."
    response = make_response(_render(code, status, message))
    if status == 405:  # RFC 9110: a 405 names the methods the resource does allow
        response.headers["Allow"] = ", ".join(getattr(error, "valid_methods", None) or ())
    return response


def _handle_unexpected(error: Exception):
    integrity.note(error)  # a damaged database file makes /health say so
    # The route pattern, never the path: a path is visitor-controlled text.
    log.exception("unhandled error on %s %s", method_name(request.method),
                  Trusted(request.url_rule.rule if request.url_rule else "<no route>"))
    return _render("internal_error", 500, CODES["internal_error"][1])


def init_app(app: Flask) -> None:
    """Register the error handlers on the whole app."""
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
