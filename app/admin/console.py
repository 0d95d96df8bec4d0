"""Console use cases: sign in with throttling, sign out everywhere, review conversations.

Every read of customer data here writes an audit entry naming the console user and the subject
by internal id.
"""
from __future__ import annotations

from typing import Any

from app.admin import accounts, audit
from app.admin.auth import THROTTLE_FAILURES, THROTTLE_MINUTES, ConsoleUser
from app.chat import transcripts
from app.db import get_db

PAGE_SIZE = 25


def sign_in(email: str, password: str) -> ConsoleUser | None:
    """Return the user for correct credentials unless the email is throttled; count failures."""
    db = get_db()
    if accounts.recent_failures(db, email, THROTTLE_MINUTES) >= THROTTLE_FAILURES:
        return None
    user = accounts.verify_password(db, email, password)
    if user is None:
        accounts.record_failure(db, email)
        return None
    return ConsoleUser(user)


def sign_out(user: accounts.User) -> None:
    """End every session of this user, this one included."""
    accounts.bump_session(get_db(), user.id)


def open_handoffs() -> int:
    """Count handoffs waiting for a human."""
    return get_db().execute("SELECT count(*) FROM handoffs WHERE status != 'resolved'").fetchone()[0]


def conversations(user: accounts.User, page: int) -> list[dict[str, Any]]:
    """Return one page of conversation summaries, and audit the listing."""
    db = get_db()
    audit.record(db, f"user:{user.id}", "list_conversations", f"page:{page}")
    return transcripts.summaries(db, PAGE_SIZE, (page - 1) * PAGE_SIZE)


def conversation(user: accounts.User, conversation_id: str) -> dict[str, Any] | None:
    """Return one conversation with its scrubbed messages, and audit the view; None if unknown."""
    db = get_db()
    found = transcripts.find_conversation(db, conversation_id)
    if found is None:
        return None
    audit.record(db, f"user:{user.id}", "view_conversation", f"conversation:{found.id}")
    return {"id": found.id, "created_at": found.created_at, "messages": transcripts.messages_of(db, found.id)}
