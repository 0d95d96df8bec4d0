"""Backups that restore (issue 11 item 2): `db backup` copies a consistent, encrypted snapshot while
turns are being written; `db restore` brings the data back, refuses what it cannot trust, and erases
again every visitor erased after the backup was made."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import apsw
import pytest

from app import backup
from app.db import connect, raw_key
from tests.conftest import Visitor
from tests.test_canary import needles, reader
from tests.test_integrity import damage
from tests.test_privacy_api import rows

BACKUP_PASSPHRASE = "backup-only passphrase, kept offsite 7721"
CANARY = "marguerite.oyelaran.4417@example.org"


def key_file(folder: Path, passphrase: str = BACKUP_PASSPHRASE, mode: int = 0o600) -> Path:
    path = folder / f"key-{abs(hash((passphrase, mode)))}"
    path.write_text(passphrase + "\n")
    path.chmod(mode)
    return path


def run(runner, *args):
    return runner.invoke(args=["db", *map(str, args)])


def refused(result, words: str) -> None:
    """A refusal is exit status 1 and one line naming the reason, no traceback."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and words in lines[0], lines[0]


def instance_files(app) -> set[str]:
    """The instance folder's files, less the log and index SQLite keeps only while a connection is open."""
    return {p.name for p in Path(app.instance_path).iterdir() if not p.name.endswith(("-wal", "-shm"))}


def chatting_visitor(client, text: str) -> Visitor:
    visitor = Visitor(client)
    visitor.consent(transcripts=True)
    assert visitor.say(text).status_code == 200
    return visitor


def test_backup_while_turns_are_written_holds_every_turn_acknowledged_before_it(app, runner, tmp_path):
    app.config.update(RATE_MESSAGES_PER_VISITOR=0, RATE_REQUESTS_PER_ADDRESS=0)
    writer = chatting_visitor(app.test_client(), "Is shipping free?")
    acknowledged: list[str] = []
    failures: list[int] = []
    stop = threading.Event()

    def write_turns() -> None:
        while not stop.is_set() and not failures:
            reply = writer.say(f"How long does shipping take? Turn {len(acknowledged)}")
            if reply.status_code == 200:
                acknowledged.append(reply.json["message_id"])
            else:
                failures.append(reply.status_code)

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 60
        while len(acknowledged) < count and not failures and time.monotonic() < deadline:
            time.sleep(0.05)

    thread = threading.Thread(target=write_turns)
    thread.start()
    try:
        wait_for(5)
        before = list(acknowledged)
        result = run(runner, "backup", tmp_path / "during.qdb")
        wait_for(len(acknowledged) + 3)  # the writer goes on after the backup
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not failures and len(before) >= 5
    assert result.exit_code == 0 and " bytes in " in result.output, result.output
    copy = connect(tmp_path / "during.qdb", app.extensions["db_key"])
    stored = {r[0] for r in copy.execute("SELECT id FROM messages")}
    assert set(before) <= stored and not set(acknowledged) <= stored
    roles = dict(copy.execute("SELECT role, count(*) FROM messages GROUP BY role").fetchall())
    copy.close()
    assert roles["visitor"] == roles["bot"]  # one snapshot: no turn half in it


@pytest.mark.parametrize("separate_key", [False, True], ids=["database key", "backup key file"])
def test_restore_erases_again_a_visitor_erased_after_the_backup(app, runner, client, tmp_path, separate_key):
    kept = chatting_visitor(client, "Is shipping free?")
    erased = chatting_visitor(client, f"Hi, my email is {CANARY}. Can I return shoes?")
    erased_id = rows(app, "SELECT max(id) FROM visitors")[0][0]
    keys = ["--key-file", key_file(tmp_path)] if separate_key else []
    assert run(runner, "backup", tmp_path / "b.qdb", *keys).exit_code == 0
    assert client.delete("/api/v1/me", headers=erased.auth).status_code == 200
    assert kept.say("And do you ship abroad?").status_code == 200  # after the backup: not in it

    result = run(runner, "restore", tmp_path / "b.qdb", *keys)
    assert result.exit_code == 0, result.output
    assert "erased again: 1 visitors" in result.output
    assert client.get("/api/v1/me/export", headers=erased.auth).status_code == 401
    assert rows(app, "SELECT count(*) FROM visitors WHERE id = ?", erased_id) == [(0,)]
    assert rows(app, "SELECT visitor_id, reason FROM erasure_ledger") == [(erased_id, "erasure")]
    history = client.get("/api/v1/me/export", headers=kept.auth).json["conversations"][0]["messages"]
    assert [m["text"] for m in history if m["role"] == "visitor"] == ["Is shipping free?"]
    Visitor(client)
    assert rows(app, "SELECT max(id) FROM visitors")[0][0] == erased_id + 1  # not the erased visitor's id
    assert run(runner, "check").exit_code == 0
    assert not {n for n in instance_files(app) if "restore" in n or n.startswith(".")}


