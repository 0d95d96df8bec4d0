"""The conversation_tags table: short labels the support team puts on conversations.

A tag is one lower-case word of letters, digits and hyphens (at most 32, with at most 4 digits),
checked here, so a tag cannot hold an email address, a phone, card, order or social security number,
or a sentence typed by mistake; a refused tag is told exactly which rule it broke.
"""
from __future__ import annotations

import re

import sqlcipher3

from app.db import transaction

SHAPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
MAX_LENGTH = 32
MAX_DIGITS = 4  # a year or a version number, never an identifier ("jane-roe-ssn-078051120")
RULE = (f"A tag is one word of letters (a–z), digits and hyphens, at most {MAX_LENGTH} characters, "
        "starting with a letter or digit")


def _refusal(tag: str) -> str | None:
    """Return why the (trimmed, lower-case) tag cannot be stored, or None if it can.

    The reason never quotes the tag: a refused tag may be the very personal data it is refused for.
    """
    if not tag:
        return "Type a tag first."
    if "@" in tag:
        return "That looks like personal data (an email address), so it cannot be a tag."
    if sum(c.isdigit() for c in tag) > MAX_DIGITS:
        return (f"That looks like personal data: a tag holds at most {MAX_DIGITS} digits, so it cannot carry "
                "a phone, card, order or ID number.")
    if len(tag) > MAX_LENGTH:
        return f"{RULE}; that one has {len(tag)} characters."
    if not SHAPE.match(tag):
        odd = next((c for c in tag if not (c.isascii() and (c.isalnum() or c == "-"))), None)
        shown = "has a space" if odd and odd.isspace() else f"has “{odd}”" if odd else "starts with a hyphen"
        return f"{RULE}; that one {shown}."
    return None


def normalise(tag: str) -> str:
    """Return the tag as stored (trimmed, lower-case); ValueError saying why if it has another shape."""
    tag = tag.strip().lower()
    reason = _refusal(tag)
    if reason:
        raise ValueError(reason)
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
