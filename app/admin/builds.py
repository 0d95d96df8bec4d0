"""The index_builds table: rebuilds asked for from the console and how they ended.

Kept in the database so every server worker shows the same state, and so a second rebuild is
refused while one is running anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlcipher3

from app.db import transaction

STALE_MINUTES = 30  # a 'running' build older than this died with its process


@dataclass(frozen=True)
class Build:
    id: int
    requested_by: str
    status: str
    message: str
    started_at: str
    finished_at: str | None


def start(db: sqlcipher3.Connection, user_id: int) -> int | None:
    """Record a new running build; None if another one is already running."""
    with transaction(db):
        running = db.execute("SELECT 1 FROM index_builds WHERE status = 'running' AND started_at >= "
                             "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)", (f"-{STALE_MINUTES} minutes",)).fetchone()
        if running:
            return None
        return db.execute("INSERT INTO index_builds (requested_by) VALUES (?) RETURNING id",
                          (user_id,)).fetchall()[0]["id"]


def finish(db: sqlcipher3.Connection, build_id: int, ok: bool, message: str) -> None:
    """Record how the build ended."""
    with transaction(db):
        db.execute("UPDATE index_builds SET status = ?, message = ?, finished_at = "
                   "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?", ("done" if ok else "failed", message, build_id))


def recent(db: sqlcipher3.Connection, limit: int = 10) -> list[Build]:
    """Return the latest builds, newest first."""
    rows = db.execute("SELECT b.id, u.email AS requested_by, b.status, b.message, b.started_at, b.finished_at "
                      "FROM index_builds b JOIN admin_users u ON u.id = b.requested_by ORDER BY b.id DESC LIMIT ?",
                      (limit,))
    return [Build(**dict(row)) for row in rows]
