"""Console accounts and the audit log: password policy, scripted creation, DB-counted throttling,
server-side session invalidation, and tamper-evident audit entries."""
from __future__ import annotations

import pytest

from app import create_app
from app.admin import accounts, audit
from app.db import connect

GOOD = "violet-harbour-lantern-42"


def open_db(app):
    return connect(app.config["DB_PATH"], app.extensions["db_key"])


def test_admin_create_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["admin", "create", "--email", "Ops@Example.com", "--role", "reviewer"],
                           input=GOOD + "\n")
    assert result.exit_code == 0 and "created reviewer account" in result.output
    db = open_db(app)
    user = accounts.verify_password(db, "ops@example.com", GOOD)
    assert user is not None and user.role == "reviewer"
    stored = db.execute("SELECT password_hash FROM admin_users").fetchone()[0]
    assert stored.startswith("pbkdf2:sha256:600000$") and GOOD not in stored


def test_password_is_never_an_argument(runner):
    result = runner.invoke(args=["admin", "create", "--email", "a@example.com", "--password", GOOD])
    assert result.exit_code == 2 and "No such option" in result.output


@pytest.mark.parametrize("password, reason", [
    ("short-pw-1", "at least 12"), ("password1234", "too common"), ("aaaaaaaaaaaaaa", "too common"),
    ("jane.doe-secret-1", "too common"),
])
def test_weak_passwords_are_rejected(runner, password, reason):
    result = runner.invoke(args=["admin", "create", "--email", "jane.doe@example.com"], input=password + "\n")
    assert result.exit_code == 1 and reason in result.output


def test_duplicate_account_is_refused(runner):
    runner.invoke(args=["admin", "create", "--email", "a@example.com"], input=GOOD + "\n")
    again = runner.invoke(args=["admin", "create", "--email", "A@example.com"], input=GOOD + "\n")
    assert again.exit_code == 1 and "already exists" in again.output


def test_unknown_user_wrong_password_and_disabled_all_fail_alike(app):
    db = open_db(app)
    user = accounts.create_user(db, "b@example.com", "admin", GOOD)
    assert accounts.verify_password(db, "nobody@example.com", GOOD) is None
    assert accounts.verify_password(db, "b@example.com", GOOD + "x") is None
    accounts.bump_session(db, user.id, disabled=True)
    assert accounts.verify_password(db, "b@example.com", GOOD) is None
    assert accounts.find(db, user.id).session_version == user.session_version + 1


def test_login_failures_are_counted_across_app_instances(app, instance, scrubber, embedder, kb_index):
    other = create_app({"INSTANCE": str(instance), "SCRUBBER": scrubber, "EMBEDDER": embedder, "INDEX": kb_index})
    for _ in range(3):
        accounts.record_attempt(open_db(app), "account-c", "address-a")
    accounts.record_attempt(open_db(other), "account-c", "address-a")
    assert 0 < accounts.refused_for(open_db(other), 4, 15, "address-a", "account-c") <= 15 * 60
    assert accounts.refused_for(open_db(other), 5, 15, "address-a", "account-c") == 0
    assert accounts.refused_for(open_db(app), 1, 15, "address-a", "account-d") == 0
    assert accounts.refused_for(open_db(app), 1, 15, "address-b") == 0


def test_audit_chain_verifies_and_reports_the_first_tampered_row(app, runner):
    db = open_db(app)
    for action in ("view_conversation", "export_subject", "erase_subject"):
        audit.record(db, "user:1", action, "visitor:7")
    assert runner.invoke(args=["audit", "verify"]).output.startswith("audit log intact: 3 entries; head 3:")
    db.execute("UPDATE audit_log SET subject = 'visitor:8' WHERE id = 2")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "broken at row 2" in result.output


def test_deleting_an_audit_row_breaks_the_chain(app):
    db = open_db(app)
    for action in ("a", "b", "c"):
        audit.record(db, "user:1", action, "visitor:1")
    db.execute("DELETE FROM audit_log WHERE id = 2")
    assert audit.first_broken(db) == 3
    assert [e.action for e in audit.entries(db)] == ["c", "a"]


def test_deleting_the_newest_entries_is_caught_against_a_head_from_the_log(app, runner):
    import logging

    class Heads(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.seen.append(record.getMessage())

    heard, logger = Heads(), logging.getLogger("app.admin.audit")
    logger.addHandler(heard)
    db = open_db(app)
    try:
        for action in ("a", "b", "c"):
            audit.record(db, "user:1", action, "visitor:1")
    finally:
        logger.removeHandler(heard)
    heads = [m.split()[-1] for m in heard.seen if m.startswith("audit head")]
    assert [h.split(":")[0] for h in heads] == ["1", "2", "3"]
    assert runner.invoke(args=["audit", "verify", "--expect", heads[-1]]).exit_code == 0
    db.execute("DELETE FROM audit_log WHERE id = 3")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # the shorter chain is still a valid chain
    result = runner.invoke(args=["audit", "verify", "--expect", heads[-1]])
    assert result.exit_code == 1 and "newer entries were removed" in result.output
    wrong = heads[1].split(":")[0] + ":" + "0" * 16
    assert runner.invoke(args=["audit", "verify", "--expect", wrong]).exit_code == 1


@pytest.mark.parametrize("email", ["", "   ", "no-at-sign", "two@@example.com", "a b@example.com", "jane@"])
def test_an_account_needs_an_email_that_looks_like_one(runner, email):
    """Found by wapiti signed in: the console made an account with an empty email."""
    result = runner.invoke(args=["admin", "create", "--email", email], input=GOOD + "\n")
    assert result.exit_code == 1 and "name@example.com" in result.output
