"""The encrypted database: one way to open it, transactions, and migrations.

SQLCipher's passphrase KDF (PBKDF2-HMAC-SHA512, 256,000 rounds) costs ~240 ms, too much per
request. We run the same KDF once per process over the file's own salt (its first 16 bytes)
and open every connection with the resulting raw key, so the file stays readable by any
SQLCipher 4 client given the passphrase, while a connection costs milliseconds.
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
import sqlcipher3
from flask import Flask, current_app, g
from flask.cli import AppGroup

from app.config import read_secret, write_secret

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_KDF_ROUNDS = 256_000
DURABLE = "FULL"  # every connection's level: a commit waits for the disk (WAL synced at each commit)
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class DatabaseKeyError(Exception):
    """The key does not open the database file."""


class SchemaError(Exception):
    """The database schema cannot be brought to the code's version."""


def raw_key(path: Path, passphrase: str) -> str:
    """Derive the SQLCipher raw key (with salt) for the file at path, creating a salt if new."""
    try:
        with open(path, "rb") as handle:
            salt = handle.read(16)
    except FileNotFoundError:
        salt = b""
    if len(salt) < 16:
        salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", passphrase.encode(), salt, _KDF_ROUNDS, 32)
    return f"x'{key.hex()}{salt.hex()}'"


