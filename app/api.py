"""The /api/v1 edge shared by every area: JSON bodies and bearer-token visitors."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from app.chat import sessions
from app.errors import ApiError


def json_body(required: bool = True) -> dict[str, Any]:
    """Return the request body as a JSON object, or raise the fitting ApiError."""
    if not request.get_data(cache=True) and not required:
        return {}
    if not request.is_json:
        raise ApiError("unsupported_media_type")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # thousands of nested brackets: Python's parser gives up with this, not a ValueError
        raise ApiError("invalid_request", "The request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise ApiError("invalid_request", "The request body must be a JSON object.")
    if re.search("[\ud800-\udfff]", json.dumps(body, ensure_ascii=False)):  # a lone surrogate: unstorable
        raise ApiError("invalid_request", "The request body must be valid Unicode text (no lone surrogates).")
    return body


def bearer_visitor(optional: bool = False) -> sessions.Visitor | None:
    """Return the visitor named by the Authorization bearer token; 401 if absent or unknown."""
    header = request.headers.get("Authorization", "")
    if not header and optional:
        return None
    scheme, _, token = header.partition(" ")
    visitor = sessions.authenticate(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if visitor is None:
        raise ApiError("unauthorized")
    return visitor


bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")
OPENAPI = Path(__file__).with_name("openapi.json")


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of the public API, for those who build their own front end."""
    return jsonify(json.loads(OPENAPI.read_text(encoding="utf-8")))


def _headers(response: Response) -> Response:
    # Every API answer may carry a visitor's data: never sniffed as another type, never cached.
    if request.path.startswith("/api/"):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Register the API's documentation route and its response headers."""
    app.register_blueprint(bp)
    app.after_request(_headers)
