"""The erasure ledger: which visitor ids were erased and when, so a restore can erase them again.

Only the internal id, the reason and the time are kept: nothing that identifies a person. Rows are
written in the same transaction as the deletion they record (see app.chat.visitors), and a restore
carries the replaced file's rows into the restored one (app.backup).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import sqlcipher3

from app.db import transaction

REASONS = ("erasure", "retention")


@dataclass(frozen=True)
class Entry:
    visitor_id: int
    reason: str
    erased_at: str


def record(db: sqlcipher3.Connection, visitor_ids: Iterable[int], reason: str) -> None:
    """Ledger the erasure of these visitors now; an id already ledgered keeps its first entry."""
    if reason not in REASONS:
        raise ValueError(f"unknown erasure reason {reason!r}")
    with transaction(db):
        db.executemany("INSERT OR IGNORE INTO erasure_ledger (visitor_id, reason) VALUES (?, ?)",
                       [(visitor_id, reason) for visitor_id in visitor_ids])


def add(db: sqlcipher3.Connection, entries: Iterable[Entry]) -> int:
    """Copy entries read from another file, keeping their reason and time; return how many were new."""
    with transaction(db):
        before = db.total_changes
        db.executemany("INSERT OR IGNORE INTO erasure_ledger (visitor_id, reason, erased_at) "
                       "VALUES (?, ?, ?)",
                       [(e.visitor_id, e.reason, e.erased_at) for e in entries])
        return db.total_changes - before


def entries(db: sqlcipher3.Connection) -> list[Entry]:
    """Return every entry, oldest id first; none in a file whose schema predates the ledger."""
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'erasure_ledger'")
    if found.fetchone() is None:
        return []
    rows = db.execute("SELECT visitor_id, reason, erased_at FROM erasure_ledger ORDER BY visitor_id")
    return [Entry(*row) for row in rows]


def highest(db: sqlcipher3.Connection) -> int:
    """Return the highest ledgered visitor id (0 for none): new visitor ids must lie above it."""
    return db.execute("SELECT coalesce(max(visitor_id), 0) FROM erasure_ledger").fetchone()[0]
