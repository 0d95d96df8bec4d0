"""Rate limits: messages per visitor and requests per client address, shared by every worker
(counted in the database), answered with 429 rate_limited and Retry-After; health never limited."""
from __future__ import annotations

import pytest

from app import create_app, limits
from app.db import connect
from tests.conftest import TEST_SUBJECT_KEY, Visitor


@pytest.fixture
def limited(instance, scrubber, embedder, kb_index, monkeypatch):
    for name in [k for k in __import__("os").environ if k.startswith("QUIETDESK_")]:
        monkeypatch.delenv(name)

    def make(**settings):
        return create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber, "EMBEDDER": embedder,
                           "INDEX": kb_index, "SUBJECT_KEY": TEST_SUBJECT_KEY, **settings})
    return make


def test_a_visitor_over_the_message_limit_gets_429_and_others_do_not(limited):
    app = limited(RATE_MESSAGES_PER_VISITOR=3)
    chatty, calm = Visitor(app.test_client()), Visitor(app.test_client())
    assert [chatty.say("Is shipping free?").status_code for _ in range(3)] == [200, 200, 200]
    over = chatty.say("Is shipping free?")
    assert over.status_code == 429 and over.json["error"] == "rate_limited"
    assert 1 <= int(over.headers["Retry-After"]) <= 61 and "seconds" in over.json["message"]
    assert calm.say("Is shipping free?").status_code == 200
    assert chatty.client.get("/api/v1/consent", headers=chatty.auth).status_code == 200  # only messages count


def test_address_limit_holds_across_workers_sharing_the_database(limited):
    first, second = limited(RATE_REQUESTS_PER_ADDRESS=5), limited(RATE_REQUESTS_PER_ADDRESS=5)
    statuses = [app.test_client().post("/api/v1/sessions").status_code for app in (first, second) * 3]
    assert statuses == [201] * 5 + [429]
    assert first.test_client().get("/api/v1/health").status_code == 200  # never limited
    other = first.test_client().post("/api/v1/sessions", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 201
    db = connect(first.config["DB_PATH"], first.extensions["db_key"])
    buckets = [row[0] for row in db.execute("SELECT bucket FROM rate_windows")]
    assert buckets and not any("127.0.0.1" in b or "10.0.0.9" in b for b in buckets)  # keyed hashes only


def test_forwarded_address_is_trusted_only_behind_a_configured_proxy(limited):
    direct, proxied = limited(RATE_REQUESTS_PER_ADDRESS=1), limited(RATE_REQUESTS_PER_ADDRESS=1, TRUSTED_PROXIES=1)
    spoof = [direct.test_client().post("/api/v1/sessions", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
             for i in (1, 2)]
    assert spoof == [201, 429]  # a client cannot dodge the limit by inventing addresses
    real = [proxied.test_client().post("/api/v1/sessions", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in (1, 2)]
    assert real == [201, 201]  # behind a proxy, each client is counted on its own


def test_windows_reset_and_old_ones_are_forgotten(app):
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    assert limits.count(db, "visitor:1", now=120.0)[0] == 1
    assert limits.count(db, "visitor:1", now=150.0) == (2, 31)
    assert limits.count(db, "visitor:1", now=181.0)[0] == 1  # a new minute starts from zero
    limits.count(db, "visitor:2", now=10.0)
    assert limits.forget_before(db, now=200.0) == 1  # visitor:2's window; the current ones stay
    assert db.execute("SELECT count(*) FROM rate_windows").fetchone()[0] == 1


def test_counting_does_not_wait_for_the_disk_yet_transcripts_still_do(app):
    db, other = (connect(app.config["DB_PATH"], app.extensions["db_key"]) for _ in range(2))
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: an acknowledged turn survives a power cut
    assert limits.count(db, "visitor:7")[0] == 1
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # restored after the count's own commit
    assert other.execute("SELECT hits FROM rate_windows WHERE bucket = 'visitor:7'").fetchone()[0] == 1
