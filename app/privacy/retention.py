"""Retention: purge what is older than the retention period, on demand and while serving.

A visitor not seen for RETENTION_DAYS is deleted with everything of theirs; a conversation with
no activity in that time is deleted even if its visitor is still active. `secure_delete` is on for
every connection, so purged rows are overwritten, not merely unlinked.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app import limits
from app.admin import accounts
from app.chat import analytics, transcripts, visitors
from app.db import connect, get_db
from app.privacy import contacts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    visitors: int
    conversations: int


def cutoff(days: int, now: datetime | None = None) -> str:
    """Return the timestamp before which data has expired, in the database's format."""
    moment = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def purge(db, days: int, now: datetime | None = None, contact_days: int = 7,
          analytics_days: int = 400) -> Purged:
    """Delete expired visitors and conversations, addresses left for a reply contact_days after their
    handoff was resolved, analytics days older than analytics_days, past rate windows and day-old failed
    logins, then checkpoint the log."""
    limit = cutoff(days, now)
    contacts.expire(db, cutoff(contact_days, now))
    analytics.purge_before(db, cutoff(analytics_days, now)[:10])  # counters are kept per whole day
    purged = Purged(visitors.purge_idle_before(db, limit), transcripts.purge_conversations_before(db, limit))
    limits.forget_before(db)
    accounts.forget_failures_before(db, cutoff(1, now))  # hashed; throttling looks back minutes
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return purged


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete data older than the retention period now."""
    result = purge(get_db(), current_app.config["RETENTION_DAYS"],
                   contact_days=current_app.config["CONTACT_RETENTION_DAYS"],
                   analytics_days=current_app.config["ANALYTICS_RETENTION_DAYS"])
    click.echo(f"purged {result.visitors} visitors and {result.conversations} conversations older than "
               f"{current_app.config['RETENTION_DAYS']} days")


def _purge_forever(app: Flask, stop: threading.Event) -> None:
    interval = app.config["PURGE_INTERVAL_MINUTES"] * 60
    while not stop.wait(interval):
        try:
            db = connect(app.config["DB_PATH"], app.extensions["db_key"])
            try:
                result = purge(db, app.config["RETENTION_DAYS"],
                               contact_days=app.config["CONTACT_RETENTION_DAYS"],
                               analytics_days=app.config["ANALYTICS_RETENTION_DAYS"])
            finally:
                db.close()
            log.info("retention purge: %d visitors, %d conversations", result.visitors, result.conversations)
        except Exception:  # keep purging on later ticks; the reason goes to the (scrubbed) log
            log.exception("retention purge failed")


def init_app(app: Flask) -> None:
    """Register `purge`; in a serving process, purge every PURGE_INTERVAL_MINUTES in the background
    and hold one idle connection, so `db rekey` and `db restore` (which need the only connection)
    refuse while the server runs, even between requests."""
    app.cli.add_command(purge_command)
    if app.config.get("BACKGROUND_PURGE"):
        app.extensions["db_holder"] = connect(app.config["DB_PATH"], app.extensions["db_key"])
    if app.config["PURGE_INTERVAL_MINUTES"] > 0 and app.config.get("BACKGROUND_PURGE"):
        stop = threading.Event()
        app.extensions["purge_stop"] = stop
        threading.Thread(target=_purge_forever, args=(app, stop), name="retention-purge", daemon=True).start()
