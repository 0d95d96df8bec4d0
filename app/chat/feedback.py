"""The feedback table: a visitor's thumbs up or down on a stored bot answer, one per answer.

Only stored answers can be rated, so feedback exists only with consent to keep transcripts; it goes with
its message on erasure and purge (foreign key, `ON DELETE CASCADE`).
"""
from __future__ import annotations

import json

import sqlcipher3

from app.db import transaction


def rate(db: sqlcipher3.Connection, message_id: str, visitor_id: int, rating: str) -> bool:
    """Record (or change) feedback on one of the visitor's bot messages; False if there is none."""
    with transaction(db):
        owned = db.execute("SELECT 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                           "WHERE m.id = ? AND m.role = 'bot' AND c.visitor_id = ?",
                           (message_id, visitor_id)).fetchone()
        if owned:
            db.execute("INSERT INTO feedback (message_id, rating) VALUES (?, ?) ON CONFLICT (message_id) "
                       "DO UPDATE SET rating = excluded.rating, created_at = excluded.created_at",
                       (message_id, rating))
    return owned is not None


def rate_last_answer_down(db: sqlcipher3.Connection, conversation_id: str) -> bool:
    """Rate the conversation's last bot reply down when it answered from an article (also in part, one
    question of two) and holds no rating yet — the visitor said it missed ("that didn't help") — and say
    whether it was (call inside the caller's transaction, before the new turn is stored). A reply asking
    which of several articles was meant cites them but answered from none."""
    last = db.execute("SELECT m.id, m.sources, m.asked_which, f.rating FROM messages m "
                      "LEFT JOIN feedback f ON f.message_id = m.id "
                      "WHERE m.conversation_id = ? AND m.role = 'bot' ORDER BY m.rowid DESC LIMIT 1",
                      (conversation_id,)).fetchone()
    if last is None or last["rating"] or last["asked_which"] or not json.loads(last["sources"] or "[]"):
        return False
    db.execute("INSERT INTO feedback (message_id, rating) VALUES (?, 'down')", (last["id"],))
    return True


def rating_of(db: sqlcipher3.Connection, message_id: str) -> str | None:
    """Return the rating a bot message holds ("up" or "down"), or None if it has none."""
    row = db.execute("SELECT rating FROM feedback WHERE message_id = ?", (message_id,)).fetchone()
    return row["rating"] if row else None
