"""The transcript tables: conversations, messages and placeholders (feedback: `app.chat.feedback`).

Only scrubbed text reaches this module, and only with the visitor's consent to keep
transcripts (the pipeline decides); a conversation row itself holds no text.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import sqlcipher3

from app.chat import handoffs, tags
from app.db import transaction


@dataclass(frozen=True)
class Conversation:
    id: str
    visitor_id: int
    created_at: str


@dataclass(frozen=True)
class StoredTurn:
    """One turn as it is stored: scrubbed visitor text and the bot's reply."""

    visitor_text: str
    answer: str
    sources: list[dict[str, str]]
    confidence: float
    handoff_offered: bool
    vector: bytes | None = None  # the visitor text's sentence vector (float32), for grouping gaps
    asked_which: bool = False  # the reply asked which of several look-alikes was meant: no knowledge gap


def new_id() -> str:
    """Return a random public id for a conversation or message, starting with a letter or digit: one
    starting with "-" is a formula to a spreadsheet (the CSV download had to quote it, so the cell no
    longer matched the console) and an option to a command line."""
    while (value := secrets.token_urlsafe(12))[0] in "-_":
        pass
    return value


def _conversation(row: sqlcipher3.Row | None) -> Conversation | None:
    return Conversation(row["id"], row["visitor_id"], row["created_at"]) if row else None


def open_conversation(db: sqlcipher3.Connection, visitor_id: int) -> Conversation:
    """Start a new conversation for the visitor under a random public id, with its own placeholder key."""
    with transaction(db):
        row = db.execute("INSERT INTO conversations (id, visitor_id, placeholder_key) VALUES (?, ?, ?) "
                         "RETURNING id, visitor_id, created_at",
                         (new_id(), visitor_id, secrets.token_bytes(32))).fetchall()[0]
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


def placeholders(db: sqlcipher3.Connection, conversation_id: str) -> tuple[bytes, dict[str, str]]:
    """Return the conversation's placeholder key and its HMAC → placeholder map.

    The key is random per conversation and is deleted with it, so the stored HMACs of masked values
    (dates of birth, card numbers…) cannot be reversed by guessing once it is gone, nor with the
    instance's long-lived keys while it exists.
    """
    row = db.execute("SELECT placeholder_key FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    rows = db.execute("SELECT fingerprint, label FROM placeholders WHERE conversation_id = ?",
                      (conversation_id,))
    return row["placeholder_key"], {r["fingerprint"]: r["label"] for r in rows}


def append_turn(db: sqlcipher3.Connection, conversation_id: str, turn: StoredTurn, message_id: str,
                labels: dict[str, str]) -> None:
    """Store one turn and the placeholder labels it used (call inside the caller's transaction)."""
    db.execute("INSERT INTO messages (id, conversation_id, role, text, vector) VALUES (?, ?, 'visitor', ?, ?)",
               (new_id(), conversation_id, turn.visitor_text, turn.vector))
    db.execute("INSERT INTO messages (id, conversation_id, role, text, sources, confidence, "
               "handoff_offered, asked_which) VALUES (?, ?, 'bot', ?, ?, ?, ?, ?)",
               (message_id, conversation_id, turn.answer, json.dumps(turn.sources), turn.confidence,
                int(turn.handoff_offered), int(turn.asked_which)))
    remember_placeholders(db, conversation_id, labels)


def remember_placeholders(db: sqlcipher3.Connection, conversation_id: str, labels: dict[str, str]) -> None:
    """Keep the conversation's HMAC → placeholder labels (call inside the caller's transaction)."""
    db.executemany("INSERT OR IGNORE INTO placeholders (conversation_id, fingerprint, label) "
                   "VALUES (?, ?, ?)", [(conversation_id, f, label) for f, label in labels.items()])


def mark_counted(db: sqlcipher3.Connection, conversation_id: str) -> bool:
    """Flag the conversation as counted in analytics; True only the first time (call in a transaction)."""
    return db.execute("UPDATE conversations SET analytics_counted = 1 WHERE id = ? AND analytics_counted = 0",
                      (conversation_id,)).rowcount == 1


def _message(m: sqlcipher3.Row) -> dict[str, Any]:
    return {"id": m["id"], "role": m["role"], "text": m["text"], "sources": json.loads(m["sources"]),
            "confidence": m["confidence"], "handoff_offered": bool(m["handoff_offered"]),
            "asked_which": bool(m["asked_which"]),
            "feedback": m["rating"], "author": m["author"], "created_at": m["created_at"]}


