"""Managing the support team's accounts from the console (admins only): create, disable or
re-enable, reset a password, rename the alias visitors see. Every change writes an audit entry.
"""
from __future__ import annotations

from app.admin import accounts, audit
from app.admin.accounts import ROLES, User
from app.db import get_db


def members() -> list[User]:
    """Return every account."""
    return accounts.listing(get_db())


def add(actor: User, email: str, role: str, password: str, alias: str = "") -> User:
    """Create an account; raises ValueError (or PasswordRejected) with a message for the form."""
    db = get_db()
    user = accounts.create_user(db, email, role, password, alias)
    audit.record(db, f"user:{actor.id}", "create_user", f"user:{user.id}", role)
    return user


def set_disabled(actor: User, user_id: int, disabled: bool) -> None:
    """Disable (ending their sessions at once) or re-enable an account; never the last admin."""
    db = get_db()
    target = accounts.find(db, user_id)
    if target is None:
        raise ValueError("no such account")
    if disabled and target.role == "admin" and not target.disabled and accounts.enabled_admins(db) <= 1:
        raise ValueError("the last enabled admin cannot be disabled")
    accounts.bump_session(db, user_id, disabled=disabled)
    audit.record(db, f"user:{actor.id}", "disable_user" if disabled else "enable_user", f"user:{user_id}")


def reset_password(actor: User, user_id: int, password: str) -> None:
    """Set a new password for an account and end its sessions; raises ValueError for the form."""
    db = get_db()
    accounts.set_password(db, user_id, password)
    audit.record(db, f"user:{actor.id}", "reset_password", f"user:{user_id}")


def rename(actor: User, user_id: int, alias: str) -> None:
    """Change the name visitors see for an account; raises ValueError for the form."""
    db = get_db()
    if accounts.find(db, user_id) is None:
        raise ValueError("no such account")
    accounts.set_alias(db, user_id, alias)
    audit.record(db, f"user:{actor.id}", "rename_user", f"user:{user_id}")
