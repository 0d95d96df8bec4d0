"""The admin_users and login_failures tables: support-team accounts and login throttling.

Passwords are stored as PBKDF2-SHA256 with 600,000 iterations (OWASP 2023), at least 12
characters and not a well-known password. Each user carries a session_version; bumping it
(logout, disable, password reset) invalidates every session issued before.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlcipher3
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import transaction

ROLES = ("admin", "reviewer")
HASH_METHOD = "pbkdf2:sha256:600000"
MIN_LENGTH = 12
COMMON = frozenset({
    "password1234", "password12345", "password123456", "123456789012", "1234567890123", "qwertyuiopas",
    "qwerty123456", "passwordpassword", "iloveyou1234", "111111111111", "000000000000", "abc123456789",
    "letmein12345", "welcome12345", "administrator", "changeme1234", "1q2w3e4r5t6y", "password123!",
    "qwertyuiop12", "zaq12wsxcde3", "football1234", "baseball1234", "superman1234", "trustno11234",
    "monkey123456", "dragon123456", "sunshine1234", "princess1234", "aaaaaaaaaaaa", "adminadmin12",
})


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says why."""


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: str
    disabled: bool
    session_version: int


def check_password_policy(password: str, email: str = "") -> None:
    """Raise PasswordRejected unless the password is long, not common and not the email."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"use at least {MIN_LENGTH} characters")
    lowered, local = password.lower(), email.lower().split("@")[0]
    if lowered in COMMON or len(set(lowered)) < 4 or (len(local) >= 4 and local in lowered):
        raise PasswordRejected("that password is too common or too easy to guess")


def _user(row: sqlcipher3.Row | None) -> User | None:
    return User(row["id"], row["email"], row["role"], bool(row["disabled"]), row["session_version"]) if row else None


def create_user(db: sqlcipher3.Connection, email: str, role: str, password: str) -> User:
    """Create an account; raises PasswordRejected or ValueError for a bad role or a taken email."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    check_password_policy(password, email)
    try:
        with transaction(db):
            db.execute("INSERT INTO admin_users (email, password_hash, role) VALUES (?, ?, ?)",
                       (email.strip(), generate_password_hash(password, method=HASH_METHOD), role))
    except sqlcipher3.IntegrityError:
        raise ValueError(f"an account for {email} already exists") from None
    return find_by_email(db, email)


def find_by_email(db: sqlcipher3.Connection, email: str) -> User | None:
    """Return the account with this email (case-insensitive), if any."""
    return _user(db.execute("SELECT * FROM admin_users WHERE email = ?", (email.strip(),)).fetchone())


def find(db: sqlcipher3.Connection, user_id: int) -> User | None:
    """Return the account with this id, if any."""
    return _user(db.execute("SELECT * FROM admin_users WHERE id = ?", (user_id,)).fetchone())


def verify_password(db: sqlcipher3.Connection, email: str, password: str) -> User | None:
    """Return the enabled account if the password matches; None for any failure, alike."""
    row = db.execute("SELECT * FROM admin_users WHERE email = ?", (email.strip(),)).fetchone()
    if row is None:
        check_password_hash(generate_password_hash("x", method=HASH_METHOD), password)  # same cost
        return None
    if row["disabled"] or not check_password_hash(row["password_hash"], password):
        return None
    return _user(row)


def recent_failures(db: sqlcipher3.Connection, email: str, minutes: int) -> int:
    """Count failed logins for this email in the last minutes (shared by all workers)."""
    return db.execute("SELECT count(*) FROM login_failures WHERE email = ? AND created_at >= "
                      "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)", (email.strip(), f"-{minutes} minutes")).fetchone()[0]


def record_failure(db: sqlcipher3.Connection, email: str) -> None:
    """Count one failed login for this email."""
    with transaction(db):
        db.execute("INSERT INTO login_failures (email) VALUES (?)", (email.strip(),))


def bump_session(db: sqlcipher3.Connection, user_id: int, disabled: bool | None = None) -> None:
    """Invalidate the user's sessions (and optionally disable or re-enable the account)."""
    with transaction(db):
        db.execute("UPDATE admin_users SET session_version = session_version + 1, "
                   "disabled = coalesce(?, disabled) WHERE id = ?",
                   (None if disabled is None else int(disabled), user_id))


def listing(db: sqlcipher3.Connection) -> list[User]:
    """Return every account, enabled ones first, by email."""
    return [_user(row) for row in db.execute("SELECT * FROM admin_users ORDER BY disabled, email")]


def enabled_admins(db: sqlcipher3.Connection) -> int:
    """Count enabled admin accounts (the last one may not be disabled)."""
    return db.execute("SELECT count(*) FROM admin_users WHERE role = 'admin' AND NOT disabled").fetchone()[0]


def set_password(db: sqlcipher3.Connection, user_id: int, password: str) -> None:
    """Replace the user's password (policy checked) and end their sessions."""
    user = find(db, user_id)
    if user is None:
        raise ValueError("no such account")
    check_password_policy(password, user.email)
    with transaction(db):
        db.execute("UPDATE admin_users SET password_hash = ?, session_version = session_version + 1 WHERE id = ?",
                   (generate_password_hash(password, method=HASH_METHOD), user_id))


def forget_failures_before(db: sqlcipher3.Connection, cutoff: str) -> int:
    """Delete failed-login records older than cutoff (long past any throttling window)."""
    with transaction(db):
        return db.execute("DELETE FROM login_failures WHERE created_at < ?", (cutoff,)).rowcount