def messages_of(db: sqlcipher3.Connection, conversation_id: str, after: str | None = None) -> list[dict[str, Any]]:
    """Return a conversation's stored messages with their feedback, oldest first; with `after`, only
    those stored after that message (all of them if it is not in the conversation)."""
    rows = db.execute("SELECT m.*, f.rating FROM messages m LEFT JOIN feedback f ON f.message_id = m.id "
                      "WHERE m.conversation_id = :conversation AND m.rowid > coalesce((SELECT rowid FROM messages "
                      "WHERE id = :after AND conversation_id = :conversation), 0) ORDER BY m.rowid",
                      {"conversation": conversation_id, "after": after})
    return [_message(m) for m in rows]


def has_message(db: sqlcipher3.Connection, conversation_id: str, message_id: str) -> bool:
    """Say whether the conversation holds a message with this id."""
    return db.execute("SELECT 1 FROM messages WHERE id = ? AND conversation_id = ?",
                      (message_id, conversation_id)).fetchone() is not None


def append_message(db: sqlcipher3.Connection, conversation_id: str, role: str, text: str,
                   author: str | None = None) -> str:
    """Store one visitor, agent or notice message (scrubbed by the caller) in the caller's transaction;
    return its id."""
    message_id = new_id()
    db.execute("INSERT INTO messages (id, conversation_id, role, text, author) VALUES (?, ?, ?, ?, ?)",
               (message_id, conversation_id, role, text, author))
    return message_id


def messages_mentioning(db: sqlcipher3.Connection, conversation_id: str, label: str) -> list[dict[str, Any]]:
    """Return the conversation's stored messages whose scrubbed text holds this placeholder."""
    rows = db.execute("SELECT id, role, text, created_at FROM messages WHERE conversation_id = ? AND "
                      "instr(text, ?) > 0 ORDER BY created_at, rowid", (conversation_id, label))
    return [dict(row) for row in rows]


def export_conversations(db: sqlcipher3.Connection, visitor_id: int) -> list[dict[str, Any]]:
    """Return the visitor's conversations with messages, feedback and handoffs, oldest first."""
    conversations = []
    for conv in db.execute("SELECT id, created_at FROM conversations WHERE visitor_id = ? "
                           "ORDER BY created_at, rowid", (visitor_id,)).fetchall():
        conversations.append({"id": conv["id"], "created_at": conv["created_at"],
                              "messages": messages_of(db, conv["id"]),
                              "handoffs": [{"status": h.status, "created_at": h.created_at,
                                            "resolved_at": h.resolved_at, "agent": h.agent,
                                            "first_reply_at": h.first_reply_at}
                                           for h in handoffs.of_conversation(db, conv["id"])],
                              "tags": tags.of_conversation(db, conv["id"])})
    return conversations


def activity_of(db: sqlcipher3.Connection, visitor_id: int) -> dict[str, Any]:
    """Return how many conversations and messages the visitor has, and when they were last active."""
    row = db.execute("SELECT count(DISTINCT c.id) AS conversations, count(m.id) AS messages, "
                     "coalesce(max(m.created_at), max(c.created_at)) AS last_active FROM conversations c "
                     "LEFT JOIN messages m ON m.conversation_id = c.id WHERE c.visitor_id = ?",
                     (visitor_id,)).fetchone()
    return dict(row)


def purge_conversations_before(db: sqlcipher3.Connection, cutoff: str) -> int:
    """Delete conversations with no message or handoff since cutoff; return how many."""
    with transaction(db):
        return db.execute(
            "DELETE FROM conversations WHERE created_at < :cutoff AND NOT EXISTS (SELECT 1 FROM messages "
            "WHERE conversation_id = conversations.id AND created_at >= :cutoff) AND NOT EXISTS (SELECT 1 "
            "FROM handoffs WHERE conversation_id = conversations.id AND created_at >= :cutoff)",
            {"cutoff": cutoff}).rowcount


@dataclass(frozen=True)
class Filters:
    """What the console's conversation list shows; every field has a closed set of values."""

    since: str | None = None  # YYYY-MM-DD, last activity on or after
    until: str | None = None  # YYYY-MM-DD, last activity on or before
    answered: str = "all"     # all | answered | unanswered
    rating: str = "all"       # all | up | down | none
    handoff: str = "all"      # all | any | open | claimed | resolved | none
    tag: str | None = None    # only conversations carrying this tag
    search: str | None = None  # words of letters and digits that one of its messages holds, in any order


CHOICES = {
    "answered": {"answered": "unanswered = 0", "unanswered": "unanswered > 0"},
    "rating": {"up": "thumbs_up > 0", "down": "thumbs_down > 0", "none": "thumbs_up + thumbs_down = 0"},
    "handoff": {"any": "handoff IS NOT NULL", "open": "handoff = 'open'", "claimed": "handoff = 'claimed'",
                "resolved": "handoff = 'resolved'", "none": "handoff IS NULL"},
}


