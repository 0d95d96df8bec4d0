"""The consent_events table: an append-only log of grants and withdrawals per purpose.

A purpose's current state is its latest event; no event means not granted. Each event keeps
time, purpose, decision, policy version and source, so consent can be demonstrated later.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlcipher3

from app.db import transaction

PURPOSES = ("transcripts", "analytics", "contact")


@dataclass(frozen=True)
class ConsentEvent:
    purpose: str
    granted: bool
    policy_version: str
    source: str
    created_at: str


def current(db: sqlcipher3.Connection, visitor_id: int) -> dict[str, bool]:
    """Return each purpose's current state for the visitor."""
    rows = db.execute(
        "SELECT purpose, granted FROM consent_events WHERE id IN "
        "(SELECT max(id) FROM consent_events WHERE visitor_id = ? GROUP BY purpose)", (visitor_id,))
    state = dict.fromkeys(PURPOSES, False)
    state.update({row["purpose"]: bool(row["granted"]) for row in rows})
    return state


def record(db: sqlcipher3.Connection, visitor_id: int, wanted: dict[str, bool],
           policy_version: str, source: str) -> dict[str, bool]:
    """Append an event for each purpose whose state changes; return the new state."""
    unknown = set(wanted) - set(PURPOSES)
    if unknown:
        raise ValueError(f"unknown consent purposes {sorted(unknown)}")
    with transaction(db):
        state = current(db, visitor_id)
        for purpose in (p for p in PURPOSES if p in wanted):
            granted = wanted[purpose]
            if state[purpose] != granted:
                db.execute("INSERT INTO consent_events (visitor_id, purpose, granted, policy_version, "
                           "source) VALUES (?, ?, ?, ?, ?)",
                           (visitor_id, purpose, int(granted), policy_version, source))
                state[purpose] = granted
    return state


def history(db: sqlcipher3.Connection, visitor_id: int) -> list[ConsentEvent]:
    """Return every consent event of the visitor, oldest first."""
    rows = db.execute("SELECT purpose, granted, policy_version, source, created_at FROM consent_events "
                      "WHERE visitor_id = ? ORDER BY id", (visitor_id,))
    return [ConsentEvent(r["purpose"], bool(r["granted"]), r["policy_version"], r["source"],
                         r["created_at"]) for r in rows]
