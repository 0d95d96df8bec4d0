"""The handoffs table: a visitor's request for a human, and the team's queue of them.

A handoff is open until a console user claims it, then claimed until someone resolves it (or the
visitor ends it). Only one unresolved handoff exists per conversation; asking again returns the
same one. The first agent reply is timed, so the console can show how long visitors wait.
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
    claimed_by: str | None  # the claimer's email: for the console only, never shown to a visitor
    claimed_at: str | None
    resolved_at: str | None
    claimed_by_id: int | None = None
    agent: str | None = None  # the claimer's alias: what the visitor sees
    first_reply_at: str | None = None
    waiting_seconds: float | None = None  # request → first reply, or → now while nobody has replied
    ended_by_visitor: bool = False


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
           "h.resolved_at, h.claimed_by AS claimed_by_id, u.alias AS agent, h.first_reply_at, "
           "(julianday(coalesce(h.first_reply_at, h.resolved_at, 'now')) - julianday(h.created_at)) * 86400 "
           "AS waiting_seconds, h.ended_by_visitor FROM handoffs h LEFT JOIN admin_users u ON u.id = h.claimed_by")


def _handoff(row: sqlcipher3.Row) -> Handoff:
    return Handoff(**{**dict(row), "ended_by_visitor": bool(row["ended_by_visitor"])})


def queue(db: sqlcipher3.Connection, include_resolved: bool = False, limit: int = 200) -> list[Handoff]:
    """Return handoffs, unresolved ones first and waiting longest on top; resolved ones only if asked."""
    rows = db.execute(f"{_SELECT} WHERE ? OR h.status != 'resolved' "
                      "ORDER BY h.status = 'resolved', h.created_at LIMIT ?", (int(include_resolved), limit))
    return [_handoff(row) for row in rows]


def find(db: sqlcipher3.Connection, handoff_id: int) -> Handoff | None:
    """Return one handoff by id."""
    row = db.execute(f"{_SELECT} WHERE h.id = ?", (handoff_id,)).fetchone()
    return _handoff(row) if row else None


def of_conversation(db: sqlcipher3.Connection, conversation_id: str) -> list[Handoff]:
    """Return a conversation's handoffs, oldest first."""
    rows = db.execute(f"{_SELECT} WHERE h.conversation_id = ? ORDER BY h.id", (conversation_id,))
    return [_handoff(row) for row in rows]


def latest(db: sqlcipher3.Connection, conversation_id: str) -> Handoff | None:
    """Return the conversation's newest handoff, if any."""
    row = db.execute(f"{_SELECT} WHERE h.conversation_id = ? ORDER BY h.id DESC LIMIT 1",
                     (conversation_id,)).fetchone()
    return _handoff(row) if row else None


def count_waiting(db: sqlcipher3.Connection) -> int:
    """Count handoffs nobody has resolved yet."""
    return db.execute("SELECT count(*) FROM handoffs WHERE status != 'resolved'").fetchone()[0]


def claim(db: sqlcipher3.Connection, handoff_id: int, user_id: int) -> bool:
    """Take an open handoff; False if it is already claimed or resolved (someone was faster)."""
    with transaction(db):
        return db.execute(f"UPDATE handoffs SET status = 'claimed', claimed_by = ?, claimed_at = {_NOW} "
                          "WHERE id = ? AND status = 'open'", (user_id, handoff_id)).rowcount == 1


def reassign(db: sqlcipher3.Connection, handoff_id: int, user_id: int) -> bool:
    """Give an unresolved handoff to another team member; False if it is resolved."""
    with transaction(db):
        return db.execute(f"UPDATE handoffs SET status = 'claimed', claimed_by = ?, claimed_at = {_NOW} "
                          "WHERE id = ? AND status != 'resolved'", (user_id, handoff_id)).rowcount == 1


def resolve(db: sqlcipher3.Connection, handoff_id: int, user_id: int | None) -> bool:
    """Close an unresolved handoff (user_id None: the visitor ended it); False if already resolved."""
    with transaction(db):
        return db.execute(f"UPDATE handoffs SET status = 'resolved', resolved_by = ?, resolved_at = {_NOW}, "
                          f"claimed_by = coalesce(claimed_by, ?), claimed_at = coalesce(claimed_at, {_NOW}), "
                          "ended_by_visitor = ? IS NULL WHERE id = ? AND status != 'resolved'",
                          (user_id, user_id, user_id, handoff_id)).rowcount == 1


def note_reply(db: sqlcipher3.Connection, handoff_id: int) -> None:
    """Record the first agent reply's time (later replies leave it alone); call in the caller's transaction."""
    db.execute(f"UPDATE handoffs SET first_reply_at = coalesce(first_reply_at, {_NOW}) WHERE id = ?",
               (handoff_id,))


def waiting_times(db: sqlcipher3.Connection, days: int) -> list[float]:
    """Return seconds from request to first agent reply for handoffs asked for in the last days."""
    rows = db.execute("SELECT (julianday(first_reply_at) - julianday(created_at)) * 86400 FROM handoffs "
                      "WHERE first_reply_at IS NOT NULL AND created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) "
                      "ORDER BY 1", (f"-{days} days",))
    return [row[0] for row in rows]
