"""The audit_log table: a hash-chained record of every admin access to customer data.

Each row stores SHA-256 over its own fields and the previous row's hash. Editing a row, deleting
one, or reordering them breaks the chain at the first affected row, which `run.py audit verify`
reports. Deleting the newest rows leaves a valid shorter chain, so every entry's id and hash also go
to the (scrubbed, usually shipped off the machine) server log: a head seen there and missing here
proves rows were removed (`audit verify --expect ID:HASH`). Rows name subjects by internal ids only.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlcipher3

from app.db import transaction
from app.logs import Trusted

GENESIS = "0" * 64
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    id: int
    created_at: str
    actor: str
    action: str
    subject: str
    detail: str


def _digest(prev_hash: str, created_at: str, actor: str, action: str, subject: str, detail: str) -> str:
    payload = json.dumps([prev_hash, created_at, actor, action, subject, detail], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def record(db: sqlcipher3.Connection, actor: str, action: str, subject: str, detail: str = "") -> None:
    """Append one entry to the chain (in its own transaction, so entries never interleave)."""
    with transaction(db):
        row = db.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        prev_hash = row["hash"] if row else GENESIS
        created_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        digest = _digest(prev_hash, created_at, actor, action, subject, detail)
        entry_id = db.execute("INSERT INTO audit_log (created_at, actor, action, subject, detail, prev_hash, "
                              "hash) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                              (created_at, actor, action, subject, detail, prev_hash, digest)).fetchall()[0][0]
    log.info("audit head %d:%s", entry_id, Trusted(digest[:16]))


def entries(db: sqlcipher3.Connection, limit: int = 100, offset: int = 0) -> list[Entry]:
    """Return entries, newest first."""
    rows = db.execute("SELECT id, created_at, actor, action, subject, detail FROM audit_log "
                      "ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset))
    return [Entry(**dict(row)) for row in rows]


def head(db: sqlcipher3.Connection) -> tuple[int, str] | None:
    """Return the newest entry's id and hash, or None for an empty log."""
    row = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    return (row["id"], row["hash"]) if row else None


def has_head(db: sqlcipher3.Connection, entry_id: int, hash_prefix: str) -> bool:
    """True if the entry with this id is still here with a hash starting with hash_prefix."""
    row = db.execute("SELECT hash FROM audit_log WHERE id = ?", (entry_id,)).fetchone()
    return row is not None and len(hash_prefix) >= 8 and row["hash"].startswith(hash_prefix.lower())


def first_broken(db: sqlcipher3.Connection) -> int | None:
    """Return the id of the first row whose chain does not verify, or None if all do."""
    expected = GENESIS
    for row in db.execute("SELECT * FROM audit_log ORDER BY id"):
        digest = _digest(row["prev_hash"], row["created_at"], row["actor"], row["action"], row["subject"],
                         row["detail"])
        if row["prev_hash"] != expected or row["hash"] != digest:
            return row["id"]
        expected = row["hash"]
    return None
