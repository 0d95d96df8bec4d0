"""Visitor sessions: start or resume one, and resolve a bearer token to its visitor.

Use-case layer between the HTTP routes and the visitors/conversations tables.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.chat import transcripts, visitors
from app.db import get_db

Visitor = visitors.Visitor
GREETING = "Hi! I'm the help assistant. Ask me anything about our products, orders or your account."


@dataclass(frozen=True)
class Session:
    visitor: Visitor
    conversation: transcripts.Conversation
    token: str | None  # only for a new visitor: shown once, never stored
    consent: dict[str, bool]


def authenticate(token: str) -> Visitor | None:
    """Return the visitor holding this bearer token, or None for an unknown one."""
    return visitors.find_visitor(get_db(), token)


def start(visitor: Visitor | None) -> Session:
    """Resume the visitor's latest conversation, or create a new visitor and conversation."""
    db = get_db()
    token = None
    if visitor is None:
        visitor, token = visitors.create_visitor(db)
    conversation = transcripts.latest_conversation(db, visitor.id)
    if conversation is None:
        conversation = transcripts.open_conversation(db, visitor.id)
    return Session(visitor, conversation, token, {"transcripts": False, "analytics": False})


def owned_conversation(visitor: Visitor, conversation_id: str) -> transcripts.Conversation | None:
    """Return the conversation if this visitor owns it; None whether it is missing or not theirs."""
    return transcripts.owned_conversation(get_db(), conversation_id, visitor.id)
