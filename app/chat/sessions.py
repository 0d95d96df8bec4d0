"""Visitor sessions: start or resume one, resolve a bearer token, and the visitor's own actions
on a conversation (feedback, history). Use-case layer between the routes and the tables.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.chat import analytics, feedback, transcripts, visitors
from app.db import get_db, transaction
from app.privacy import consent

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
    else:
        visitors.touch(db, visitor.id)
    conversation = transcripts.latest_conversation(db, visitor.id)
    if conversation is None:
        conversation = transcripts.open_conversation(db, visitor.id)
    return Session(visitor, conversation, token, consent.current(db, visitor.id))


def owned_conversation(visitor: Visitor, conversation_id: str) -> transcripts.Conversation | None:
    """Return the conversation if this visitor owns it; None whether it is missing or not theirs."""
    return transcripts.owned_conversation(get_db(), conversation_id, visitor.id)


def rate(visitor: Visitor, message_id: str, rating: str) -> bool:
    """Record thumbs up/down on one of the visitor's stored answers; False if there is none.

    With `analytics` consent an answer's first rating is also counted (a changed mind is not counted
    twice). Only a stored answer can be rated, so rating needs `transcripts` consent as well.
    """
    db = get_db()
    with transaction(db):
        first = feedback.rating_of(db, message_id) is None
        if not feedback.rate(db, message_id, visitor.id, rating):
            return False
        if first and consent.current(db, visitor.id)["analytics"]:
            analytics.add(db, [f"thumbs_{rating}"])
    return True


def history(conversation: transcripts.Conversation, after: str | None = None) -> list[dict]:
    """Return the conversation's stored messages (none unless transcripts were consented); with
    `after`, only those stored after that message (what a polling widget has not seen yet)."""
    return transcripts.messages_of(get_db(), conversation.id, after)