def summaries(db: sqlcipher3.Connection, filters: Filters, limit: int, offset: int) -> list[dict[str, Any]]:
    """Return conversations that hold messages or a handoff, most recently active first."""
    # Only fixed SQL fragments from CHOICES are joined in; dates travel as parameters.
    where = ["(messages > 0 OR handoff IS NOT NULL)"]
    where += [CHOICES[name][getattr(filters, name)] for name in CHOICES if getattr(filters, name) != "all"]
    where += ["active_at >= :since"] if filters.since else []
    where += ["active_at < date(:until, '+1 day')"] if filters.until else []
    where += ["id IN (SELECT conversation_id FROM conversation_tags WHERE tag = :tag)"] if filters.tag else []
    # Each word quoted (so no FTS5 operator gets through) and matched as a prefix: "refund" finds "refunds".
    search = " ".join('"' + word.replace('"', '""') + '"*' for word in (filters.search or "").split()) or None
    where += ["id IN (SELECT m.conversation_id FROM messages_fts JOIN messages m "
              "ON m.rowid = messages_fts.rowid WHERE messages_fts MATCH :search)"] if search else []
    rows = db.execute(
        "SELECT *, count(*) OVER () AS total FROM (SELECT c.id, c.created_at, count(m.id) AS messages, "
        "(SELECT text FROM messages v WHERE v.conversation_id = c.id AND v.role = 'visitor' ORDER BY v.rowid "
        "LIMIT 1) AS first_question, "
        "coalesce(max(m.created_at), c.created_at) AS active_at, coalesce(sum(f.rating = 'up'), 0) AS thumbs_up, "
        "coalesce(sum(f.rating = 'down'), 0) AS thumbs_down, "
        f"coalesce(sum(m.role = 'bot' AND {_unanswered('m')}), 0) AS unanswered, "
        "(SELECT status FROM handoffs h WHERE h.conversation_id = c.id ORDER BY h.id DESC LIMIT 1) AS handoff, "
        "(SELECT group_concat(tag, ' ') FROM (SELECT tag FROM conversation_tags t WHERE t.conversation_id = c.id "
        "ORDER BY tag)) AS tags FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id "
        "LEFT JOIN feedback f ON f.message_id = m.id GROUP BY c.id) "
        f"WHERE {' AND '.join(where)} ORDER BY active_at DESC LIMIT :limit OFFSET :offset",
        {"since": filters.since, "until": filters.until, "tag": filters.tag, "search": search, "limit": limit,
         "offset": offset})
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class GapQuestion:
    """A visitor question the bot could not answer, or whose answer got a thumbs down."""

    message_id: str  # the visitor message's own id
    conversation_id: str
    text: str
    asked_at: str
    unanswered: bool
    thumbs_down: bool
    vector: bytes | None  # stored with the question; None for rows stored before vectors were kept
    follows: str | None = None  # the visitor's message before it ("and to Germany?"), None for a first one


def _unanswered(message: str) -> str:
    """SQL: the bot reply `message` (a table alias) answered "I don't know". One that asked which of several
    look-alike articles was meant offered a person too, but is no gap: the articles exist."""
    return f"({message}.handoff_offered AND NOT {message}.asked_which)"


def gap_questions(db: sqlcipher3.Connection, limit: int) -> list[GapQuestion]:
    """Return the most recent questions answered with "I don't know" or rated down (a reply asking which
    of several articles was meant is no gap: they exist), each with the visitor's message before it: a
    follow-up ("how long does that take?") says little without it."""
    rows = db.execute(
        f"SELECT v.id, b.conversation_id, b.created_at, {_unanswered('b')} AS gap, "
        "f.rating, v.text AS question, v.vector, (SELECT e.text FROM messages e WHERE "
        "e.conversation_id = v.conversation_id AND e.role = 'visitor' AND e.rowid < v.rowid "
        "ORDER BY e.rowid DESC LIMIT 1) AS follows "
        "FROM messages b LEFT JOIN feedback f ON f.message_id = b.id "
        "JOIN messages v ON v.rowid = (SELECT max(p.rowid) FROM messages p WHERE p.conversation_id = "
        "b.conversation_id AND p.role = 'visitor' AND p.rowid < b.rowid) WHERE b.role = 'bot' AND "
        f"({_unanswered('b')} OR f.rating = 'down') "
        "ORDER BY b.created_at DESC LIMIT ?", (limit,))
    return [GapQuestion(row["id"], row["conversation_id"], row["question"], row["created_at"],
                        bool(row["gap"]), row["rating"] == "down", row["vector"], row["follows"])
            for row in rows]


def find_conversation(db: sqlcipher3.Connection, conversation_id: str) -> Conversation | None:
    """Return any conversation by id (console use only; visitors go through owned_conversation)."""
    return _conversation(db.execute("SELECT id, visitor_id, created_at FROM conversations WHERE id = ?",
                                    (conversation_id,)).fetchone())
