"""Back up and restore the encrypted database (`run.py db backup` / `db restore`, DESIGN §12).

A backup is SQLite's online backup API in one step: one read transaction copies every page of one
consistent snapshot (user_version included) while the server keeps writing, and writes each page
through the target's own SQLCipher codec, so no plaintext byte reaches the disk. (`sqlcipher_export`
drops user_version, copies table by table and creates its file 0644.) The copy goes to a 0600
temporary file beside PATH, is checked, then renamed into place.

A restore never writes the backup file. It first takes the current file for itself: leaving WAL mode
needs the only connection (as in `db rekey`), so a server with a request in flight is refused, and an
exclusive lock then keeps anyone from writing to the file until it is replaced. (A server idle between
requests holds no connection and cannot be seen; a request that races the restore then fails, since
SQLite will not write to a file renamed while open, instead of writing to the replaced file.) It then
copies the backup beside the database, checks it, re-encrypts it under the database's own key and salt
if another key made it, migrates it, erases again every visitor in the current file's erasure ledger,
carries the ledger over and re-runs the retention purge. Only then does the copy take the current
file's place; the replaced file is deleted once the new one passes its check.

Longer than most modules: backup and restore share the copy, the checks and the temporary files.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click
import sqlcipher3
from flask import current_app

from app.chat import visitors
from app.db import (MIN_PASSPHRASE, DatabaseKeyError, SchemaError, connect, db_cli, migrate, migration_files,
                    raw_key)
from app.integrity import problems
from app.privacy import ledger
from app.privacy.retention import Purged, purge

SIDE_FILES = ("-journal", "-wal", "-shm")


class BackupError(Exception):
    """A backup or restore was refused or failed; the message is one line for the operator."""


@dataclass(frozen=True)
class Summary:
    """What a database file holds, for the operator."""
    tables: int
    visitors: int
    conversations: int
    messages: int
    schema: int


@dataclass(frozen=True)
class Live:
    """The database a restore replaces: its file, the raw key it opens with, and its passphrase."""
    path: Path
    key: str
    passphrase: str


@dataclass(frozen=True)
class Restored:
    summary: Summary
    key: str  # the raw key the database opens with now
    applied: tuple[str, ...]  # migrations
    ledgered: int  # erasure ledger entries in the restored file
    erased_again: int
    purged: Purged


def read_key_file(path: Path, minimum: int = 1) -> str:
    """Return the passphrase in a key file only its owner may read (mode 0600 or stricter)."""
    try:
        mode = path.stat().st_mode & 0o777
        passphrase = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise BackupError(f"cannot read key file {path}: {error.strerror}") from None
    if mode & 0o077:
        raise BackupError(f"key file {path} is readable by others (mode {mode:o}): run `chmod 600 {path}`")
    if len(passphrase) < minimum:
        raise BackupError(f"key file {path} must hold a passphrase of at least {minimum} characters")
    return passphrase


def _temp_beside(path: Path, tag: str) -> Path:
    """Create an empty 0600 file in path's folder, so that renaming it into place is atomic."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".{tag}")
    os.close(handle)
    return Path(name)


def _discard(path: Path) -> None:
    for name in (path, *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)):
        name.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make a rename in folder durable."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def copy(source: sqlcipher3.Connection, target: Path, key: str) -> None:
    """Copy the open database into the empty file target, encrypted under key, from one snapshot."""
    out = connect(target, key)
    try:
        source.backup(out, pages=-1)  # one step is one read transaction: one consistent snapshot
    finally:
        out.close()


