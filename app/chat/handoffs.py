"""The handoffs table: a visitor's request for a human, and the team's queue of them.

A handoff is open until a console user claims it, then claimed until someone resolves it. Only
one unresolved handoff exists per conversation; asking again returns the same one.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlcipher3

from app.db import transaction

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


@dataclass(frozen=True)
class Handoff:
    id: int
    conversation_id: str
    status: str
    created_at: str
    claimed_by: str | None
    claimed_at: str | None
    resolved_at: str | None


def request(db: sqlcipher3.Connection, conversation_id: str) -> tuple[int, bool]:
    """Open a handoff for the conversation unless one is already open; return (id, created)."""
    with transaction(db):
        row = db.execute("SELECT id FROM handoffs WHERE conversation_id = ? AND status != 'resolved'",
                         (conversation_id,)).fetchone()
        if row:
            return row["id"], False
        return db.execute("INSERT INTO handoffs (conversation_id) VALUES (?) RETURNING id",
                          (conversation_id,)).fetchall()[0]["id"], True


_SELECT = ("SELECT h.id, h.conversation_id, h.status, h.created_at, u.email AS claimed_by, h.claimed_at, "
           "h.resolved_at FROM handoffs h LEFT JOIN admin_users u ON u.id = h.claimed_by")


def queue(db: sqlcipher3.Connection, include_resolved: bool = False, limit: int = 200) -> list[Handoff]:
    """Return handoffs, unresolved ones first and waiting longest on top; resolved ones only if asked."""
    rows = db.execute(f"{_SELECT} WHERE ? OR h.status != 'resolved' "
                      "ORDER BY h.status = 'resolved', h.created_at LIMIT ?", (int(include_resolved), limit))
    return [Handoff(**dict(row)) for row in rows]


def of_conversation(db: sqlcipher3.Connection, conversation_id: str) -> list[Handoff]:
    """Return a conversation's handoffs, oldest first."""
    rows = db.execute(f"{_SELECT} WHERE h.conversation_id = ? ORDER BY h.id", (conversation_id,))
    return [Handoff(**dict(row)) for row in rows]


def count_waiting(db: sqlcipher3.Connection) -> int:
    """Count handoffs nobody has resolved yet."""
    return db.execute("SELECT count(*) FROM handoffs WHERE status != 'resolved'").fetchone()[0]


def claim(db: sqlcipher3.Connection, handoff_id: int, user_id: int) -> bool:
    """Take an open handoff; False if it is already claimed or resolved (someone was faster)."""
    with transaction(db):
        return db.execute(f"UPDATE handoffs SET status = 'claimed', claimed_by = ?, claimed_at = {_NOW} "
                          "WHERE id = ? AND status = 'open'", (user_id, handoff_id)).rowcount == 1


def resolve(db: sqlcipher3.Connection, handoff_id: int, user_id: int) -> bool:
    """Close an unresolved handoff; False if it was already resolved."""
    with transaction(db):
        return db.execute(f"UPDATE handoffs SET status = 'resolved', resolved_by = ?, resolved_at = {_NOW}, "
                          f"claimed_by = coalesce(claimed_by, ?), claimed_at = coalesce(claimed_at, {_NOW}) "
                          "WHERE id = ? AND status != 'resolved'", (user_id, user_id, handoff_id)).rowcount == 1
