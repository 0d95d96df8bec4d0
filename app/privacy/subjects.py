"""The subject_keys table: keyed hashes of identifiers a visitor typed, for data-subject lookups.

Only HMAC fingerprints are stored (never the email or phone number), so a request such as
"find everything about jane@example.com" works while every stored text stays scrubbed. Each key
also names the conversation and placeholder it was typed as, so the admin can read the messages
that mention it before deciding whether the visitor is the person asking.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlcipher3


CONTACT = "contact address"  # the label of an address left for a reply (it is in no message)


@dataclass(frozen=True)
class Mention:
    """One identifier as a visitor typed it: its kind and keyed hash, where, and as which placeholder."""

    kind: str
    fingerprint: str
    conversation_id: str | None
    label: str | None


def remember(db: sqlcipher3.Connection, visitor_id: int, mentions: list[Mention]) -> None:
    """Store the visitor's mentions of identifiers (call inside the caller's transaction)."""
    db.executemany("INSERT OR IGNORE INTO subject_keys (visitor_id, conversation_id, kind, fingerprint, label) "
                   "VALUES (?, ?, ?, ?, ?)",
                   [(visitor_id, m.conversation_id, m.kind, m.fingerprint, m.label) for m in mentions])


def mentions_of(db: sqlcipher3.Connection, visitor_id: int, fingerprint: str) -> list[Mention]:
    """Return where the visitor typed the identifier with this fingerprint, oldest first."""
    rows = db.execute("SELECT kind, fingerprint, conversation_id, label FROM subject_keys WHERE visitor_id = ? "
                      "AND fingerprint = ? ORDER BY created_at, id", (visitor_id, fingerprint))
    return [Mention(**dict(row)) for row in rows]


def visitors_with(db: sqlcipher3.Connection, fingerprint: str) -> list[int]:
    """Return the ids of visitors who typed the identifier with this fingerprint."""
    rows = db.execute("SELECT DISTINCT visitor_id FROM subject_keys WHERE fingerprint = ? "
                      "ORDER BY visitor_id", (fingerprint,))
    return [row["visitor_id"] for row in rows]


def keys_of(db: sqlcipher3.Connection, visitor_id: int) -> list[dict[str, str]]:
    """Return the visitor's stored fingerprints with their kind and first time, for export."""
    rows = db.execute("SELECT kind, fingerprint, min(created_at) AS created_at FROM subject_keys "
                      "WHERE visitor_id = ? GROUP BY kind, fingerprint ORDER BY 3, fingerprint", (visitor_id,))
    return [dict(row) for row in rows]
