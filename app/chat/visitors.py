"""The visitors table: create a visitor and find one by bearer token (or, for the console, by id).

A visitor is known by a random 256-bit token that only their browser keeps; we store its SHA-256.
The token has full entropy, so a fast hash is enough and lookups stay one indexed query.
Every deletion of a visitor is written to the erasure ledger in the same transaction, and ids are
never reused (see create_visitor), so a restore can erase the same people again by id.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Iterable

import sqlcipher3

from app.db import transaction
from app.privacy import ledger


@dataclass(frozen=True)
class Visitor:
    id: int
    created_at: str


def token_hash(token: str) -> str:
    """Hash a bearer token for storage and lookup."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_visitor(db: sqlcipher3.Connection) -> tuple[Visitor, str]:
    """Create a visitor; return it with its bearer token, which is never stored or shown again.

    visitors.id is a plain INTEGER PRIMARY KEY: left to itself SQLite gives the next visitor
    max(id) + 1, the id of the newest visitor again once they are erased. Allocating above the
    highest ledgered id as well keeps every id ever erased from naming anyone else.
    """
    token = secrets.token_urlsafe(32)
    with transaction(db):
        row = db.execute("INSERT INTO visitors (id, token_hash, last_seen_at) VALUES (max(coalesce((SELECT "
                         "max(id) FROM visitors), 0), ?) + 1, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
                         "RETURNING id, created_at", (ledger.highest(db), token_hash(token))).fetchall()[0]
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
    """Erase the visitor (their conversations, messages, consent and subject keys cascade); ledger it."""
    delete_visitors(db, [visitor_id], "erasure")


def delete_visitors(db: sqlcipher3.Connection, visitor_ids: Iterable[int], reason: str) -> int:
    """Erase those of these visitors that exist, ledgered in the same transaction; return how many."""
    with transaction(db):
        deleted = [i for i in visitor_ids if db.execute("DELETE FROM visitors WHERE id = ?", (i,)).rowcount]
        ledger.record(db, deleted, reason)
    return len(deleted)


def purge_idle_before(db: sqlcipher3.Connection, cutoff: str) -> int:
    """Delete visitors not seen since cutoff (everything of theirs cascades), ledgered; return how many."""
    with transaction(db):
        purged = [row[0] for row in db.execute("DELETE FROM visitors WHERE last_seen_at < ? RETURNING id",
                                               (cutoff,)).fetchall()]
        ledger.record(db, purged, "retention")
    return len(purged)
