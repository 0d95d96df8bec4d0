"""The visitor's side of a live handoff (DESIGN §10): ask for a person, write to them, end it, or
leave an email address when nobody can answer.

A person can only help if the conversation is kept, so asking needs `transcripts` consent (granted
here, inline, as an ordinary event with source `handoff`). While a team member has claimed the
handoff the bot is silent: the visitor's messages are scrubbed and stored for the agent instead.
State lives in the database, so any worker can serve either side.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Flask, current_app

from app.chat import analytics, handoffs, support_hours, transcripts
from app.config import ConfigError
from app.db import get_db, transaction
from app.privacy import consent, contacts, subjects
from app.privacy.placeholders import Placeholders, fingerprint

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class ConsentRequired(Exception):
    """A handoff needs the visitor's consent to keep the conversation."""


class ContactRefused(ValueError):
    """An email address cannot be left now (or is not an address); the message says why."""


@dataclass(frozen=True)
class HandoffState:
    """What the visitor's widget needs to know about the conversation's handoff."""

    status: str  # none | open | claimed | resolved
    agent: str | None  # the alias of the person answering
    requested_at: str | None
    nobody_around: str | None  # None | "outside_hours" | "no_answer": offer to leave an email instead
    contact_left: bool
    support_hours: str  # e.g. "Mon–Fri 09:00–18:00 (Europe/Berlin)"; "" when always staffed


def _nobody_around(handoff: handoffs.Handoff) -> str | None:
    if handoff.status != "open":
        return None
    if not current_app.extensions["support_hours"].is_open(datetime.now(timezone.utc)):
        return "outside_hours"
    waited = handoff.waiting_seconds or 0.0
    return "no_answer" if waited >= current_app.config["HANDOFF_TIMEOUT_MINUTES"] * 60 else None


def state(conversation: transcripts.Conversation) -> HandoffState:
    """Return the state of the conversation's newest handoff."""
    db, hours = get_db(), current_app.extensions["support_hours"].describe()
    handoff = handoffs.latest(db, conversation.id)
    if handoff is None:
        return HandoffState("none", None, None, None, False, hours)
    return HandoffState(handoff.status, handoff.agent, handoff.created_at, _nobody_around(handoff),
                        contacts.has_contact(db, handoff.id), hours)


def ask(conversation: transcripts.Conversation, grant: bool) -> tuple[HandoffState, bool]:
    """Open a handoff (granting `transcripts` first if the visitor just agreed); return the state and
    whether it is new. Raise ConsentRequired without that consent."""
    db = get_db()
    granted = consent.current(db, conversation.visitor_id)
    if not granted["transcripts"]:
        if not grant:
            raise ConsentRequired()
        consent.record(db, conversation.visitor_id, {"transcripts": True},
                       current_app.config["POLICY_VERSION"], "handoff")
    _, created = handoffs.request(db, conversation.id)
    if created and granted["analytics"]:
        analytics.add(db, ["handoff"])
    if created:
        _notify_team(conversation.id)
    return state(conversation), created


def _notify_team(conversation_id: str) -> None:
    """Tell the team by mail that someone is waiting; the mail names no visitor and quotes nothing."""
    notifier = current_app.extensions.get("notifier")
    if notifier is not None and notifier.enabled:
        base = current_app.config["PUBLIC_URL"].rstrip("/")
        notifier.send_waiting(f"{base}/admin/conversations/{conversation_id}", handoffs.count_waiting(get_db()))


def store_scrubbed(conversation_id: str, visitor_id: int, role: str, text: str, author: str | None = None) -> str:
    """Scrub text with the conversation's placeholders and store it as a message; return its id.

    Used for what visitors write to a person and what the person writes back: both are kept only
    as scrubbed text. Only the visitor's own messages add to the data-subject lookup: an address an
    agent writes is not one the visitor gave.
    """
    db, scrubber = get_db(), current_app.extensions["pipeline"].scrubber
    placeholders = Placeholders(*transcripts.placeholders(db, conversation_id))
    scrubbed = scrubber.scrub(text, placeholders, keep=(author,) if author else ())  # an agent's own alias
    mentions = [subjects.Mention(f.entity_type, f.fingerprint, conversation_id, f.placeholder)
                for f in scrubbed.entities if f.fingerprint and role == "visitor"]
    with transaction(db):
        message_id = transcripts.append_message(db, conversation_id, role, scrubbed.text, author)
        transcripts.remember_placeholders(db, conversation_id, placeholders.labels)
        subjects.remember(db, visitor_id, mentions)
    return message_id


def agent_is_answering(conversation: transcripts.Conversation) -> bool:
    """Say whether a team member has claimed the conversation (then the bot stays silent)."""
    handoff = handoffs.latest(get_db(), conversation.id)
    return handoff is not None and handoff.status == "claimed"


def relay(conversation: transcripts.Conversation, text: str) -> str:
    """Store a visitor message for the person answering (no bot reply); return its id."""
    return store_scrubbed(conversation.id, conversation.visitor_id, "visitor", text)


def end(conversation: transcripts.Conversation) -> HandoffState:
    """The visitor ends the handoff from the widget; the bot answers again."""
    db = get_db()
    handoff = handoffs.latest(db, conversation.id)
    with transaction(db):
        if handoff is not None and handoffs.resolve(db, handoff.id, None):
            transcripts.append_message(db, conversation.id, "notice",
                                       "The visitor ended the conversation with the support team.")
    return state(conversation)


def leave_contact(conversation: transcripts.Conversation, email: str) -> HandoffState:
    """Keep an email address for a reply (consent purpose `contact`, source `handoff`) while nobody
    can answer; its keyed hash joins subject_keys. Raise ContactRefused otherwise."""
    db, email = get_db(), email.strip()
    handoff = handoffs.latest(db, conversation.id)
    if handoff is None or handoff.status != "open":
        raise ContactRefused("There is no open request for a person in this conversation.")
    if not EMAIL.match(email) or len(email) > 254:
        raise ContactRefused("Enter an email address such as name@example.com.")
    consent.record(db, conversation.visitor_id, {"contact": True}, current_app.config["POLICY_VERSION"], "handoff")
    key = fingerprint(current_app.config["SUBJECT_KEY"].encode(), "EMAIL_ADDRESS", email)
    with transaction(db):
        contacts.leave(db, conversation.visitor_id, handoff.id, email)
        subjects.remember(db, conversation.visitor_id, [subjects.Mention("EMAIL_ADDRESS", key, conversation.id,
                                                                           subjects.CONTACT)])
    return state(conversation)


def init_app(app: Flask) -> None:
    """Read the support hours once; a malformed QUIETDESK_SUPPORT_HOURS stops start-up."""
    try:
        app.extensions["support_hours"] = support_hours.parse(app.config["SUPPORT_HOURS"])
    except ValueError as error:
        raise ConfigError(f"QUIETDESK_SUPPORT_HOURS: {error}") from None
