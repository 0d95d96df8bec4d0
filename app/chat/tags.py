"""The conversation_tags table: short labels the support team puts on conversations.

A tag is one lower-case word of letters, digits and hyphens (at most 32, with at most 4 digits),
checked here, so a tag cannot hold an email address, a phone, card, order or social security number,
or a sentence typed by mistake.
"""
from __future__ import annotations

import re

import sqlcipher3

from app.db import transaction

SHAPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
MAX_DIGITS = 4  # a year or a version number, never an identifier ("jane-roe-ssn-078051120")


def normalise(tag: str) -> str:
    """Return the tag as stored (trimmed, lower-case); ValueError if it has another shape."""
    tag = tag.strip().lower()
    if not SHAPE.match(tag) or sum(c.isdigit() for c in tag) > MAX_DIGITS:
        raise ValueError("A tag is one word of letters, digits and hyphens, at most 32 characters and at most "
                         f"{MAX_DIGITS} digits, so it cannot hold a phone, card, order or ID number.")
    return tag


def add(db: sqlcipher3.Connection, conversation_id: str, tag: str, user_id: int) -> bool:
    """Tag the conversation; False if it already had this tag."""
    with transaction(db):
        return db.execute("INSERT OR IGNORE INTO conversation_tags (conversation_id, tag, tagged_by) "
                          "VALUES (?, ?, ?)", (conversation_id, normalise(tag), user_id)).rowcount == 1


def remove(db: sqlcipher3.Connection, conversation_id: str, tag: str) -> bool:
    """Take the tag off the conversation; False if it did not have it."""
    with transaction(db):
        return db.execute("DELETE FROM conversation_tags WHERE conversation_id = ? AND tag = ?",
                          (conversation_id, tag)).rowcount == 1


def of_conversation(db: sqlcipher3.Connection, conversation_id: str) -> list[str]:
    """Return the conversation's tags, alphabetically."""
    rows = db.execute("SELECT tag FROM conversation_tags WHERE conversation_id = ? ORDER BY tag",
                      (conversation_id,))
    return [row["tag"] for row in rows]


def in_use(db: sqlcipher3.Connection) -> list[tuple[str, int]]:
    """Return every tag in use with how many conversations carry it, most used first."""
    rows = db.execute("SELECT tag, count(*) AS n FROM conversation_tags GROUP BY tag ORDER BY n DESC, tag")
    return [(row["tag"], row["n"]) for row in rows]
