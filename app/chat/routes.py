"""Chat API under /api/v1: sessions, messages, feedback, the live handoff. Validate, call, shape JSON."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from app import limits
from app.api import bearer_visitor, json_body
from app.chat import live_handoff, sessions
from app.errors import ApiError
from app.retrieval.context import TurnContext

bp = Blueprint("chat", __name__, url_prefix="/api/v1")


@bp.post("/sessions")
def create_session():
    json_body(required=False)
    session = sessions.start(bearer_visitor(optional=True))
    body = {"conversation_id": session.conversation.id, "consent": session.consent,
            "greeting": sessions.GREETING, "privacy_policy_url": current_app.config["PRIVACY_POLICY_URL"] or None}
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


MAX_PREVIOUS = 5  # earlier messages a turn may bring; the widget sends its last few
_BAD_CONTEXT = ("`context` must be an object with optional `previous` (a list of at most 5 strings, "
                "earlier messages oldest first) and `article` (a string of at most 500 characters).")


def message_context(body: dict[str, Any]) -> TurnContext | None:
    """Validate the optional `context` of a message body: earlier messages and the last answer's article."""
    context = body.get("context")
    if context is None:
        return None
    previous, article = (context.get("previous", []), context.get("article", "")) \
        if isinstance(context, dict) and set(context) <= {"previous", "article"} else (None, None)
    limit = current_app.config["MAX_MESSAGE_CHARS"]
    if not isinstance(previous, list) or len(previous) > MAX_PREVIOUS \
            or not isinstance(article, (str, type(None))) or len(article or "") > 500 \
            or not all(isinstance(m, str) and len(m) <= limit for m in previous):
        raise ApiError("invalid_request", _BAD_CONTEXT)
    return TurnContext(tuple(" ".join(m.split()) for m in previous if m.strip()), (article or "").strip())


def owned_conversation(conversation_id: str, visitor: sessions.Visitor | None = None):
    """Return the (authenticated) visitor's conversation, or raise 401/404."""
    visitor = visitor or bearer_visitor()
    conversation = sessions.owned_conversation(visitor, conversation_id)
    if conversation is None:
        raise ApiError("not_found", "No such conversation for this visitor.")
    return conversation


@bp.post("/conversations/<conversation_id>/messages")
def post_message(conversation_id: str):
    visitor = bearer_visitor()  # 401 before validating the body
    limits.charge_visitor(visitor.id)
    body = json_body()
    text, context = message_text(body), message_context(body)
    conversation = owned_conversation(conversation_id, visitor)
    if live_handoff.agent_is_answering(conversation):  # a person answers: the bot stays silent
        return jsonify(answer=None, confidence=None, sources=[], blocks=[], handoff_offered=False,
                       human_requested=False, asked_which=False,
                       message_id=live_handoff.relay(conversation, text),
                       handoff=asdict(live_handoff.state(conversation)))
    reply = current_app.extensions["pipeline"].turn(conversation, text, context)
    return jsonify(answer=reply.answer, confidence=reply.confidence,
                   sources=[{"title": s.title, "url": s.url} for s in reply.sources],
                   blocks=[asdict(b) for b in reply.blocks],
                   handoff_offered=reply.handoff_offered, human_requested=reply.human_requested,
                   asked_which=reply.asked_which, message_id=reply.message_id)


@bp.get("/conversations/<conversation_id>/messages")
def get_messages(conversation_id: str):
    visitor = bearer_visitor()
    limits.charge_poll(visitor.id)
    conversation = owned_conversation(conversation_id, visitor)
    after = request.args.get("after") or None
    return jsonify(conversation_id=conversation.id, messages=sessions.history(conversation, after),
                   handoff=asdict(live_handoff.state(conversation)))


@bp.post("/messages/<message_id>/feedback")
def post_feedback(message_id: str):
    visitor = bearer_visitor()
    rating = json_body().get("rating")
    if rating not in ("up", "down"):
        raise ApiError("invalid_request", "`rating` must be \"up\" or \"down\".")
    if not sessions.rate(visitor, message_id, rating):
        raise ApiError("not_found", "No stored answer with that id for this visitor (answers are "
                       "stored only with consent to keep transcripts).")
    return jsonify(message_id=message_id, rating=rating)


@bp.post("/conversations/<conversation_id>/handoff")
def post_handoff(conversation_id: str):
    visitor = bearer_visitor()
    grant = json_body(required=False).get("grant_transcripts", False)
    if not isinstance(grant, bool):
        raise ApiError("invalid_request", "`grant_transcripts` must be true or false.")
    conversation = owned_conversation(conversation_id, visitor)
    try:
        handoff, created = live_handoff.ask(conversation, grant)
    except live_handoff.ConsentRequired:
        raise ApiError("consent_required") from None
    return jsonify(asdict(handoff)), 201 if created else 200


@bp.post("/conversations/<conversation_id>/handoff/end")
def end_handoff(conversation_id: str):
    return jsonify(asdict(live_handoff.end(owned_conversation(conversation_id))))


@bp.post("/conversations/<conversation_id>/contact")
def leave_contact(conversation_id: str):
    visitor = bearer_visitor()
    email = json_body().get("email")
    if not isinstance(email, str):
        raise ApiError("invalid_request", "`email` must be a string.")
    conversation = owned_conversation(conversation_id, visitor)
    try:
        return jsonify(asdict(live_handoff.leave_contact(conversation, email)))
    except live_handoff.ContactRefused as refused:
        open_handoff = live_handoff.state(conversation).status == "open"
        raise ApiError("invalid_request" if open_handoff else "handoff_not_open", str(refused)) from None
