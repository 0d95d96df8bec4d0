"""Data-subject rights: export everything held about a visitor (GDPR Art. 15/20), or erase it
(Art. 17). Both act on a visitor resolved from their own bearer token, never on an id from a URL.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from app.chat import transcripts, visitors
from app.db import get_db
from app.privacy import consent, contacts, subjects

SCHEMA_PATH = Path(__file__).with_name("export.schema.json")
FORMAT = "quietdesk-export/1"


def schema() -> dict[str, Any]:
    """Return the JSON Schema every export follows."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def export_visitor(visitor: visitors.Visitor) -> dict[str, Any]:
    """Return one JSON-ready document with everything stored about the visitor."""
    db = get_db()
    return {
        "format": FORMAT,
        "exported_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "visitor": {"created_at": visitor.created_at},
        "consent": {"current": consent.current(db, visitor.id),
                    "history": [asdict(e) for e in consent.history(db, visitor.id)]},
        "conversations": transcripts.export_conversations(db, visitor.id),
        "subject_keys": subjects.keys_of(db, visitor.id),
        "contacts": [{"email": c.email, "created_at": c.created_at} for c in contacts.of_visitor(db, visitor.id)],
    }


def erase_visitor(visitor: visitors.Visitor) -> dict[str, int]:
    """Erase the visitor and everything of theirs; return what was deleted, by kind.

    The deletion ledgers the visitor's internal id in the same transaction (visitors.delete_visitor),
    so restoring an older backup erases them again (app.backup).
    """
    db = get_db()
    held = export_visitor(visitor)
    conversations = held["conversations"]
    counts = {"visitor": 1, "conversations": len(conversations),
              "messages": sum(len(c["messages"]) for c in conversations),
              "feedback": sum(1 for c in conversations for m in c["messages"] if m["feedback"]),
              "handoffs": sum(len(c["handoffs"]) for c in conversations),
              "tags": sum(len(c["tags"]) for c in conversations),
              "consent_events": len(held["consent"]["history"]),
              "subject_keys": len(held["subject_keys"]), "contacts": len(held["contacts"])}
    visitors.delete_visitor(db, visitor.id)
    # Move the secure-deleted pages out of the write-ahead log into the main file now.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts
