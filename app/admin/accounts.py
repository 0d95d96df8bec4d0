"""The admin_users and login_attempts tables: support-team accounts and failed sign-ins.

Passwords are stored as PBKDF2-SHA256 with 600,000 iterations (OWASP 2023), at least 12
characters and not a well-known password. Each user carries a session_version; bumping it
(logout, disable, password reset) invalidates every session issued before. A failed sign-in is
kept only as keyed hashes of the typed email and of the client address, which the caller makes.
"""
from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass

import sqlcipher3
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import transaction

ROLES = ("admin", "reviewer")
HASH_METHOD = "pbkdf2:sha256:600000"
MIN_LENGTH = 12
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")  # one @ with something on each side, no spaces
COMMON = frozenset({
    "password1234", "password12345", "password123456", "123456789012", "1234567890123", "qwertyuiopas",
    "qwerty123456", "passwordpassword", "iloveyou1234", "111111111111", "000000000000", "abc123456789",
    "letmein12345", "welcome12345", "administrator", "changeme1234", "1q2w3e4r5t6y", "password123!",
    "qwertyuiop12", "zaq12wsxcde3", "football1234", "baseball1234", "superman1234", "trustno11234",
    "monkey123456", "dragon123456", "sunshine1234", "princess1234", "aaaaaaaaaaaa", "adminadmin12",
})
# Checked in place of a stored hash for an unknown email: same method and iterations, so checking it
# costs one hash like a real account, and made of random bytes, so no password ever matches it.
_NO_ACCOUNT = f"{HASH_METHOD}${secrets.token_hex(8)}${secrets.token_hex(32)}"


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says why."""


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: str
    disabled: bool
    session_version: int
    alias: str  # the name visitors see when this user answers them; never the email


def check_password_policy(password: str, email: str = "") -> None:
    """Raise PasswordRejected unless the password is long, not common and not the email."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"use at least {MIN_LENGTH} characters")
    lowered, local = password.lower(), email.lower().split("@")[0]
    if lowered in COMMON or len(set(lowered)) < 4 or (len(local) >= 4 and local in lowered):
        raise PasswordRejected("that password is too common or too easy to guess")


def _user(row: sqlcipher3.Row | None) -> User | None:
    if row is None:
        return None
    return User(row["id"], row["email"], row["role"], bool(row["disabled"]), row["session_version"], row["alias"])


def check_alias(alias: str) -> str:
    """Return the trimmed alias; ValueError unless it is 1–40 characters with no '@' (it is shown to
    visitors, so it must not be an email address)."""
    alias = " ".join(alias.split())
    if not 1 <= len(alias) <= 40 or "@" in alias:
        raise ValueError("the name shown to visitors must be 1–40 characters and not an email address")
    return alias


def create_user(db: sqlcipher3.Connection, email: str, role: str, password: str, alias: str = "") -> User:
    """Create an account; raises PasswordRejected or ValueError for a bad role, alias or a taken email.

    Without an alias the account is shown to visitors as "Agent <id>" until someone names it.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    email = email.strip()
    if not EMAIL_SHAPE.fullmatch(email):  # found by wapiti: an empty email made an account
        raise ValueError("the email must look like name@example.com")
    check_password_policy(password, email)
    alias = check_alias(alias) if alias.strip() else ""
    try:
        with transaction(db):
            db.execute("INSERT INTO admin_users (email, password_hash, role, alias) VALUES (?, ?, ?, ?)",
                       (email, generate_password_hash(password, method=HASH_METHOD), role, alias))
            db.execute("UPDATE admin_users SET alias = 'Agent ' || id WHERE alias = ''")
    except sqlcipher3.IntegrityError:
        raise ValueError(f"an account for {email} already exists") from None
    return find_by_email(db, email)


def set_alias(db: sqlcipher3.Connection, user_id: int, alias: str) -> None:
    """Rename the account as visitors see it; ValueError for a bad alias."""
    alias = check_alias(alias)
    with transaction(db):
        db.execute("UPDATE admin_users SET alias = ? WHERE id = ?", (alias, user_id))


def find_by_email(db: sqlcipher3.Connection, email: str) -> User | None:
    """Return the account with this email (case-insensitive), if any."""
    return _user(db.execute("SELECT * FROM admin_users WHERE email = ?", (email.strip(),)).fetchone())


def find(db: sqlcipher3.Connection, user_id: int) -> User | None:
    """Return the account with this id, if any."""
    return _user(db.execute("SELECT * FROM admin_users WHERE id = ?", (user_id,)).fetchone())


def verify_password(db: sqlcipher3.Connection, email: str, password: str) -> User | None:
    """Return the enabled account if the password matches; None for any failure, alike.

    Every call checks exactly one hash of the same parameters (a made-up one for an unknown email,
    and before looking at `disabled`), so the time a failure takes does not tell who has an account.
    """
    row = db.execute("SELECT * FROM admin_users WHERE email = ?", (email.strip(),)).fetchone()
    matches = check_password_hash(row["password_hash"] if row else _NO_ACCOUNT, password)
    if row is None or not matches or row["disabled"]:
        return None
    return _user(row)


def refused_for(db: sqlcipher3.Connection, limit: int, minutes: int, address: str,
                account: str | None = None) -> int:
    """Return how many more seconds sign-ins from this address (on this account, if given) are refused.

    Refused while `limit` or more of its failures fall in the last `minutes`; 0 when fewer do.
    """
    window = (f"+{minutes} minutes", address, account, account, f"-{minutes} minutes", limit - 1)
    row = db.execute("SELECT (julianday(created_at, ?) - julianday('now')) * 86400 FROM login_attempts "
                     "WHERE address = ? AND (? IS NULL OR account = ?) AND created_at >= "
                     "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) ORDER BY created_at DESC LIMIT 1 OFFSET ?",
                     window).fetchone()
    return max(1, math.ceil(row[0])) if row else 0


def record_attempt(db: sqlcipher3.Connection, account: str, address: str) -> int:
    """Count one sign-in attempt as failed (until forgive_attempt) by its keyed hashes; return its id."""
    with transaction(db):
        return db.execute("INSERT INTO login_attempts (account, address) VALUES (?, ?) RETURNING id",
                          (account, address)).fetchall()[0][0]


def forgive_attempt(db: sqlcipher3.Connection, attempt_id: int) -> None:
    """Stop counting an attempt that turned out to succeed."""
    with transaction(db):
        db.execute("DELETE FROM login_attempts WHERE id = ?", (attempt_id,))


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
    """Delete failed sign-in records older than cutoff (long past any throttling window)."""
    with transaction(db):
        return db.execute("DELETE FROM login_attempts WHERE created_at < ?", (cutoff,)).rowcount
