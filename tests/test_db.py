"""The encrypted database: ciphertext on disk, fail closed on a wrong key, safe migrations."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlcipher3

from app import create_app, db

MARKER = "quietdesk-marker-7f3a9c"


def open_db(tmp_path: Path, passphrase: str = "test passphrase") -> sqlcipher3.Connection:
    path = tmp_path / "test.db"
    return db.connect(path, db.raw_key(path, passphrase))


def write_migrations(folder: Path, *scripts: str) -> Path:
    folder.mkdir(exist_ok=True)
    for number, script in enumerate(scripts, start=1):
        (folder / f"{number:04d}_step{number}.sql").write_text(script)
    return folder


def test_database_file_is_ciphertext_without_the_marker(tmp_path):
    conn = open_db(tmp_path)
    db.migrate(conn)
    with db.transaction(conn):
        conn.execute("INSERT INTO visitors (token_hash) VALUES (?)", (MARKER,))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert not raw.startswith(b"SQLite format 3")
    assert MARKER.encode() not in raw
    assert open_db(tmp_path).execute("SELECT token_hash FROM visitors").fetchone()[0] == MARKER


def test_file_opens_with_the_plain_passphrase_in_any_sqlcipher4_client(tmp_path):
    conn = open_db(tmp_path, "a passphrase")
    db.migrate(conn)
    conn.close()
    other = sqlcipher3.connect(str(tmp_path / "test.db"))
    other.execute("PRAGMA key = 'a passphrase'")
    assert other.execute("PRAGMA user_version").fetchone()[0] == len(db.migration_files())


def test_wrong_key_fails_with_one_clear_error(tmp_path, capfd):
    db.migrate(open_db(tmp_path, "right"))
    with pytest.raises(db.DatabaseKeyError, match="wrong key"):
        open_db(tmp_path, "wrong")
    assert "hmac" not in capfd.readouterr().err.lower()


def test_app_with_wrong_key_refuses_to_start(tmp_path):
    db.migrate_app(create_app({"INSTANCE": str(tmp_path), "DB_KEY": "right", "LAZY": True}))
    with pytest.raises(db.DatabaseKeyError):
        db.migrate_app(create_app({"INSTANCE": str(tmp_path), "DB_KEY": "wrong", "LAZY": True}))


def test_pragmas_every_connection_needs(tmp_path):
    conn = open_db(tmp_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_migrations_apply_in_order_and_rerun_is_a_no_op(tmp_path):
    folder = write_migrations(tmp_path / "m", "CREATE TABLE a (x);", "ALTER TABLE a ADD COLUMN y;")
    conn = open_db(tmp_path)
    assert db.migrate(conn, folder) == ["0001_step1.sql", "0002_step2.sql"]
    assert db.migrate(conn, folder) == []
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2


def test_failed_migration_leaves_no_trace(tmp_path):
    folder = write_migrations(tmp_path / "m", "CREATE TABLE a (x);",
                              "CREATE TABLE b (x);\nINSERT INTO missing VALUES (1);")
    conn = open_db(tmp_path)
    with pytest.raises(sqlcipher3.OperationalError):
        db.migrate(conn, folder)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "a" in tables and "b" not in tables


def test_database_newer_than_code_is_refused(tmp_path):
    conn = open_db(tmp_path)
    conn.execute(f"PRAGMA user_version = {len(db.migration_files()) + 1}")
    with pytest.raises(db.SchemaError, match="newer than this code"):
        db.migrate(conn)


def test_gap_in_migration_numbers_is_refused(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x);")
    (folder / "0003_c.sql").write_text("CREATE TABLE c (x);")
    with pytest.raises(db.SchemaError, match="out of sequence"):
        db.migration_files(folder)


def test_shipped_migrations_create_visitors_and_conversations(tmp_path):
    conn = open_db(tmp_path)
    db.migrate(conn)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"visitors", "conversations"} <= tables


NEW_PASSPHRASE = "plum-orchard-signal-tower-88"


def test_rekey_re_encrypts_and_replaces_the_generated_key_file(app, runner, visitor, instance):
    visitor.consent(transcripts=True)
    assert visitor.say("Is shipping free?").status_code == 200
    old_key = app.extensions["db_key"]
    result = runner.invoke(args=["db", "rekey"], input=NEW_PASSPHRASE + "\n")
    assert result.exit_code == 0 and "holds the new passphrase" in result.output
    assert (instance / "db.key").read_text().strip() == NEW_PASSPHRASE
    assert oct((instance / "db.key").stat().st_mode & 0o777) == "0o600" and not (instance / "db.key.new").exists()
    with pytest.raises(db.DatabaseKeyError):
        db.connect(app.config["DB_PATH"], old_key)
    reopened = db.connect(app.config["DB_PATH"], db.raw_key(app.config["DB_PATH"], NEW_PASSPHRASE))
    assert reopened.execute("SELECT count(*) FROM messages").fetchone()[0] == 2
    assert reopened.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    export = visitor.client.get("/api/v1/me/export", headers=visitor.auth)  # same app, new key: still fails closed
    assert export.status_code == 500 and "Traceback" not in export.get_data(as_text=True)


def test_rekey_refuses_while_the_database_is_in_use_and_changes_nothing(app, runner, instance):
    in_use = db.connect(app.config["DB_PATH"], app.extensions["db_key"])
    in_use.execute("SELECT count(*) FROM visitors").fetchone()
    result = runner.invoke(args=["db", "rekey"], input=NEW_PASSPHRASE + "\n")
    assert result.exit_code == 1 and "stop the server" in result.output
    in_use.close()
    assert db.connect(app.config["DB_PATH"], app.extensions["db_key"]).execute("SELECT 1").fetchone()[0] == 1
    assert not (instance / "db.key.new").exists() and (instance / "db.key").read_text().strip() != NEW_PASSPHRASE


def test_rekey_rejects_a_short_passphrase(runner):
    result = runner.invoke(args=["db", "rekey"], input="short\n")
    assert result.exit_code == 1 and "at least 20 characters" in result.output


def migrated_up_to(tmp_path: Path, count: int) -> sqlcipher3.Connection:
    """A database with only the first `count` shipped migrations applied (the later ones still to run)."""
    early = tmp_path / "early"
    early.mkdir()
    for path in db.migration_files(db.MIGRATIONS)[:count]:
        (early / path[1].name).write_text(path[1].read_text())
    conn = open_db(tmp_path)
    db.migrate(conn, early)
    return conn


def test_migrations_link_old_subject_keys_and_retire_old_placeholder_hashes(tmp_path):
    """0009/0010: keys learn where they were typed; fingerprints made with the long-lived key are retired."""
    conn = migrated_up_to(tmp_path, 8)
    conn.execute("INSERT INTO visitors (id, token_hash) VALUES (1, 'h')")
    conn.execute("INSERT INTO conversations (id, visitor_id) VALUES ('c1', 1)")
    conn.execute("INSERT INTO placeholders VALUES ('c1', 'f-email', '<EMAIL_ADDRESS_1>'), ('c1', 'f-dob', "
                 "'<DATE_OF_BIRTH_1>')")
    conn.execute("INSERT INTO subject_keys (visitor_id, kind, fingerprint) VALUES (1, 'EMAIL_ADDRESS', 'f-email')")
    db.migrate(conn)
    assert [tuple(r) for r in conn.execute("SELECT visitor_id, conversation_id, kind, fingerprint, label "
                                           "FROM subject_keys")] == [(1, "c1", "EMAIL_ADDRESS", "f-email",
                                                                      "<EMAIL_ADDRESS_1>")]
    placeholders = [tuple(r) for r in conn.execute("SELECT fingerprint, label FROM placeholders ORDER BY label")]
    assert [label for _, label in placeholders] == ["<DATE_OF_BIRTH_1>", "<EMAIL_ADDRESS_1>"]
    assert all(f.startswith("retired:") for f, _ in placeholders)
    assert len(conn.execute("SELECT placeholder_key FROM conversations").fetchone()[0]) == 32


def test_database_and_its_journal_files_are_readable_by_the_owner_only(app, visitor):
    """Issue 11 item 7: the database file was created 0644 inside the 0700 folder."""
    held = db.connect(app.config["DB_PATH"], app.extensions["db_key"])  # keeps the -wal and -shm files
    visitor.consent(transcripts=True)
    visitor.say("Is shipping free?")
    held.execute("SELECT count(*) FROM messages").fetchone()
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in Path(app.instance_path).glob("quietdesk.db*")}
    held.close()
    assert modes == {"quietdesk.db": "0o600", "quietdesk.db-wal": "0o600", "quietdesk.db-shm": "0o600"}


def test_migration_marks_which_one_replies_stored_before_it(tmp_path):
    """0015: a "which one do you mean?" reply offered a person and listed sources; "I don't know" none."""
    conn = migrated_up_to(tmp_path, 14)
    conn.execute("INSERT INTO visitors (id, token_hash) VALUES (1, 'h')")
    conn.execute("INSERT INTO conversations (id, visitor_id, placeholder_key) VALUES ('c1', 1, zeroblob(32))")
    listed = '[{"title": "A", "url": "u"}]'
    conn.execute("INSERT INTO messages (id, conversation_id, role, text, sources, handoff_offered) VALUES "
                 "('q', 'c1', 'visitor', 'Is parking available?', '[]', 0), "
                 "('w', 'c1', 'bot', 'That depends on which one you mean:', :listed, 1), "
                 "('k', 'c1', 'bot', 'I''m sorry, I couldn''t find an answer', '[]', 1), "
                 "('a', 'c1', 'bot', 'Yes, behind the lodge.', :listed, 0)", {"listed": listed})
    db.migrate(conn)
    marked = dict(conn.execute("SELECT id, asked_which FROM messages").fetchall())
    assert marked == {"q": 0, "w": 1, "k": 0, "a": 0}
