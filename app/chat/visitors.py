"""The visitors table: create a visitor and find one by bearer token (or, for the console, by id).

A visitor is known by a random 256-bit token that only their browser keeps; we store its SHA-256.
The token has full entropy, so a fast hash is enough and lookups stay one indexed query.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlcipher3

from app.db import transaction


@dataclass(frozen=True)
class Visitor:
    id: int
    created_at: str


def token_hash(token: str) -> str:
    """Hash a bearer token for storage and lookup."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_visitor(db: sqlcipher3.Connection) -> tuple[Visitor, str]:
    """Create a visitor; return it with its bearer token, which is never stored or shown again."""
    token = secrets.token_urlsafe(32)
    with transaction(db):
        row = db.execute("INSERT INTO visitors (token_hash, last_seen_at) VALUES (?, strftime("
                         "'%Y-%m-%dT%H:%M:%fZ', 'now')) RETURNING id, created_at",
                         (token_hash(token),)).fetchall()[0]
    return Visitor(row["id"], row["created_at"]), token


def find_visitor(db: sqlcipher3.Connection, token: str) -> Visitor | None:
    """Return the visitor holding this token, or None."""
    row = db.execute("SELECT id, created_at FROM visitors WHERE token_hash = ?",
                     (token_hash(token),)).fetchone()
    return Visitor(row["id"], row["created_at"]) if row else None


def find_by_id(db: sqlcipher3.Connection, visitor_id: int) -> Visitor | None:
    """Return a visitor by internal id (console use: data-subject requests), or None."""
    row = db.execute("SELECT id, created_at FROM visitors WHERE id = ?", (visitor_id,)).fetchone()
    return Visitor(row["id"], row["created_at"]) if row else None


def touch(db: sqlcipher3.Connection, visitor_id: int) -> None:
    """Mark the visitor as seen now; retention counts from here."""
    with transaction(db):
        db.execute("UPDATE visitors SET last_seen_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
                   (visitor_id,))


def delete_visitor(db: sqlcipher3.Connection, visitor_id: int) -> None:
    """Delete the visitor; their conversations, messages, consent and subject keys cascade."""
    with transaction(db):
        db.execute("DELETE FROM visitors WHERE id = ?", (visitor_id,))


def purge_idle_before(db: sqlcipher3.Connection, cutoff: str) -> int:
    """Delete visitors not seen since cutoff (everything of theirs cascades); return how many."""
    with transaction(db):
        return db.execute("DELETE FROM visitors WHERE last_seen_at < ?", (cutoff,)).rowcount
