"""Chat API under /api/v1: sessions and messages. Validate, call a use case, shape JSON."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from app.chat import sessions
from app.errors import ApiError

bp = Blueprint("chat", __name__, url_prefix="/api/v1")


def json_body(required: bool = True) -> dict[str, Any]:
    """Return the request body as a JSON object, or raise the fitting ApiError."""
    if not request.get_data(cache=True) and not required:
        return {}
    if not request.is_json:
        raise ApiError("unsupported_media_type")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("invalid_request", "The request body must be a JSON object.")
    return body


def bearer_visitor(optional: bool = False) -> sessions.Visitor | None:
    """Return the visitor named by the Authorization bearer token; 401 if absent or unknown."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header and optional:
        return None
    visitor = sessions.authenticate(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if visitor is None:
        raise ApiError("unauthorized")
    return visitor


@bp.post("/sessions")
def create_session():
    json_body(required=False)
    session = sessions.start(bearer_visitor(optional=True))
    body = {"conversation_id": session.conversation.id, "consent": session.consent,
            "greeting": sessions.GREETING}
    if session.token:
        body["visitor_token"] = session.token
    return jsonify(body), 201 if session.token else 200


def message_text(body: dict[str, Any]) -> str:
    """Validate the `text` field of a message body."""
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError("invalid_request", "`text` must be a non-empty string.")
    limit = current_app.config["MAX_MESSAGE_CHARS"]
    if len(text) > limit:
        raise ApiError("message_too_long", f"Messages are limited to {limit} characters.")
    return text.strip()


@bp.post("/conversations/<conversation_id>/messages")
def post_message(conversation_id: str):
    visitor = bearer_visitor()
    text = message_text(json_body())
    if sessions.owned_conversation(visitor, conversation_id) is None:
        raise ApiError("not_found", "No such conversation for this visitor.")
    reply = current_app.extensions["pipeline"].turn(text)
    return jsonify(answer=reply.answer, confidence=reply.confidence,
                   sources=[{"title": s.title, "url": s.url} for s in reply.sources],
                   handoff_offered=reply.handoff_offered, message_id=reply.message_id)
