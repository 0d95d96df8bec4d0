"""Data-subject requests from the console: find a customer's data by the email or phone number they
give, export it as the same document the widget gives, or erase it, with a due date and a status.

The identifier is fingerprinted with the server's subject key at once and never stored; matching
goes through subject_keys, the keyed hashes of identifiers visitors typed in chat. A match only
means the visitor typed the identifier — perhaps a colleague's address — so the admin reads the
scrubbed messages that mention it and decides per visitor; export and erasure act only on the
visitors confirmed that way, as recorded, never on a list re-read at the moment of acting. Every
step writes an audit entry naming the request and visitors by internal id.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app

from app.admin import audit
from app.admin.accounts import User
from app.chat import transcripts, visitors
from app.db import get_db
from app.privacy import export, requests, subjects
from app.privacy.placeholders import e164, fingerprint

DUE_DAYS = {"gdpr": 30, "ccpa": 45}  # GDPR Art. 12(3): one month; CCPA §1798.130: 45 days
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RequestRejected(ValueError):
    """The form cannot become a request; the message says what to fix."""


@dataclass(frozen=True)
class Form:
    identifier: str
    kind: str
    law: str
    reason: str
    received_on: str


def _scrubbed(note: str) -> str:
    """Return a team member's note with any personal data in it masked, like everything stored."""
    return current_app.extensions["pipeline"].scrubber.scrub(note.strip()).text


def _identify(identifier: str) -> tuple[str, str]:
    """Return (entity type, keyed fingerprint) of an email address or phone number."""
    value, region = identifier.strip(), current_app.extensions["pipeline"].scrubber.region
    if EMAIL.match(value):
        kind = "EMAIL_ADDRESS"
    elif e164(value, region):
        kind = "PHONE_NUMBER"
    else:
        raise RequestRejected("Enter the email address or phone number the customer gave.")
    return kind, fingerprint(current_app.config["SUBJECT_KEY"].encode(), kind, value, region)


def _received(text: str) -> date:
    try:
        received = date.fromisoformat(text) if text else date.today()
    except ValueError:
        raise RequestRejected("Enter the date the request was received as YYYY-MM-DD.") from None
    if received > date.today() or received < date.today() - timedelta(days=365):
        raise RequestRejected("The received date must be within the last year and not in the future.")
    return received


def open_request(user: User, form: Form) -> int:
    """Record the request with its due date and audit it; raise RequestRejected for a bad form."""
    if form.kind not in requests.KINDS or form.law not in requests.LAWS:
        raise RequestRejected("Choose the kind of request and the law it falls under.")
    if not 3 <= len(form.reason.strip()) <= 500:
        raise RequestRejected("Record how the request arrived and how the customer was verified (3–500 characters).")
    identifier_kind, key = _identify(form.identifier)
    received = _received(form.received_on)
    due = received + timedelta(days=DUE_DAYS[form.law])
    db = get_db()
    request_id = requests.open_request(db, requests.NewRequest(
        form.kind, form.law, identifier_kind, key, _scrubbed(form.reason), received.isoformat(), due.isoformat()),
        user.id)
    audit.record(db, f"user:{user.id}", "open_request", f"request:{request_id}",
                 f"{form.kind} {form.law} {identifier_kind}")
    return request_id


def listing() -> list[requests.SubjectRequest]:
    """Return every request, open ones first by due date (no customer data: nothing to audit)."""
    return requests.listing(get_db())


def _mentions(visitor_id: int, fingerprint: str) -> list[dict[str, Any]]:
    """Return where the visitor typed the identifier: each conversation, placeholder and message."""
    db = get_db()
    return [{"conversation_id": m.conversation_id, "label": m.label,
             "messages": transcripts.messages_mentioning(db, m.conversation_id, m.label)
             if m.label and m.label != subjects.CONTACT else [], "contact": m.label == subjects.CONTACT}
            for m in subjects.mentions_of(db, visitor_id, fingerprint)]


