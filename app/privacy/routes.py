"""Privacy API under /api/v1: consent, export (Art. 15/20) and erasure (Art. 17) of one's own data.

Every action resolves the visitor from their bearer token; no visitor id is ever taken from the
URL, so a visitor can reach only their own data.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, request

from app.api import bearer_visitor, json_body
from app.errors import ApiError
from app.privacy import export, rights
from app.widget import listed_origin

bp = Blueprint("privacy", __name__, url_prefix="/api/v1")


@bp.get("/consent")
def get_consent():
    return jsonify(rights.current(bearer_visitor()))


@bp.put("/consent")
def put_consent():
    visitor = bearer_visitor()
    body = json_body()
    unknown = sorted(set(body) - set(rights.PURPOSES))
    if unknown or not body or not all(isinstance(v, bool) for v in body.values()):
        raise ApiError("invalid_request", "Send {\"transcripts\": true|false, \"analytics\": true|false}; "
                       "at least one, booleans only.")
    state = rights.change(visitor, body, current_app.config["POLICY_VERSION"], _consent_source())
    return jsonify(state)


def _consent_source() -> str:
    """Name where a consent change came from: a listed embedding site's origin, else a fixed word.

    The Origin header is the client's to write; only a value from the allow-list is worth keeping,
    anything else could carry a name or an email into the consent record.
    """
    if "Origin" not in request.headers:
        return "api"
    return listed_origin() or "unlisted-origin"


@bp.get("/me/export")
def get_export():
    document = export.export_visitor(bearer_visitor())
    return Response(json.dumps(document, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="quietdesk-export.json"',
                             "Cache-Control": "no-store"})


@bp.delete("/me")
def delete_me():
    return jsonify(deleted=export.erase_visitor(bearer_visitor()))


@bp.get("/schemas/export.json")
def export_schema():
    return jsonify(export.schema())
