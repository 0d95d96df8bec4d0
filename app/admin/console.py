"""Console use cases for the whole team: sign in with throttling, sign out everywhere, review, search
and download the conversation list, work the handoff queue, read the audit log.

Every read of customer data here writes an audit entry naming the console user and the subject
by internal id; so does every change to a handoff.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict
from datetime import date
from typing import Any, Mapping

from app import limits
from app.admin import accounts, audit
from app.admin.auth import (
    ACCOUNT_FAILURES,
    ADDRESS_FAILURES,
    THROTTLE_MINUTES,
    ConsoleUser,
    TooManyAttempts,
    client_network,
)
from app.chat import handoffs, tags, transcripts
from app.db import get_db

PAGE_SIZE = 25
SEARCH_CHARS, SEARCH_WORDS = 200, 8
EXPORT_ROWS = 10_000  # a CSV holds at most this many conversations, most recently active first
CSV_COLUMNS = ("id", "created_at", "active_at", "first_question", "messages", "unanswered", "thumbs_up",
               "thumbs_down", "handoff", "tags")
FILTER_CHOICES = {name: ("all", *choices) for name, choices in transcripts.CHOICES.items()}


def sign_in(email: str, password: str, address: str) -> ConsoleUser | None:
    """Return the user for correct credentials; count failures per client network and per account there.

    Raises TooManyAttempts once the network has too many recent failures. An account is throttled
    only for the network its failures came from, so a stranger's wrong guesses never refuse the
    owner's right password from elsewhere. The attempt is counted before the password is checked, so
    parallel guesses see each other; only keyed hashes of the typed email and the network are kept.
    """
    db, account = get_db(), limits.keyed_hash(email.lower())
    network = limits.keyed_hash(client_network(address))
    wait = accounts.refused_for(db, ADDRESS_FAILURES, THROTTLE_MINUTES, network)
    if wait:
        raise TooManyAttempts(wait)
    throttled = accounts.refused_for(db, ACCOUNT_FAILURES, THROTTLE_MINUTES, network, account) > 0
    attempt = accounts.record_attempt(db, account, network)
    user = None if throttled else accounts.verify_password(db, email, password)
    if user is None:
        return None
    accounts.forgive_attempt(db, attempt)
    audit.record(db, f"user:{user.id}", "sign_in", f"user:{user.id}")
    return ConsoleUser(user)


def sign_out(user: accounts.User) -> None:
    """End every session of this user, this one included."""
    accounts.bump_session(get_db(), user.id)
    audit.record(get_db(), f"user:{user.id}", "sign_out", f"user:{user.id}")


def page_number(raw: str | None) -> int:
    """Read a ?page= value: a positive number, else the first page."""
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 10**6 else 1


def _search_words(typed: str) -> str | None:
    """Return the words to search for (letters and digits only, so no search syntax gets through)."""
    typed = typed.strip()
    if len(typed) > SEARCH_CHARS:
        raise ValueError(f"Search for at most {SEARCH_CHARS} characters.")
    words = re.findall(r"[^\W_]+", typed)[:SEARCH_WORDS]
    if typed and not words:
        raise ValueError("Search for words: letters or digits.")
    return " ".join(words) or None


def parse_filters(args: Mapping[str, str]) -> transcripts.Filters:
    """Read the conversation filters from a query string; ValueError names a bad one."""
    values = {}
    for name, choices in transcripts.CHOICES.items():
        value = args.get(name) or "all"
        if value != "all" and value not in choices:
            raise ValueError(f"Unknown {name} filter: choose one of all, {', '.join(choices)}.")
        values[name] = value
    if args.get("tag"):
        values["tag"] = tags.normalise(args["tag"])
    values["search"] = _search_words(args.get("q", ""))
    for name in ("since", "until"):
        if args.get(name):
            try:
                values[name] = date.fromisoformat(args[name]).isoformat()
            except ValueError:
                raise ValueError(f"Enter the {name} date as YYYY-MM-DD.") from None
    return transcripts.Filters(**values)


def conversations(user: accounts.User, filters: transcripts.Filters, page: int) -> list[dict[str, Any]]:
    """Return one page of conversation summaries (each with its first visitor question and the total
    matching), and audit the listing; a search is audited by its number of results, never its words."""
    db = get_db()
    rows = transcripts.summaries(db, filters, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    if filters.search:
        audit.record(db, f"user:{user.id}", "search_conversations", f"page:{page}",
                     f"results:{rows[0]['total'] if rows else 0}")
    else:
        audit.record(db, f"user:{user.id}", "list_conversations", f"page:{page}")
    return rows


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: visitor words starting with = + - @ never run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def conversations_csv(user: accounts.User, filters: transcripts.Filters) -> str:
    """Return the filtered list as CSV (the first EXPORT_ROWS), and audit the download like a view."""
    db = get_db()
    rows = transcripts.summaries(db, filters, EXPORT_ROWS, 0)
    # Whether it was a search, never its words: the log outlives an erasure.
    audit.record(db, f"user:{user.id}", "export_conversation_list", f"conversations:{len(rows)}",
                 "searched" if filters.search else "")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([_cell(row[column]) for column in CSV_COLUMNS] for row in rows)
    return out.getvalue()


def conversation(user: accounts.User, conversation_id: str) -> dict[str, Any] | None:
    """Return one conversation with its scrubbed messages, and audit the view; None if unknown."""
    db = get_db()
    found = transcripts.find_conversation(db, conversation_id)
    if found is None:
        return None
    audit.record(db, f"user:{user.id}", "view_conversation", f"conversation:{found.id}")
    return {"id": found.id, "created_at": found.created_at, "messages": transcripts.messages_of(db, found.id),
            "handoffs": handoffs.of_conversation(db, found.id), "tags": tags.of_conversation(db, found.id)}


def tags_in_use() -> list[tuple[str, int]]:
    """Return every tag in use with its count (labels only: nothing to audit)."""
    return tags.in_use(get_db())


def change_tag(user: accounts.User, conversation_id: str, tag: str, add: bool) -> bool:
    """Tag or untag a conversation and audit it; ValueError for a badly shaped tag, LookupError
    for an unknown conversation; False if nothing changed."""
    db = get_db()
    if transcripts.find_conversation(db, conversation_id) is None:
        raise LookupError("no such conversation")
    tag = tags.normalise(tag)
    changed = tags.add(db, conversation_id, tag, user.id) if add else tags.remove(db, conversation_id, tag)
    if changed:
        # No tag text in the audit detail: the log outlives an erasure, and a tag is free text.
        audit.record(db, f"user:{user.id}", "tag_conversation" if add else "untag_conversation",
                     f"conversation:{conversation_id}")
    return changed


def handoff_queue(user: accounts.User, include_resolved: bool) -> list[handoffs.Handoff]:
    """Return the handoff queue, waiting longest first, and audit the view."""
    db = get_db()
    audit.record(db, f"user:{user.id}", "view_handoffs", "queue")
    return handoffs.queue(db, include_resolved)


def audit_trail(page: int) -> tuple[list[dict[str, Any]], int | None, tuple[int, str] | None]:
    """Return one page of the audit log (newest first, actors by email), the first broken row and
    the head (newest id and hash)."""
    db = get_db()
    emails = {f"user:{u.id}": u.email for u in accounts.listing(db)}
    rows = [{**asdict(e), "actor_email": emails.get(e.actor)}
            for e in audit.entries(db, PAGE_SIZE * 2, (page - 1) * PAGE_SIZE * 2)]
    return rows, audit.first_broken(db), audit.head(db)
