"""The subject_keys table: keyed hashes of identifiers a visitor typed, for data-subject lookups.

Only HMAC fingerprints are stored (never the email or phone number), so a request such as
"find everything about jane@example.com" works while every stored text stays scrubbed.
"""
from __future__ import annotations

import sqlcipher3


def remember(db: sqlcipher3.Connection, visitor_id: int, keys: dict[str, str]) -> None:
    """Store fingerprint → kind pairs for the visitor (call inside the caller's transaction)."""
    db.executemany("INSERT OR IGNORE INTO subject_keys (visitor_id, kind, fingerprint) VALUES (?, ?, ?)",
                   [(visitor_id, kind, fingerprint) for fingerprint, kind in keys.items()])


def visitors_with(db: sqlcipher3.Connection, fingerprint: str) -> list[int]:
    """Return the ids of visitors who typed the identifier with this fingerprint."""
    rows = db.execute("SELECT DISTINCT visitor_id FROM subject_keys WHERE fingerprint = ? "
                      "ORDER BY visitor_id", (fingerprint,))
    return [row["visitor_id"] for row in rows]


def keys_of(db: sqlcipher3.Connection, visitor_id: int) -> list[dict[str, str]]:
    """Return the visitor's stored fingerprints with their kind and time, for export."""
    rows = db.execute("SELECT kind, fingerprint, created_at FROM subject_keys WHERE visitor_id = ? "
                      "ORDER BY created_at, fingerprint", (visitor_id,))
    return [dict(row) for row in rows]