def test_restore_brings_back_a_damaged_database(app, runner, client, tmp_path):
    visitor = chatting_visitor(client, "Is shipping free?")
    assert run(runner, "backup", tmp_path / "b.qdb").exit_code == 0
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    damage(app.config["DB_PATH"], root)
    assert run(runner, "check").exit_code == 1
    assert run(runner, "restore", tmp_path / "b.qdb").exit_code == 0
    assert run(runner, "check").exit_code == 0
    exported = client.get("/api/v1/me/export", headers=visitor.auth).json
    assert [m["text"] for m in exported["conversations"][0]["messages"]][0] == "Is shipping free?"


def test_retention_purged_after_the_backup_stays_purged(app, runner, client, tmp_path):
    active = chatting_visitor(client, "Is shipping free?")
    chatting_visitor(client, "Where is my order?")
    old = "2020-01-01T00:00:00.000Z"
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    db.execute("UPDATE conversations SET created_at = ?", (old,))
    db.execute("UPDATE messages SET created_at = ?", (old,))
    idle = db.execute("UPDATE visitors SET last_seen_at = ? WHERE id = (SELECT max(id) FROM visitors) "
                      "RETURNING id", (old,)).fetchall()[0][0]
    db.close()
    assert run(runner, "backup", tmp_path / "b.qdb").exit_code == 0
    purged = runner.invoke(args=["purge"])
    assert "purged 1 visitors and 1 conversations" in purged.output  # the idle visitor's went with them

    result = run(runner, "restore", tmp_path / "b.qdb")
    assert result.exit_code == 0 and "erased again: 1 visitors" in result.output
    assert "retention purge: 0 visitors, 1 conversations" in result.output
    assert rows(app, "SELECT count(*) FROM conversations") == [(0,)]
    assert rows(app, "SELECT visitor_id, reason FROM erasure_ledger") == [(idle, "retention")]
    assert client.get("/api/v1/me/export", headers=active.auth).status_code == 200


@pytest.mark.parametrize("made_with, restored_with, words", [
    ("file", None, "the database's key does not open it"),
    ("file", "other", "the passphrase in the key file does not open it"),
    (None, "file", "the passphrase in the key file does not open it"),
    (None, "open to all", "is readable by others (mode 644)"),
])
def test_a_wrong_key_is_refused_with_one_line_and_nothing_is_replaced(
        app, runner, client, tmp_path, made_with, restored_with, words):
    files = {"file": key_file(tmp_path), "other": key_file(tmp_path, "another passphrase entirely, 0042"),
             "open to all": key_file(tmp_path, mode=0o644)}
    made = ["--key-file", files[made_with]] if made_with else []
    assert run(runner, "backup", tmp_path / "b.qdb", *made).exit_code == 0
    visitor = chatting_visitor(client, "Written after the backup: is shipping free?")
    before = instance_files(app)
    restored = ["--key-file", files[restored_with]] if restored_with else []
    refused(run(runner, "restore", tmp_path / "b.qdb", *restored), words)
    assert instance_files(app) == before
    exported = client.get("/api/v1/me/export", headers=visitor.auth).json
    assert exported["conversations"][0]["messages"][0]["text"].startswith("Written after the backup")


@pytest.mark.parametrize("passphrase, mode, words", [
    (BACKUP_PASSPHRASE, 0o640, "is readable by others (mode 640)"),
    ("too short", 0o600, "at least 20 characters"),
])
def test_backup_refuses_a_bad_key_file(app, runner, tmp_path, passphrase, mode, words):
    bad = key_file(tmp_path, passphrase, mode)
    refused(run(runner, "backup", tmp_path / "b.qdb", "--key-file", bad), words)
    assert not list(tmp_path.glob("*b.qdb*"))


def test_backup_replaces_an_existing_file_only_when_forced(app, runner, tmp_path):
    assert run(runner, "backup", tmp_path / "b.qdb").exit_code == 0
    refused(run(runner, "backup", tmp_path / "b.qdb"), "exists; pass --force")
    assert run(runner, "backup", tmp_path / "b.qdb", "--force").exit_code == 0
    refused(run(runner, "backup", app.config["DB_PATH"], "--force"), "over the database itself")


