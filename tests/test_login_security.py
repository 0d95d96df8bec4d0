"""Console sign-in as a stranger sees it: every failure costs one password hash of the same
parameters, a client address is refused (429) after a few failures, and a stranger's wrong
guesses never lock the account's owner out from another address."""
from __future__ import annotations

import hashlib
import re

import pytest

from app.admin import accounts
from app.db import connect
from app.privacy.retention import purge

PASSWORD = "violet-harbour-lantern-42"
WRONG = "wrong-password-123"
STRANGER, OWNER = "203.0.113.7", "198.51.100.20"


def open_db(app):
    return connect(app.config["DB_PATH"], app.extensions["db_key"])


@pytest.fixture
def second(app) -> accounts.User:
    return accounts.create_user(open_db(app), "second@example.com", "admin", PASSWORD)


def sign_in(client, email: str, password: str, address: str):
    page = client.get("/admin/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def hashes(monkeypatch) -> list[tuple[str, int]]:
    """Record (hash name, iterations) of every PBKDF2 computation from here on."""
    seen, real = [], hashlib.pbkdf2_hmac

    def counting(hash_name, password, salt, iterations, *args, **kwargs):
        seen.append((hash_name, iterations))
        return real(hash_name, password, salt, iterations, *args, **kwargs)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    return seen


@pytest.mark.parametrize("email, password, disabled", [
    ("nobody@example.com", PASSWORD, False),  # unknown email
    ("second@example.com", WRONG, False),  # real account, wrong password
    ("second@example.com", PASSWORD, True),  # disabled account, right password
    ("second@example.com", WRONG, True),  # disabled account, wrong password
])
def test_every_failed_check_costs_one_hash_like_a_real_one(app, second, hashes, email, password, disabled):
    db = open_db(app)
    accounts.bump_session(db, second.id, disabled=disabled)
    hashes.clear()
    assert accounts.verify_password(db, email, password) is None
    failed = list(hashes)
    hashes.clear()
    accounts.bump_session(db, second.id, disabled=False)
    assert accounts.verify_password(db, "second@example.com", PASSWORD) is not None
    assert failed == hashes == [("sha256", 600_000)]


def test_a_spray_from_one_address_is_refused_after_ten_failures(client):
    statuses = [sign_in(client, f"user{n}@example.com", WRONG, STRANGER) for n in range(30)]
    assert [r.status_code for r in statuses] == [401] * 10 + [429] * 20
    refused = statuses[-1]
    text = refused.get_data(as_text=True)
    assert refused.mimetype == "text/html" and "Traceback" not in text
    assert "Too many sign-in attempts from your network; try again in 15 minutes." in text
    assert 840 < int(refused.headers["Retry-After"]) <= 900
    assert sign_in(client, "user0@example.com", WRONG, OWNER).status_code == 401  # other addresses unaffected


def test_a_stranger_cannot_lock_the_owner_out(client, second):
    stranger = [sign_in(client, "second@example.com", WRONG, STRANGER).status_code for _ in range(30)]
    assert stranger == [401] * 10 + [429] * 20
    assert sign_in(client, "second@example.com", PASSWORD, STRANGER).status_code == 429
    owner = sign_in(client, "Second@Example.com", PASSWORD, OWNER)
    assert owner.status_code == 302 and owner.headers["Location"].endswith("/admin/")
    assert "Signed in as second@example.com" in client.get("/admin/").get_data(as_text=True)


def test_an_account_is_throttled_only_for_the_address_its_failures_came_from(client, second):
    assert [sign_in(client, "SECOND@example.com", WRONG, STRANGER).status_code for _ in range(5)] == [401] * 5
    assert sign_in(client, "second@example.com", PASSWORD, STRANGER).status_code == 401
    assert sign_in(client, "second@example.com", PASSWORD, OWNER).status_code == 302


def test_failed_sign_ins_keep_neither_the_typed_email_nor_the_address(app, client):
    sign_in(client, "typo.customer@example.com", WRONG, STRANGER)
    db = open_db(app)
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    stored = " ".join(str(value) for table in tables for row in db.execute(f"SELECT * FROM {table}")
                      for value in row)
    assert "typo.customer" not in stored and STRANGER not in stored


def test_purge_forgets_day_old_failed_sign_ins_but_keeps_recent_ones(app, client):
    sign_in(client, "typo.customer@example.com", WRONG, STRANGER)
    sign_in(client, "lead@example.com", WRONG, OWNER)
    db = open_db(app)
    db.execute("UPDATE login_attempts SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = 1")
    purge(db, 30)
    assert [row[0] for row in db.execute("SELECT id FROM login_attempts")] == [2]


@pytest.mark.parametrize("address, network", [
    ("203.0.113.7", "203.0.113.7"), ("::ffff:203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"), ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
])
def test_ipv6_hosts_are_limited_by_their_64_so_cycling_addresses_does_not_help(address, network):
    from app.admin.auth import client_network
    assert client_network(address) == network
