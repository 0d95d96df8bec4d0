"""Console use cases: sign in with throttling, sign out everywhere, the handoff queue size."""
from __future__ import annotations

from app.admin import accounts
from app.admin.auth import THROTTLE_FAILURES, THROTTLE_MINUTES, ConsoleUser
from app.db import get_db


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