def matches(user: User, request_id: int) -> tuple[requests.SubjectRequest, list[dict[str, Any]]] | None:
    """Return the request and the visitors whose keyed identifiers match it — each with the messages
    that mention the identifier and the admin's decision so far — and audit the lookup."""
    db = get_db()
    found = requests.find(db, request_id)
    if found is None:
        return None
    ids, decided = subjects.visitors_with(db, found.fingerprint), requests.decisions(db, request_id)
    audit.record(db, f"user:{user.id}", "view_request", f"request:{request_id}",
                 "visitors:" + ",".join(map(str, ids)))
    return found, [{"visitor_id": i, **transcripts.activity_of(db, i), "decision": decided.get(i),
                    "mentions": _mentions(i, found.fingerprint)} for i in ids]


def decide(user: User, request_id: int, visitor_id: int, decision: str) -> None:
    """Record whether a matching visitor is the person asking, and audit it; LookupError if the
    request is not open or the visitor does not match it."""
    db = get_db()
    found = requests.find(db, request_id)
    if found is None or found.status != "open" or visitor_id not in subjects.visitors_with(db, found.fingerprint):
        raise LookupError("no such subject for this open request")
    requests.decide(db, request_id, visitor_id, decision, user.id)
    audit.record(db, f"user:{user.id}", "decide_subject", f"visitor:{visitor_id}", f"request:{request_id} {decision}")


def _confirmed_subject(request_id: int, visitor_id: int) -> visitors.Visitor:
    """Return a visitor the admin confirmed for this request; LookupError for anyone else."""
    db = get_db()
    visitor = visitors.find_by_id(db, visitor_id) if visitor_id in requests.confirmed(db, request_id) else None
    if visitor is None:
        raise LookupError("this visitor is not confirmed as the subject of this request")
    return visitor


def export_subject(user: User, request_id: int, visitor_id: int) -> dict[str, Any]:
    """Return a confirmed visitor's export document (the widget's own format) and audit it."""
    visitor = _confirmed_subject(request_id, visitor_id)
    document = export.export_visitor(visitor)
    audit.record(get_db(), f"user:{user.id}", "export_subject", f"visitor:{visitor_id}", f"request:{request_id}")
    return document


def erase_subjects(user: User, request_id: int, note: str) -> dict[str, int]:
    """Erase the visitors the admin confirmed for the request, close it as completed, and audit each
    step. Matching visitors without a decision, or excluded, are left alone."""
    db = get_db()
    found = requests.find(db, request_id)
    if found is None or found.status != "open":
        raise LookupError("no open request with this id")
    if found.kind != "erasure":
        raise RequestRejected("Only an erasure request erases data; open one if the customer asked for it.")
    if not 3 <= len(note.strip()) <= 500:
        raise RequestRejected("Record why this data is being erased (3–500 characters).")
    chosen = [v for v in (visitors.find_by_id(db, i) for i in requests.confirmed(db, request_id)) if v]
    if not chosen:
        raise RequestRejected("Confirm which matching visitor is the person asking first: nobody is erased "
                              "because their messages merely contain the identifier.")
    totals: dict[str, int] = {}
    for visitor in chosen:
        counts = export.erase_visitor(visitor)
        audit.record(db, f"user:{user.id}", "erase_subject", f"visitor:{visitor.id}",
                     f"request:{request_id} " + json.dumps(counts, sort_keys=True))
        totals = {k: totals.get(k, 0) + v for k, v in counts.items()}
    close(user, request_id, "completed", note, totals)
    return totals


def close(user: User, request_id: int, status: str, note: str, counts: dict[str, int] | None = None) -> bool:
    """Close an open request as completed or rejected with a note; audit it. False if not open."""
    if not 3 <= len(note.strip()) <= 500:
        raise RequestRejected("Record what was done, or why the request is rejected (3–500 characters).")
    outcome = _scrubbed(note) + (f" — erased {json.dumps(counts, sort_keys=True)}" if counts is not None else "")
    closed = requests.close(get_db(), request_id, status, outcome, user.id)
    if closed:
        audit.record(get_db(), f"user:{user.id}", "close_request", f"request:{request_id}", status)
    return closed