def test_restore_is_refused_while_another_connection_has_the_database_open(app, runner, client, tmp_path):
    assert run(runner, "backup", tmp_path / "b.qdb").exit_code == 0
    visitor = chatting_visitor(client, "Written after the backup")
    in_use = connect(app.config["DB_PATH"], app.extensions["db_key"])
    in_use.execute("SELECT count(*) FROM visitors").fetchone()
    before = instance_files(app)
    refused(run(runner, "restore", tmp_path / "b.qdb"), "the database is in use: stop the server")
    assert instance_files(app) == before
    in_use.close()
    assert client.get("/api/v1/me/export", headers=visitor.auth).status_code == 200
    assert run(runner, "restore", tmp_path / "b.qdb").exit_code == 0
    assert client.get("/api/v1/me/export", headers=visitor.auth).status_code == 401


def test_a_backup_newer_than_the_code_is_refused(app, runner, tmp_path):
    assert run(runner, "backup", tmp_path / "b.qdb").exit_code == 0
    newer = connect(tmp_path / "b.qdb", app.extensions["db_key"])
    newer.execute("PRAGMA user_version = 99")
    newer.close()
    before = instance_files(app)
    refused(run(runner, "restore", tmp_path / "b.qdb"), "schema version 99 is not one this code knows")
    assert instance_files(app) == before


@pytest.mark.parametrize("separate_key", [False, True], ids=["database key", "backup key file"])
def test_backup_and_its_temporary_files_are_0600_ciphertext(
        app, runner, client, tmp_path, monkeypatch, separate_key):
    chatting_visitor(client, f"My email is {CANARY}, is shipping free?")
    stored = rows(app, "SELECT text FROM messages WHERE role = 'visitor'")[0][0]
    assert "<EMAIL_ADDRESS_1>" in stored
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o755)
    modes: dict[str, int] = {}

    def watched_connect(path, key):  # every file beside the backup while it is being written
        db = connect(path, key)
        modes.update({p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()})
        return db

    monkeypatch.setattr(backup, "connect", watched_connect)
    keys = ["--key-file", key_file(tmp_path)] if separate_key else []
    assert run(runner, "backup", folder / "b.qdb", *keys).exit_code == 0
    assert any(name.endswith(".tmp") for name in modes) and any(name.endswith("-wal") for name in modes)
    assert set(modes.values()) == {0o600}
    assert [p.name for p in folder.iterdir()] == ["b.qdb"]
    assert (folder / "b.qdb").stat().st_mode & 0o777 == 0o600
    data = (folder / "b.qdb").read_bytes()
    assert not any(needle in data for needle in needles(CANARY) | needles(stored) | {b"SQLite format 3"})
    with pytest.raises(apsw.NotADBError):
        list(reader(folder / "b.qdb", key=None).execute("SELECT count(*) FROM messages"))
    passphrase = BACKUP_PASSPHRASE if separate_key else app.config["DB_KEY"]
    texts = list(reader(folder / "b.qdb", passphrase).execute("SELECT text FROM messages"))
    assert (stored,) in texts  # any SQLCipher 4 client opens it with the plain passphrase


def test_new_visitor_ids_never_reuse_an_erased_one(app, client):
    newest = Visitor(client)
    newest_id = rows(app, "SELECT max(id) FROM visitors")[0][0]
    assert client.delete("/api/v1/me", headers=newest.auth).status_code == 200
    ledgered = rows(app, "SELECT * FROM erasure_ledger")
    assert [entry[:2] for entry in ledgered] == [(newest_id, "erasure")] and len(ledgered[0]) == 3  # + time
    Visitor(client)
    assert rows(app, "SELECT max(id) FROM visitors")[0][0] == newest_id + 1


def test_restore_into_an_empty_instance_keeps_the_backups_key(app, runner, client, tmp_path):
    visitor = chatting_visitor(client, "Is shipping free?")
    assert run(runner, "backup", tmp_path / "b.qdb").exit_code == 0
    for suffix in ("", "-wal", "-shm"):
        Path(f"{app.config['DB_PATH']}{suffix}").unlink(missing_ok=True)
    assert run(runner, "restore", tmp_path / "b.qdb").exit_code == 0
    assert raw_key(app.config["DB_PATH"], app.config["DB_KEY"]) == app.extensions["db_key"]
    assert client.get("/api/v1/me/export", headers=visitor.auth).status_code == 200


def test_a_serving_app_holds_the_database_so_restore_is_refused_between_requests(instance, scrubber, embedder,
                                                                                 kb_index, tmp_path):
    """An idle server holds no request connection; its workers keep one open so restore still sees it."""
    from app import create_app
    serving = create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber,
                          "EMBEDDER": embedder, "INDEX": kb_index, "BACKGROUND_PURGE": True})
    runner = serving.test_cli_runner()
    assert run(runner, "backup", tmp_path / "b.qdb").exit_code == 0
    refused(run(runner, "restore", tmp_path / "b.qdb"), "the database is in use: stop the server")
    serving.extensions["purge_stop"].set()
    serving.extensions["db_holder"].close()
    assert run(runner, "restore", tmp_path / "b.qdb").exit_code == 0
