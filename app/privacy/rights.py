"""Consent changes as a use case: validate purposes, record events with policy version and source.

Withdrawal takes effect at once: withdrawing `contact` deletes the addresses the visitor left, and
withdrawing `transcripts` ends a handoff in progress (a person cannot answer a conversation that
is not kept).
"""
from __future__ import annotations

from app.chat import handoffs, transcripts
from app.chat.visitors import Visitor
from app.db import get_db
from app.privacy import consent, contacts

PURPOSES = consent.PURPOSES


def current(visitor: Visitor) -> dict[str, bool]:
    """Return the visitor's current consent per purpose."""
    return consent.current(get_db(), visitor.id)


def change(visitor: Visitor, wanted: dict[str, bool], policy_version: str, source: str) -> dict[str, bool]:
    """Apply the visitor's decisions; each change is appended as an event."""
    db = get_db()
    state = consent.record(db, visitor.id, wanted, policy_version, source)
    if wanted.get("contact") is False:
        contacts.forget_visitor(db, visitor.id)
    if wanted.get("transcripts") is False:
        _end_handoffs(visitor)
    return state


def _end_handoffs(visitor: Visitor) -> None:
    """Resolve the visitor's unresolved handoff, as if they had ended it (nothing more is stored)."""
    db = get_db()
    conversation = transcripts.latest_conversation(db, visitor.id)
    handoff = handoffs.latest(db, conversation.id) if conversation else None
    if handoff is not None:
        handoffs.resolve(db, handoff.id, None)
