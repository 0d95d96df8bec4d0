"""The contacts table: an email address a visitor left for a reply when nobody could answer live.

It is the only original identifier Quietdesk keeps, so it lives in its own table inside the
encrypted database, under its own consent purpose (`contact`), and is read in exactly two places:
an agent's audited Reveal and the visitor's own export. It is deleted CONTACT_RETENTION_DAYS after
its handoff is resolved, when the visitor withdraws `contact`, or with the visitor.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlcipher3

from app.db import transaction


@dataclass(frozen=True)
class Contact:
    id: int
    handoff_id: int
    email: str
    created_at: str


def leave(db: sqlcipher3.Connection, visitor_id: int, handoff_id: int, email: str) -> None:
    """Keep the address for this handoff (replacing one left before for it), in the caller's transaction."""
    db.execute("INSERT INTO contacts (visitor_id, handoff_id, email) VALUES (?, ?, ?) ON CONFLICT (handoff_id) "
               "DO UPDATE SET email = excluded.email, created_at = excluded.created_at",
               (visitor_id, handoff_id, email))


def of_handoff(db: sqlcipher3.Connection, handoff_id: int) -> Contact | None:
    """Return the address left for a handoff, if any (callers audit the read)."""
    row = db.execute("SELECT id, handoff_id, email, created_at FROM contacts WHERE handoff_id = ?",
                     (handoff_id,)).fetchone()
    return Contact(**dict(row)) if row else None


def has_contact(db: sqlcipher3.Connection, handoff_id: int) -> bool:
    """Say whether an address was left for the handoff, without reading it."""
    return db.execute("SELECT 1 FROM contacts WHERE handoff_id = ?", (handoff_id,)).fetchone() is not None


def of_visitor(db: sqlcipher3.Connection, visitor_id: int) -> list[Contact]:
    """Return every address the visitor left, oldest first (for their own export)."""
    rows = db.execute("SELECT id, handoff_id, email, created_at FROM contacts WHERE visitor_id = ? ORDER BY id",
                      (visitor_id,))
    return [Contact(**dict(row)) for row in rows]


def forget_visitor(db: sqlcipher3.Connection, visitor_id: int) -> int:
    """Delete every address the visitor left (they withdrew `contact`); return how many."""
    with transaction(db):
        return db.execute("DELETE FROM contacts WHERE visitor_id = ?", (visitor_id,)).rowcount


def expire(db: sqlcipher3.Connection, resolved_before: str) -> int:
    """Delete addresses whose handoff was resolved before the cutoff; return how many."""
    with transaction(db):
        return db.execute("DELETE FROM contacts WHERE handoff_id IN (SELECT id FROM handoffs WHERE status = "
                          "'resolved' AND resolved_at < ?)", (resolved_before,)).rowcount
