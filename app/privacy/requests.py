"""The dsar_requests and dsar_decisions tables: data-subject requests (access or erasure), their
outcome, and the admin's decision per matching visitor.

A request keeps the keyed fingerprint of the identifier the customer gave, never the identifier,
with the law it falls under, the date it was received, its due date and who opened and closed it.
A decision says whether a visitor who typed the identifier is the person asking (`confirmed`) or
only mentioned it (`excluded`); export and erasure act on confirmed visitors only.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlcipher3

from app.db import transaction

KINDS = ("access", "erasure")
LAWS = ("gdpr", "ccpa")
STATUSES = ("open", "completed", "rejected")
DECISIONS = ("confirmed", "excluded")


@dataclass(frozen=True)
class NewRequest:
    kind: str
    law: str
    identifier_kind: str
    fingerprint: str
    reason: str
    received_on: str
    due_on: str


@dataclass(frozen=True, kw_only=True)
class SubjectRequest(NewRequest):
    """A recorded request: what was asked, plus its id, status and who handled it."""

    id: int
    status: str
    outcome: str
    opened_by: str
    closed_by: str | None
    closed_at: str | None


_SELECT = ("SELECT r.id, r.kind, r.law, r.identifier_kind, r.fingerprint, r.reason, r.received_on, r.due_on, "
           "r.status, r.outcome, o.email AS opened_by, c.email AS closed_by, r.closed_at FROM dsar_requests r "
           "JOIN admin_users o ON o.id = r.opened_by LEFT JOIN admin_users c ON c.id = r.closed_by")


def open_request(db: sqlcipher3.Connection, new: NewRequest, user_id: int) -> int:
    """Record a new request; return its id."""
    with transaction(db):
        return db.execute(
            "INSERT INTO dsar_requests (kind, law, identifier_kind, fingerprint, reason, received_on, due_on, "
            "opened_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (new.kind, new.law, new.identifier_kind, new.fingerprint, new.reason, new.received_on, new.due_on,
             user_id)).fetchall()[0]["id"]


def find(db: sqlcipher3.Connection, request_id: int) -> SubjectRequest | None:
    """Return one request by id."""
    row = db.execute(f"{_SELECT} WHERE r.id = ?", (request_id,)).fetchone()
    return SubjectRequest(**dict(row)) if row else None


def listing(db: sqlcipher3.Connection, limit: int = 200) -> list[SubjectRequest]:
    """Return requests, open ones first by due date, then closed ones newest first."""
    rows = db.execute(f"{_SELECT} ORDER BY r.status != 'open', CASE WHEN r.status = 'open' THEN r.due_on END, "
                      "r.id DESC LIMIT ?", (limit,))
    return [SubjectRequest(**dict(row)) for row in rows]


def close(db: sqlcipher3.Connection, request_id: int, status: str, outcome: str, user_id: int) -> bool:
    """Mark an open request completed or rejected with its outcome; False if it was not open."""
    if status not in STATUSES[1:]:
        raise ValueError(f"status must be one of {', '.join(STATUSES[1:])}")
    with transaction(db):
        return db.execute("UPDATE dsar_requests SET status = ?, outcome = ?, closed_by = ?, "
                          "closed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? AND status = 'open'",
                          (status, outcome, user_id, request_id)).rowcount == 1


def decide(db: sqlcipher3.Connection, request_id: int, visitor_id: int, decision: str, user_id: int) -> None:
    """Record (or change) the decision for one matching visitor of an open request."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
    with transaction(db):
        db.execute("INSERT INTO dsar_decisions (request_id, visitor_id, decision, decided_by) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (request_id, visitor_id) DO UPDATE SET decision = excluded.decision, "
                   "decided_by = excluded.decided_by, decided_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                   (request_id, visitor_id, decision, user_id))


def decisions(db: sqlcipher3.Connection, request_id: int) -> dict[int, str]:
    """Return visitor id → decision for the request."""
    rows = db.execute("SELECT visitor_id, decision FROM dsar_decisions WHERE request_id = ?", (request_id,))
    return {row["visitor_id"]: row["decision"] for row in rows}


def confirmed(db: sqlcipher3.Connection, request_id: int) -> list[int]:
    """Return the ids of the visitors the admin confirmed as the person asking, in id order."""
    rows = db.execute("SELECT visitor_id FROM dsar_decisions WHERE request_id = ? AND decision = 'confirmed' "
                      "ORDER BY visitor_id", (request_id,))
    return [row["visitor_id"] for row in rows]
