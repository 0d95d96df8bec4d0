"""The agent's side of a live handoff (DESIGN §10): claim and close with a notice the visitor sees,
reply in the conversation, follow new messages, reassign, reveal an address left for a reply, and
how long visitors wait.

Replies go through the same scrubber as visitor messages before they are stored. An agent appears
to visitors under their alias, never their email. Every action is audited; following a
conversation's new messages is part of the audited page view, so polls write no entries.
"""
from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any

from flask import current_app

from app.admin import accounts, audit
from app.chat import handoffs, live_handoff, transcripts
from app.db import get_db, transaction
from app.privacy import contacts

MAX_REPLY_CHARS = 2000


class NotYours(Exception):
    """Only the team member who claimed the handoff may reply in it."""


@dataclass(frozen=True)
class WaitingFigures:
    """Request → first agent reply over the last days: how many, the median and the 90th percentile."""

    answered: int
    median_seconds: float | None
    p90_seconds: float | None


NOTICES = {"claim": "{alias} joined the conversation.", "resolve": "{alias} closed this conversation.",
           "reassign": "{alias} took over the conversation."}


def _change(handoff_id: int, action: str, user: accounts.User, change) -> bool:
    """Apply a handoff change and the notice the visitor sees in one transaction; False if it did not apply."""
    db = get_db()
    with transaction(db):
        done = change(db, handoff_id, user.id)
        if done:
            conversation_id = handoffs.find(db, handoff_id).conversation_id
            transcripts.append_message(db, conversation_id, "notice", NOTICES[action].format(alias=user.alias),
                                       user.alias)
    return done


def act(user: accounts.User, handoff_id: int, action: str) -> bool:
    """Claim or resolve a handoff, tell the visitor who joined or closed it, and audit it; False if
    someone else claimed or closed it first."""
    done = _change(handoff_id, action, user, {"claim": handoffs.claim, "resolve": handoffs.resolve}[action])
    if done:
        audit.record(get_db(), f"user:{user.id}", f"{action}_handoff", f"handoff:{handoff_id}")
    return done


def reassign(actor: accounts.User, handoff_id: int, user_id: int) -> bool:
    """Give an unresolved handoff to another enabled team member (admins); False if it is resolved."""
    db = get_db()
    target = accounts.find(db, user_id)
    if target is None or target.disabled:
        raise ValueError("Choose an enabled team member.")
    if not _change(handoff_id, "reassign", target, handoffs.reassign):
        return False
    audit.record(db, f"user:{actor.id}", "reassign_handoff", f"handoff:{handoff_id}", f"user:{user_id}")
    return True


def reply(user: accounts.User, conversation_id: str, text: str) -> str:
    """Store the claimer's reply (scrubbed) under their alias and time the first one; return its id.

    LookupError: no such conversation; NotYours: the handoff is not claimed by this user;
    ValueError: an empty or too long reply.
    """
    db = get_db()
    conversation = transcripts.find_conversation(db, conversation_id)
    handoff = handoffs.latest(db, conversation_id) if conversation else None
    if conversation is None:
        raise LookupError("no such conversation")
    if handoff is None or handoff.status != "claimed" or handoff.claimed_by_id != user.id:
        raise NotYours()
    if not text.strip() or len(text) > MAX_REPLY_CHARS:
        raise ValueError(f"Write a reply of 1–{MAX_REPLY_CHARS} characters.")
    with transaction(db):
        message_id = live_handoff.store_scrubbed(conversation_id, conversation.visitor_id, "agent", text.strip(),
                                                 user.alias)
        handoffs.note_reply(db, handoff.id)
    audit.record(db, f"user:{user.id}", "reply_handoff", f"conversation:{conversation_id}")
    return message_id


def follow(user: accounts.User, conversation_id: str, after: str | None) -> dict[str, Any] | None:
    """Return the conversation's messages after `after` and its handoff, for the live console page.

    The page view that hands out `after` was audited; reading from the start (no or an unknown
    `after`) is a view of its own and is audited like one.
    """
    db = get_db()
    if transcripts.find_conversation(db, conversation_id) is None:
        return None
    if not after or not transcripts.has_message(db, conversation_id, after):
        audit.record(db, f"user:{user.id}", "view_conversation", f"conversation:{conversation_id}")
        after = None
    handoff = handoffs.latest(db, conversation_id)
    state = None if handoff is None else {"status": handoff.status, "agent": handoff.agent,
                                          "mine": handoff.claimed_by_id == user.id}
    messages = [{k: m[k] for k in ("id", "role", "author", "text", "created_at")}
                for m in transcripts.messages_of(db, conversation_id, after)]
    return {"messages": messages, "handoff": state, "waiting": handoffs.count_waiting(db)}


def has_contact(handoff_id: int) -> bool:
    """Say whether the visitor left an address for this handoff (without reading it)."""
    return contacts.has_contact(get_db(), handoff_id)


def reveal_contact(user: accounts.User, handoff_id: int, reason: str) -> str:
    """Return the address left for the handoff, auditing the read with the (scrubbed) reason.

    ValueError without a reason of 5–300 characters; LookupError if no address was left.
    """
    if not 5 <= len(reason.strip()) <= 300:
        raise ValueError("Say why you need the address (5–300 characters); it is recorded.")
    db = get_db()
    contact = contacts.of_handoff(db, handoff_id)
    if contact is None:
        raise LookupError("no address was left for this handoff")
    why = current_app.extensions["pipeline"].scrubber.scrub(reason.strip()).text
    audit.record(db, f"user:{user.id}", "reveal_contact", f"handoff:{handoff_id}", why)
    return contact.email


def waiting_figures(days: int = 7) -> WaitingFigures:
    """Return how long visitors waited for a first reply over the last days."""
    times = handoffs.waiting_times(get_db(), days)
    if not times:
        return WaitingFigures(0, None, None)
    p90 = statistics.quantiles(times, n=10, method="inclusive")[-1] if len(times) > 1 else times[0]
    return WaitingFigures(len(times), statistics.median(times), p90)


def waiting_count() -> int:
    """Count handoffs nobody has resolved yet (the navigation badge)."""
    return handoffs.count_waiting(get_db())


def team() -> list[dict[str, Any]]:
    """Return enabled team members for the reassign form (alias and role; no customer data)."""
    return [asdict(u) for u in accounts.listing(get_db()) if not u.disabled]
