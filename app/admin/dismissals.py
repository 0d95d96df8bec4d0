"""The gap_dismissals table: which visitor questions an admin dismissed as a knowledge gap.

Only message ids are kept, never the text; a row goes with its message, so an erasure or a
retention purge leaves nothing behind here.
"""
from __future__ import annotations

from typing import Iterable

import sqlcipher3

from app.db import transaction


def dismiss(db: sqlcipher3.Connection, message_ids: Iterable[str], user_id: int) -> int:
    """Record the questions as dismissed by the user; return how many were not dismissed before."""
    with transaction(db):
        return sum(db.execute("INSERT OR IGNORE INTO gap_dismissals (message_id, dismissed_by) VALUES (?, ?)",
                              (message_id, user_id)).rowcount for message_id in message_ids)


def dismissed(db: sqlcipher3.Connection, message_ids: Iterable[str]) -> set[str]:
    """Return those of the message ids that were dismissed."""
    wanted = list(message_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # stay well under SQLite's bound-parameter limit
        batch = wanted[start:start + 500]
        rows = db.execute(f"SELECT message_id FROM gap_dismissals WHERE message_id IN "
                          f"({', '.join('?' * len(batch))})", batch)
        found.update(row["message_id"] for row in rows)
    return found
