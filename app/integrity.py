"""Check the database file: SQLCipher's page HMACs, then SQLite's own structure (`run.py db check`).

A damaged file must be found by the operator, not by a visitor: `serve` checks before it starts
and refuses a damaged file with one clear line (DESIGN §6 "fail closed"), and a database error while
serving marks the process unhealthy for /health.
"""
from __future__ import annotations

from pathlib import Path

import click
import sqlcipher3
from flask import current_app

from app.db import DatabaseKeyError, connect, db_cli


class DatabaseDamaged(Exception):
    """The database file failed its integrity check; the message names the first problem."""


def problems(path: Path, key: str, quick: bool = False) -> list[str]:
    """Return what is wrong with the file, first problem first; an empty list for a sound file.

    cipher_integrity_check verifies every page's HMAC and names a bad page; SQLite's check (the
    full one, or quick_check at start-up) then verifies the b-trees the pages hold.

    The write-ahead log is copied into the file first. cipher_integrity_check reads the file alone, so a
    page whose committed copy is still in the log (SQLite reads that one) was judged by a stale or
    incomplete copy in the file, and a sound database could be refused at start-up after a crash.
    (Passive: with a server running it copies what no reader holds.)
    """
    try:
        db = connect(path, key)
    except DatabaseKeyError as error:
        return [str(error)]
    try:
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        found = [row[0] for row in db.execute("PRAGMA cipher_integrity_check")]
        if not found:
            rows = db.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
            found = [row[0] for row in rows if row[0] != "ok"]
        return found
    except sqlcipher3.DatabaseError as error:
        return [f"unreadable: {error}"]
    finally:
        db.close()


def require_sound(path: Path, key: str) -> None:
    """Raise DatabaseDamaged unless the file passes the quick check (run before serving)."""
    found = problems(path, key, quick=True)
    if found:
        raise DatabaseDamaged(f"{path} is damaged ({found[0]}); run `python run.py db check`, then restore "
                              "a backup with `python run.py db restore`")


@db_cli.command("check")
def check_command() -> None:
    """Verify the database file; exit status 0 only for a sound file."""
    found = problems(current_app.config["DB_PATH"], current_app.extensions["db_key"])
    if found:
        for line in found[:10]:
            click.echo(line, err=True)
        raise click.ClickException(f"{current_app.config['DB_PATH']} is damaged: {found[0]}")
    click.echo(f"{current_app.config['DB_PATH']}: page HMACs and integrity check ok")


def note(error: BaseException) -> None:
    """Mark this process's database as damaged when an unhandled error says so (not a busy lock)."""
    if type(error) is sqlcipher3.DatabaseError:  # "malformed", "not a database"; OperationalError is a lock
        current_app.extensions["database_damaged"] = str(error)


def damaged() -> str | None:
    """Return why this process found the database damaged while serving, if it did."""
    return current_app.extensions.get("database_damaged")
