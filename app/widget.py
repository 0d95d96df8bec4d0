"""The embeddable widget: /widget.js, the /demo help-centre page, and CORS for embedding sites.

CORS is an explicit allow-list (QUIETDESK_CORS_ORIGINS): a listed origin gets the headers it needs
for the widget's requests; any other origin gets none, so browsers refuse its cross-site calls.
"""
from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, render_template, request

from app.config import ConfigError

bp = Blueprint("widget", __name__, template_folder="templates")


@bp.get("/widget.js")
def widget_js():
    response = current_app.send_static_file("widget.js")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public script, like any CDN asset
    return response


@bp.get("/demo")
def demo():
    # A relative src: the Host header is the client's to choose, so it must never reach the page.
    response = current_app.make_response(render_template("demo.html", widget="/widget.js"))
    response.headers["Cache-Control"] = "no-store"
    # The demo's own styles and the widget's style element are inline; scripts and calls stay on this site.
    response.headers["Content-Security-Policy"] = ("default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                   "img-src 'self' data:; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def allowed_origins(raw: str) -> frozenset[str]:
    """Parse the comma-separated allow-list; `*` is refused, origins are compared exactly."""
    origins = frozenset(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    if "*" in origins:
        raise ConfigError("QUIETDESK_CORS_ORIGINS must list origins explicitly; '*' is not allowed")
    return origins


def listed_origin() -> str | None:
    """Return the request's Origin if it is on the CORS allow-list, else None (absent or unlisted)."""
    origin = request.headers.get("Origin", "")
    return origin if origin in current_app.extensions["cors_origins"] else None


def _cors(response: Response) -> Response:
    origin = request.headers.get("Origin", "")
    if request.path.startswith("/api/") and origin in current_app.extensions["cors_origins"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
        response.headers["Access-Control-Expose-Headers"] = "Content-Disposition"
        response.headers["Access-Control-Max-Age"] = "600"
    if request.path.startswith("/api/"):
        response.vary.add("Origin")
    return response


def init_app(app: Flask) -> None:
    """Register the widget routes and the CORS allow-list."""
    app.extensions["cors_origins"] = allowed_origins(app.config["CORS_ORIGINS"])
    app.after_request(_cors)
    app.register_blueprint(bp)
