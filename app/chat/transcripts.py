"""The conversations table: open a conversation and check who owns it.

Message text is not stored yet; it will be stored scrubbed, and only with the visitor's consent.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlcipher3

from app.db import transaction


@dataclass(frozen=True)
class Conversation:
    id: str
    visitor_id: int
    created_at: str


def _conversation(row: sqlcipher3.Row | None) -> Conversation | None:
    return Conversation(row["id"], row["visitor_id"], row["created_at"]) if row else None


def open_conversation(db: sqlcipher3.Connection, visitor_id: int) -> Conversation:
    """Start a new conversation for the visitor under a random public id."""
    with transaction(db):
        row = db.execute("INSERT INTO conversations (id, visitor_id) VALUES (?, ?) "
                         "RETURNING id, visitor_id, created_at",
                         (secrets.token_urlsafe(12), visitor_id)).fetchall()[0]
    return _conversation(row)


def latest_conversation(db: sqlcipher3.Connection, visitor_id: int) -> Conversation | None:
    """Return the visitor's most recent conversation, if any."""
    return _conversation(db.execute(
        "SELECT id, visitor_id, created_at FROM conversations WHERE visitor_id = ? "
        "ORDER BY created_at DESC, rowid DESC LIMIT 1", (visitor_id,)).fetchone())


def owned_conversation(db: sqlcipher3.Connection, conversation_id: str,
                       visitor_id: int) -> Conversation | None:
    """Return the conversation only if it belongs to the visitor; None hides whether it exists."""
    return _conversation(db.execute(
        "SELECT id, visitor_id, created_at FROM conversations WHERE id = ? AND visitor_id = ?",
        (conversation_id, visitor_id)).fetchone())