def connect(path: Path, key: str) -> sqlcipher3.Connection:
    """Open one connection: quiet SQLCipher logging, key, then the pragmas every connection needs.

    A new file is created 0600 first: SQLite gives its -wal and -shm files the database file's mode.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    db = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
    db.execute("PRAGMA cipher_log_level = NONE")
    db.execute(f'PRAGMA key = "{key}"')
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as error:
        db.close()
        raise DatabaseKeyError(f"cannot open {path}: wrong key or not a Quietdesk database") from error
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {DURABLE}")  # stated, so transaction() knows what to come back to
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA secure_delete = ON")
    db.row_factory = sqlcipher3.Row
    return db


@contextmanager
def transaction(db: sqlcipher3.Connection, durable: bool = True) -> Iterator[sqlcipher3.Connection]:
    """Run the block in one write transaction: commit on success, roll back on any error.

    Inside another transaction block it simply joins it, so a use case can make several owners'
    writes one atomic change (a handoff's new state and the notice the visitor sees).
    durable=False is for bookkeeping a power cut may lose (rate-limit windows): its commit does not
    wait for the disk (WAL with synchronous NORMAL stays consistent), which under load was most of a
    turn's write-lock time; the connection's own level (DURABLE, set by connect) is restored after it.
    """
    if db.in_transaction:
        yield db
        return
    if not durable:
        db.execute("PRAGMA synchronous = NORMAL")
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        if not durable:
            db.execute(f"PRAGMA synchronous = {DURABLE}")


def migration_files(folder: Path = MIGRATIONS) -> list[tuple[int, Path]]:
    """List migrations as (version, path), checking they are numbered 1, 2, 3… without gaps."""
    found = sorted((int(m.group(1)), p) for p in folder.glob("*.sql")
                   if (m := _MIGRATION_NAME.match(p.name)))
    for expected, (version, path) in enumerate(found, start=1):
        if version != expected:
            raise SchemaError(f"migration {path.name} out of sequence: expected {expected:04d}")
    return found


def _statements(script: str) -> Iterator[str]:
    """Split a SQL script into complete statements (executescript would commit first)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise SchemaError(f"incomplete SQL statement: {pending.strip()[:60]}")


def migrate(db: sqlcipher3.Connection, folder: Path = MIGRATIONS) -> list[str]:
    """Apply pending migrations, each in one transaction with its user_version; return their names."""
    files = migration_files(folder)
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > len(files):
        raise SchemaError(f"database schema version {current} is newer than this code "
                          f"({len(files)}); upgrade Quietdesk")
    applied = []
    for version, path in files[current:]:
        with transaction(db):
            for statement in _statements(path.read_text()):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {version:d}")
        applied.append(path.name)
    return applied


class ThreadConnections:
    """One open connection per server thread, reused request after request (the served app uses this).

    Opening a connection (key, schema read, pragmas) and closing it cost ~2 ms of a ~15 ms turn.
    A connection is only ever used by the thread that holds it; it goes back with no transaction open.
    """

    def __init__(self, path: Path, key: str) -> None:
        self.path, self.key = path, key
        self._idle = threading.local()

    def take(self) -> sqlcipher3.Connection:
        db = getattr(self._idle, "db", None)
        self._idle.db = None
        return db or connect(self.path, self.key)

    def give_back(self, db: sqlcipher3.Connection) -> None:
        if db.in_transaction:  # never reached through transaction(), which always ends its own
            db.execute("ROLLBACK")
        if getattr(self._idle, "db", None) is None:
            self._idle.db = db
        else:
            db.close()


def get_db() -> sqlcipher3.Connection:
    """Return this request's connection: the thread's reused one in a served worker, else a new one."""
    if "db" not in g:
        pool = current_app.extensions.get("db_connections")
        g.db = pool.take() if pool else connect(current_app.config["DB_PATH"], current_app.extensions["db_key"])
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    """Give this request's connection back to its thread, or close it."""
    db = g.pop("db", None)
    if db is None:
        return
    pool = current_app.extensions.get("db_connections")
    try:
        pool.give_back(db) if pool else db.close()
    except sqlcipher3.Error:  # a connection that cannot roll back is not kept
        db.close()


def migrate_app(app: Flask) -> list[str]:
    """Open the app's database (failing closed on a wrong key) and apply pending migrations."""
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    try:
        return migrate(db)
    finally:
        db.close()


db_cli = AppGroup("db", help="Database commands.")


@db_cli.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations."""
    try:
        applied = migrate_app(current_app)
    except (DatabaseKeyError, SchemaError) as error:
        raise click.ClickException(str(error)) from None
    click.echo("applied: " + ", ".join(applied) if applied else "database is up to date")


MIN_PASSPHRASE = 20


def rekey(path: Path, current_key: str, passphrase: str) -> str:
    """Re-encrypt the file under a new passphrase (same salt); return the new raw key.

    SQLCipher cannot rekey in WAL mode, so the log is checkpointed away and the file switched to a
    rollback journal for the rekey (one transaction: all pages or none), then back to WAL. Leaving
    WAL needs the only connection, which is how a running server is detected.
    """
    new_key = raw_key(path, passphrase)
    db = connect(path, current_key)
    try:
        db.execute("PRAGMA busy_timeout = 1000")
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            mode = db.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        except sqlcipher3.OperationalError:
            mode = "busy"
        if mode != "delete":
            raise DatabaseKeyError("the database is in use: stop the server, then run `db rekey` again")
        db.execute(f'PRAGMA rekey = "{new_key}"')
        db.execute("PRAGMA journal_mode = WAL")
    finally:
        db.close()
    connect(path, new_key).close()  # proves the new key opens it
    return new_key


@db_cli.command("rekey")
def rekey_command() -> None:
    """Re-encrypt the database under a new passphrase (prompted for, or one line of standard input).

    Stop the server first. If the key came from instance/db.key, that file is replaced; if it came
    from QUIETDESK_DB_KEY, set the variable to the new passphrase before starting again.
    """
    passphrase = read_secret("New passphrase")
    if len(passphrase) < MIN_PASSPHRASE:
        raise click.ClickException(f"use a passphrase of at least {MIN_PASSPHRASE} characters "
                                   "(for example from `openssl rand -hex 32`)")
    key_file = Path(current_app.instance_path) / "db.key"
    from_file = key_file.exists() and key_file.read_text().strip() == current_app.config["DB_KEY"]
    pending = key_file.with_suffix(".key.new")
    if from_file:  # written before the rekey, so the new passphrase is on disk whatever happens next
        write_secret(pending, passphrase, replace=True)
    try:
        rekey(current_app.config["DB_PATH"], current_app.extensions["db_key"], passphrase)
    except DatabaseKeyError as error:
        pending.unlink(missing_ok=True)
        raise click.ClickException(str(error)) from None
    if from_file:
        os.replace(pending, key_file)
        click.echo(f"database re-encrypted; {key_file} holds the new passphrase")
    else:
        click.echo("database re-encrypted; set QUIETDESK_DB_KEY to the new passphrase before starting")


def init_app(app: Flask) -> None:
    """Derive the key once; unless lazy, open and migrate now; register teardown and CLI."""
    path = Path(app.instance_path) / "quietdesk.db"
    app.config["DB_PATH"] = path
    app.extensions["db_key"] = raw_key(path, app.config["DB_KEY"])
    if not app.config.get("LAZY"):
        migrate_app(app)
    if app.config.get("REUSE_CONNECTIONS"):
        app.extensions["db_connections"] = ThreadConnections(path, app.extensions["db_key"])
    app.teardown_appcontext(close_db)
    app.cli.add_command(db_cli)
