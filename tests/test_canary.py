"""The privacy promise end to end: unique PII canaries sent to a real server never reach a byte on
disk or a log line in plaintext; an independent SQLCipher 4 reader sees only scrubbed text, and
after erasure nothing of that visitor at all."""
from __future__ import annotations

import signal

import apsw
import pytest

from app.bench import start_server
from app.db import connect, raw_key
from tests.conftest import call

PASSPHRASE = "canary test passphrase"
CANARIES = {
    "name": "Quintessa Vandermolen",
    "email": "quintessa.vdm.8812@example.org",
    "phone": "+1 415 555 0199",
    "card": "4539 5787 6362 1486",
    "iban": "DE44 5001 0517 5407 3249 31",
    "address": "742 Evergreen Terrace, Springfield, IL 62704",
    "contact": "q.vandermolen.reply.5520@example.net",  # left for a reply: kept, but only encrypted
}


def needles(value: str) -> set[bytes]:
    """Byte patterns that would betray a canary: as typed, lower-cased, digits only, JSON-escaped."""
    found = {value.encode(), value.lower().encode(), value.replace(" ", "").encode()}
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) >= 8:
        found.add(digits.encode())
    return found


def reader(path, key: str | None = PASSPHRASE) -> apsw.Connection:
    """Open the database with an independent SQLCipher 4 implementation (SQLite3 Multiple Ciphers)."""
    connection = apsw.Connection(str(path))
    if key is not None:
        connection.pragma("cipher", "sqlcipher")
        connection.pragma("legacy", 4)
        connection.pragma("key", key)
    return connection


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    instance = tmp_path_factory.mktemp("canary") / "instance"
    log_path = tmp_path_factory.mktemp("canary-logs") / "server.log"
    with open(log_path, "w") as log:
        process, base, _ = start_server(instance, log=log, settings={"QUIETDESK_DB_KEY": PASSPHRASE})
    yield process, base, instance, log_path
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_canaries_never_reach_disk_or_logs_and_erasure_leaves_nothing(served):
    process, base, instance, log_path = served
    _, other = call(base + "/api/v1/sessions", {})
    call(base + "/api/v1/consent", {"transcripts": True}, other["visitor_token"], method="PUT")
    call(f"{base}/api/v1/conversations/{other['conversation_id']}/messages", {"text": "Is shipping free?"},
         other["visitor_token"])

    _, me = call(base + "/api/v1/sessions", {})
    token, conversation = me["visitor_token"], me["conversation_id"]
    assert call(base + "/api/v1/consent", {"transcripts": True}, token, method="PUT")[0] == 200
    url = f"{base}/api/v1/conversations/{conversation}/messages"
    c = CANARIES
    for text in (f"Hi, I'm {c['name']}, email {c['email']}, phone {c['phone']}. Where is my order?",
                 f"Please refund to card {c['card']} or IBAN {c['iban']}.",
                 f"Ship it to {c['address']} please. Thanks, {c['name']}"):
        assert call(url, {"text": text}, token)[0] == 200
    # A person is asked for and, with nobody answering yet, an address left for a reply: the one
    # original identifier Quietdesk keeps, so it must exist only inside the encrypted file.
    assert call(f"{base}/api/v1/conversations/{conversation}/handoff", {}, token)[0] == 201
    assert call(f"{base}/api/v1/conversations/{conversation}/contact", {"email": c["contact"]}, token)[0] == 200
    assert call(url, {"text": f"My number again: {c['phone']}"}, token)[0] == 200
    # A query string and requests that fail must not leak either.
    call(f"{base}/api/v1/health?email={c['email']}&name={c['name'].replace(' ', '+')}")
    assert call(url, raw=f'{{"text": "{c["email"]}" oops'.encode(), token=token)[0] == 400
    assert call(url, {"text": f"{c['phone']} " * 400}, token)[0] == 413
    assert call(f"{base}/api/v1/conversations/{c['email']}/messages", {"text": c["name"]}, token)[0] == 404

    db = reader(instance / "quietdesk.db")
    visitor_texts = [r[0] for r in db.execute("SELECT text FROM messages WHERE conversation_id = ? AND "
                                              "role = 'visitor'", (conversation,))]
    assert len(visitor_texts) == 4 and "<EMAIL_ADDRESS_1>" in visitor_texts[0]
    assert [r[0] for r in db.execute("SELECT email FROM contacts")] == [c["contact"]]  # readable only with the key
    with pytest.raises(apsw.NotADBError):
        list(reader(instance / "quietdesk.db", key=None).execute("SELECT count(*) FROM messages"))
    with pytest.raises(apsw.NotADBError):
        list(reader(instance / "quietdesk.db", key="wrong").execute("SELECT count(*) FROM messages"))

    assert_no_canary_anywhere(instance, log_path)
    status, erased = call(base + "/api/v1/me", token=token, method="DELETE")
    assert status == 200 and erased["deleted"]["messages"] == 8 and erased["deleted"]["contacts"] == 1

    db = reader(instance / "quietdesk.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert list(db.execute("SELECT count(*) FROM conversations WHERE id = ?", (conversation,))) == [(0,)]
    assert list(db.execute("SELECT count(*) FROM messages WHERE conversation_id = ?", (conversation,))) == [(0,)]
    assert list(db.execute("SELECT count(*) FROM subject_keys")) == [(0,)]
    assert list(db.execute("SELECT count(*) FROM contacts")) == [(0,)]
    assert list(db.execute("SELECT count(*) FROM messages WHERE conversation_id = ?",
                           (other["conversation_id"],))) == [(2,)]
    ours = connect(instance / "quietdesk.db", raw_key(instance / "quietdesk.db", PASSPHRASE))
    assert ours.execute("PRAGMA secure_delete").fetchone()[0] == 1
    ours.close()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert_no_canary_anywhere(instance, log_path)


def assert_no_canary_anywhere(instance, log_path):
    files = [p for p in instance.rglob("*") if p.is_file()] + [log_path]
    assert any(p.name == "quietdesk.db" for p in files)
    for path in files:
        data = path.read_bytes()
        for kind, value in CANARIES.items():
            for needle in needles(value):
                assert needle not in data, f"{kind} canary found in {path.name}"