def summary(path: Path, key: str) -> Summary:
    """Count what the file at path holds."""
    db = connect(path, key)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        counts = [db.execute(f"SELECT count(*) FROM {name}").fetchone()[0] if name in tables else 0
                  for name in ("visitors", "conversations", "messages")]
        return Summary(len(tables), *counts, db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def _checked(path: Path, key: str, what: str, full: bool = False) -> Summary:
    """Run the cipher and SQLite checks (quick_check unless full); return what the file holds."""
    found = problems(path, key, quick=not full)
    if found:
        raise BackupError(f"{what} failed its check: {found[0]}")
    return summary(path, key)


def backup(live: Path, live_key: str, target: Path, passphrase: str | None = None,
           force: bool = False) -> Summary:
    """Write a checked, encrypted copy of the database to target, under the database's own key or
    a new passphrase; an existing target is replaced only when forced."""
    if not live.exists():
        raise BackupError(f"there is no database at {live}")
    if target.resolve() in {Path(f"{live.resolve()}{suffix}") for suffix in ("", *SIDE_FILES)}:
        raise BackupError("a backup cannot be written over the database itself")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to replace it")
    temp = _temp_beside(target, "tmp")
    try:
        key = live_key if passphrase is None else raw_key(temp, passphrase)  # an empty file: a new salt
        source = connect(live, live_key)
        try:
            copy(source, temp, key)
        except sqlcipher3.DatabaseError as error:
            raise BackupError(f"cannot copy {live} ({error}): run `python run.py db check`") from None
        finally:
            source.close()
        held = _checked(temp, key, "the copy")
        os.replace(temp, target)
        _sync_folder(target.parent)
        return held
    finally:
        _discard(temp)


def _unreadable(live: Path, reason: str) -> BackupError:
    return BackupError(f"{reason}, so its erasure ledger cannot be read; if the file is beyond repair, move "
                       f"it out of {live.parent} and restore again (visitors erased since the backup are "
                       "then not erased again)")


def _claim(live: Live) -> sqlcipher3.Connection | None:
    """Hold the current file exclusively (None if there is none); refuse while another connection has it."""
    if not live.path.exists():
        stale = [Path(f"{live.path}{s}").name for s in SIDE_FILES if Path(f"{live.path}{s}").exists()]
        if stale:
            raise BackupError(f"{', '.join(stale)} found without {live.path.name}: move them away first")
        return None
    try:
        db = connect(live.path, live.key)
    except DatabaseKeyError as error:
        raise _unreadable(live.path, str(error)) from None
    try:
        db.execute("PRAGMA busy_timeout = 0")  # refuse if anyone has it open now; never wait for a gap
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            mode = db.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            db.execute("BEGIN EXCLUSIVE")  # nobody writes to it from here until it is replaced
        except sqlcipher3.OperationalError:
            mode = "busy"
        if mode != "delete" or Path(f"{live.path}-wal").exists():
            raise BackupError("the database is in use: stop the server, then run `db restore` again")
        return db
    except BaseException:
        db.close()
        raise


def _release(claim: sqlcipher3.Connection) -> None:
    """Let go of a current file that stays in place, switching it back to WAL mode as serving expects."""
    try:
        claim.execute("ROLLBACK")
        claim.execute("PRAGMA journal_mode = WAL")
    except sqlcipher3.Error:
        pass  # busy again already: the next connect() switches it back itself
    finally:
        claim.close()


def _stage(source: Path, staged: Path, passphrase: str, target_key: str | None, hint: str) -> str:
    """Copy the backup to staged and check it; re-encrypt it under target_key if that differs.
    Return the key staged opens with."""
    shutil.copyfile(source, staged)  # ciphertext, into the 0600 file
    key = raw_key(staged, passphrase)  # with the backup's own salt
    try:
        connect(staged, key).close()
    except DatabaseKeyError:
        raise BackupError(f"cannot open the backup {source}: {hint}") from None
    schema = _checked(staged, key, f"the backup {source}", full=True).schema
    if not 0 < schema <= len(migration_files()):
        raise BackupError(f"the backup's schema version {schema} is not one this code knows "
                          f"(1–{len(migration_files())}); use the Quietdesk version that made it")
    if target_key is None or target_key == key:
        return key
    encrypted = _temp_beside(staged, "rekey")
    try:
        db = connect(staged, key)
        try:
            copy(db, encrypted, target_key)
        finally:
            db.close()
        os.replace(encrypted, staged)
    finally:
        _discard(encrypted)
    return target_key


def _reconcile(staged: Path, key: str, entries: list[ledger.Entry], days: tuple[int, int, int]) -> Restored:
    """Migrate the copy, carry the ledger over and erase every ledgered visitor in it again, then run
    the retention purge (conversations it purged since the backup was made would come back)."""
    db = connect(staged, key)
    try:
        applied = tuple(migrate(db))
        ledger.add(db, entries)
        erased = visitors.delete_visitors(db, [e.visitor_id for e in ledger.entries(db)], "erasure")
        purged = purge(db, days[0], contact_days=days[1], analytics_days=days[2])
        ledgered = len(ledger.entries(db))
    finally:
        db.close()
    return Restored(_checked(staged, key, "the restored copy"), key, applied, ledgered, erased, purged)


def _swap(live: Path, staged: Path, key: str, keep: bool) -> None:
    """Rename staged over live, keeping the replaced file until the new one passes its check."""
    kept = live.with_name(f"{live.name}.before-restore-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}")
    if keep:
        os.link(live, kept)
        os.chmod(kept, 0o600)
    os.replace(staged, live)
    _sync_folder(live.parent)
    found = problems(live, key, quick=True)
    if found and keep:
        os.replace(kept, live)
    if found:
        raise BackupError(f"the restored file failed its check ({found[0]})"
                          + ("; the previous file is back in place" if keep else ""))
    kept.unlink(missing_ok=True)  # no retention purge or erasure would ever reach the data it holds


def restore(live: Live, source: Path, passphrase: str | None, days: tuple[int, int, int]) -> Restored:
    """Replace the database with the backup at source, made with the database's key or passphrase;
    days are the retention, contact-retention and analytics-retention periods (see the module docstring for the order)."""
    if source.resolve() == live.path.resolve():
        raise BackupError("that is the database itself, not a backup")
    hint = ("the passphrase in the key file does not open it" if passphrase else "the database's key "
            "does not open it (made with --key-file, or before a `db rekey`? pass that passphrase with "
            "--key-file)")
    claim, swapped = _claim(live), False
    staged = _temp_beside(live.path, "restore")
    try:
        target_key = live.key if claim is not None or passphrase else None  # None: keep the backup's salt
        key = _stage(source, staged, passphrase or live.passphrase, target_key, hint)
        try:
            entries = ledger.entries(claim) if claim is not None else []
        except sqlcipher3.DatabaseError as error:
            raise _unreadable(live.path, f"{live.path} is damaged ({error})") from None
        restored = _reconcile(staged, key, entries, days)
        _swap(live.path, staged, key, keep=claim is not None)
        swapped = True
        return restored
    finally:
        _discard(staged)
        if claim is not None and swapped:
            claim.close()  # rolls back its empty exclusive transaction on the replaced file
        elif claim is not None:  # refused or failed: the current file stays
            _release(claim)


@db_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Encrypt with the passphrase in this file (mode 0600) instead of the database's key.")
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def backup_command(path: Path, key_file: Path | None, force: bool) -> None:
    """Write a consistent, encrypted copy of the database to PATH; safe while the server runs."""
    started = time.monotonic()
    try:
        passphrase = read_key_file(key_file, MIN_PASSPHRASE) if key_file else None
        live = current_app.config["DB_PATH"]
        held = backup(live, current_app.extensions["db_key"], path, passphrase, force)
    except (BackupError, DatabaseKeyError, OSError) as error:
        raise click.ClickException(str(error)) from None
    except sqlcipher3.DatabaseError as error:
        raise click.ClickException(f"backup failed, nothing was written: {error}") from None
    how = f"the passphrase in {key_file}" if key_file else "the database's own key"
    click.echo(f"wrote {path}: {held.tables} tables, {held.visitors} visitors, {held.conversations} "
               f"conversations, {held.messages} messages (schema {held.schema}); {path.stat().st_size:,} "
               f"bytes in {time.monotonic() - started:.1f} s; encrypted with {how}")


@db_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="The backup was made with --key-file: the file (mode 0600) holding that passphrase.")
def restore_command(path: Path, key_file: Path | None) -> None:
    """Replace the database with the backup at PATH. Stop the server first.

    Visitors erased after the backup was made are erased again, the retention purge runs and pending
    migrations are applied before the backup takes the database's place.
    """
    config = current_app.config
    try:
        passphrase = read_key_file(key_file) if key_file else None
        done = restore(Live(config["DB_PATH"], current_app.extensions["db_key"], config["DB_KEY"]), path,
                       passphrase, (config["RETENTION_DAYS"], config["CONTACT_RETENTION_DAYS"],
                                    config["ANALYTICS_RETENTION_DAYS"]))
    except (BackupError, DatabaseKeyError, SchemaError, OSError) as error:
        raise click.ClickException(str(error)) from None
    except sqlcipher3.DatabaseError as error:  # raised before the swap: the current file is untouched
        raise click.ClickException(f"restore failed, nothing was replaced: {error}") from None
    current_app.extensions["db_key"] = done.key
    held = done.summary
    click.echo(f"restored {path} into {config['DB_PATH']}: {held.visitors} visitors, {held.conversations} "
               f"conversations, {held.messages} messages (schema {held.schema})")
    click.echo(f"erased again: {done.erased_again} visitors in the erasure ledger ({done.ledgered} entries)")
    click.echo(f"retention purge: {done.purged.visitors} visitors, {done.purged.conversations} conversations")
    click.echo("migrations applied: " + (", ".join(done.applied) or "none"))
