"""The live handoff (issue 15) through the API and the console: consent first, the agent's reply
reaches the visitor, the bot is silent while a person answers, closing, waiting times, and the
address left for a reply when nobody is around — kept only in its own encrypted table."""
from __future__ import annotations

import email
import email.policy
import io
import logging
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app import create_app
from app.admin import accounts, audit
from app.privacy.retention import purge
from app.privacy.placeholders import fingerprint
from tests.conftest import TEST_SUBJECT_KEY, Visitor
from tests.test_admin_pages import PASSWORD, Console, database
from tests.test_notify import inbox  # noqa: F401  (a real SMTP server on loopback, as a fixture)

ADDRESS = "wren.okafor.3391@example.net"


@pytest.fixture
def team(app):
    db = database(app)
    return {"lead": accounts.create_user(db, "lead@example.com", "admin", PASSWORD, alias="Sam"),
            "rev": accounts.create_user(db, "rev@example.com", "reviewer", PASSWORD, alias="Robin")}


def poll(visitor: Visitor, after: str | None = None) -> dict:
    query = f"?after={after}" if after else ""
    response = visitor.client.get(f"/api/v1/conversations/{visitor.conversation_id}/messages{query}",
                                  headers=visitor.auth)
    assert response.status_code == 200, response.json
    return response.json


def ask_for_person(visitor: Visitor) -> dict:
    response = visitor.client.post(f"/api/v1/conversations/{visitor.conversation_id}/handoff",
                                   json={"grant_transcripts": True}, headers=visitor.auth)
    assert response.status_code in (200, 201), response.json
    return response.json


def handoff_id(app, visitor: Visitor) -> int:
    return database(app).execute("SELECT id FROM handoffs WHERE conversation_id = ?",
                                 (visitor.conversation_id,)).fetchone()[0]


def test_an_agent_takes_over_answers_and_hands_back_to_the_bot(app, client, team):
    visitor = Visitor(client)
    first = visitor.say("Is shipping free?").json
    assert first["answer"] and first["human_requested"] is False
    state = ask_for_person(visitor)
    assert state["status"] == "open" and state["agent"] is None and state["nobody_around"] is None
    sam, robin = Console(app, "lead@example.com"), Console(app, "rev@example.com")
    assert sam.get("/admin/handoffs/waiting").json == {"waiting": 1}
    number = handoff_id(app, visitor)
    assert sam.post(f"/admin/handoffs/{number}/claim").status_code == 302
    joined = poll(visitor)
    assert joined["handoff"]["status"] == "claimed" and joined["handoff"]["agent"] == "Sam"
    assert joined["messages"][-1]["role"] == "notice" and joined["messages"][-1]["text"] == "Sam joined the conversation."
    seen = joined["messages"][-1]["id"]

    robin.post(f"/admin/conversations/{visitor.conversation_id}/reply", {"text": "Not yours to answer"})
    sam.post(f"/admin/conversations/{visitor.conversation_id}/reply",
             {"text": f"Hi, I'm Sam. I can send the label to {ADDRESS} if you like."})
    fresh = poll(visitor, seen)["messages"]
    assert [(m["role"], m["author"]) for m in fresh] == [("agent", "Sam")]  # Robin's attempt was refused
    assert "<EMAIL_ADDRESS_1>" in fresh[0]["text"] and ADDRESS not in fresh[0]["text"]  # scrubbed like the visitor
    assert fresh[0]["text"].startswith("Hi, I'm Sam.")  # but the agent's own alias is theirs to say
    assert database(app).execute("SELECT count(*) FROM subject_keys").fetchone()[0] == 0  # not the visitor's

    silent = visitor.say("Yes please, and is shipping free for floor lamps?").json
    assert silent["answer"] is None and silent["handoff"]["agent"] == "Sam"
    live = sam.get(f"/admin/conversations/{visitor.conversation_id}/live?after={fresh[0]['id']}").json
    assert [(m["role"], m["text"]) for m in live["messages"]] == [
        ("visitor", "Yes please, and is shipping free for floor lamps?")]  # no bot answer was made
    assert live["handoff"] == {"status": "claimed", "agent": "Sam", "mine": True}

    sam.post(f"/admin/handoffs/{number}/resolve")
    closed = poll(visitor, live["messages"][-1]["id"])
    assert closed["handoff"]["status"] == "resolved" and closed["messages"][-1]["text"] == "Sam closed this conversation."
    assert visitor.say("How long is the warranty?").json["answer"]  # the bot answers again
    home = sam.text("/admin/")
    assert re.search(r"median <strong>\d+ s</strong>, 90th percentile <strong>\d+ s</strong> over 1 handoff", home)
    actions = [e.action for e in audit.entries(database(app))]
    assert {"claim_handoff", "reply_handoff", "resolve_handoff"} <= set(actions)
    row = database(app).execute("SELECT first_reply_at, created_at FROM handoffs").fetchone()
    assert row["first_reply_at"] > row["created_at"]


def test_asking_in_words_starts_the_handoff_and_no_article_is_quoted(visitor):
    for text in ("Can I talk to a human please?", "agent", "Kann ich mit einem Mitarbeiter sprechen?",
                 "Can I talk to Sarah Miller again?",  # by name: read as the scrubber leaves it, <PERSON_1>
                 "Are you a bot? I want to talk to a human",  # each sentence judged alone
                 "It still fails with E12 after three resets.\nCan I please talk to a real person?"):
        reply = visitor.say(text).json
        assert reply["human_requested"] is True and reply["sources"] == [], text
    assert visitor.say("How do I add a person to my account?").json["human_requested"] is False


def test_asking_for_someone_by_name_starts_the_handoff_and_the_name_is_stored_scrubbed(app):
    """The request is recognised on the scrubbed text ("talk to <PERSON_1>"); the kept turn holds the
    placeholder, and no file under the instance folder (database, logs, index) holds the name."""
    visitor = Visitor(app.test_client())
    visitor.consent(transcripts=True)
    assert visitor.say("Can I talk to Sarah Miller again?").json["human_requested"] is True
    stored = database(app).execute("SELECT text FROM messages WHERE role = 'visitor'")
    assert [row["text"] for row in stored] == ["Can I talk to <PERSON_1> again?"]
    files = [path for path in Path(app.config["INSTANCE"]).rglob("*") if path.is_file()]
    assert any(path.suffix == ".db" for path in files), files
    for path in files:
        assert b"Sarah" not in path.read_bytes() and b"Miller" not in path.read_bytes(), path


def test_an_admin_reassigns_and_the_visitor_is_told(app, client, team):
    visitor = Visitor(client)
    ask_for_person(visitor)
    number = handoff_id(app, visitor)
    sam, robin = Console(app, "lead@example.com"), Console(app, "rev@example.com")
    robin.post(f"/admin/handoffs/{number}/claim")
    assert robin.post(f"/admin/handoffs/{number}/assign", {"user_id": str(team["lead"].id)}).status_code == 403
    sam.post(f"/admin/handoffs/{number}/assign", {"user_id": str(team["lead"].id)})
    assert poll(visitor)["messages"][-1]["text"] == "Sam took over the conversation."
    assert "Reply to the visitor as Sam" in sam.text(f"/admin/conversations/{visitor.conversation_id}")
    assert "Reply to the visitor" not in robin.text(f"/admin/conversations/{visitor.conversation_id}")


def test_the_visitor_ends_the_handoff_or_withdrawing_consent_does(app, client, team):
    visitor = Visitor(client)
    ask_for_person(visitor)
    ended = visitor.client.post(f"/api/v1/conversations/{visitor.conversation_id}/handoff/end", headers=visitor.auth)
    assert ended.json["status"] == "resolved"
    ask_for_person(visitor)
    visitor.consent(transcripts=False)
    assert poll(visitor)["handoff"]["status"] == "resolved"
    assert database(app).execute("SELECT count(*) FROM handoffs WHERE status != 'resolved'").fetchone()[0] == 0


@pytest.fixture
def closed_app(instance, scrubber, embedder, kb_index):
    """An app whose support hours exclude today, whatever day the test runs."""
    tomorrow = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[(datetime.now(timezone.utc).weekday() + 1) % 7]
    return create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber, "EMBEDDER": embedder,
                       "INDEX": kb_index, "SUBJECT_KEY": TEST_SUBJECT_KEY,
                       "SUPPORT_HOURS": f"{tomorrow} 09:00-17:00 UTC", "CONTACT_RETENTION_DAYS": 7})


def test_nobody_around_a_left_address_stays_in_its_own_table_revealed_only_with_a_reason(closed_app):
    app = closed_app
    db = database(app)
    accounts.create_user(db, "lead@example.com", "admin", PASSWORD, alias="Sam")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    try:
        visitor = Visitor(app.test_client())
        state = ask_for_person(visitor)
        assert state["nobody_around"] == "outside_hours" and "09:00" in state["support_hours"]
        url = f"/api/v1/conversations/{visitor.conversation_id}/contact"
        bad = visitor.client.post(url, json={"email": "not-an-address"}, headers=visitor.auth)
        assert (bad.status_code, bad.json["error"]) == (400, "invalid_request")
        left = visitor.client.post(url, json={"email": ADDRESS}, headers=visitor.auth)
        assert left.status_code == 200 and left.json["contact_left"] is True
        consent = [(e["purpose"], e["source"]) for e in visitor.client.get("/api/v1/me/export", headers=visitor.auth)
                   .json["consent"]["history"]]
        assert consent == [("transcripts", "handoff"), ("contact", "handoff")]
        sam = Console(app, "lead@example.com")
        number = handoff_id(app, visitor)
        pages = sam.text("/admin/handoffs") + sam.text("/admin/conversations") + sam.text(
            f"/admin/conversations/{visitor.conversation_id}")
        assert ADDRESS not in pages and "left an email address for a reply" in pages
        assert sam.post(f"/admin/handoffs/{number}/contact", {"reason": ""}).status_code == 400
        revealed = sam.post(f"/admin/handoffs/{number}/contact", {"reason": "reply about the refund, ticket 12"})
        assert ADDRESS in revealed.get_data(as_text=True) and revealed.headers["Cache-Control"] == "no-store"
        entry = next(e for e in audit.entries(db) if e.action == "reveal_contact")
        assert entry.detail == "reply about the refund, ticket 12" and ADDRESS not in sam.text("/admin/audit")
        key = fingerprint(TEST_SUBJECT_KEY.encode(), "EMAIL_ADDRESS", ADDRESS.upper())
        assert db.execute("SELECT count(*) FROM subject_keys WHERE fingerprint = ?", (key,)).fetchone()[0] == 1
        exported = visitor.client.get("/api/v1/me/export", headers=visitor.auth).json
        assert exported["contacts"][0]["email"] == ADDRESS
        assert ADDRESS not in stream.getvalue()
    finally:
        logging.getLogger().removeHandler(handler)
    sam.post(f"/admin/handoffs/{number}/resolve")
    purge(db, 30, now=datetime.now(timezone.utc) + timedelta(days=6))
    assert db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 1  # resolved 6 days ago: still kept
    purge(db, 30, now=datetime.now(timezone.utc) + timedelta(days=8))
    assert db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0


def test_a_left_address_goes_with_erasure_and_with_withdrawal(closed_app):
    app = closed_app
    visitors = [Visitor(app.test_client()) for _ in range(2)]
    for visitor in visitors:
        ask_for_person(visitor)
        visitor.client.post(f"/api/v1/conversations/{visitor.conversation_id}/contact", json={"email": ADDRESS},
                            headers=visitor.auth)
    db = database(app)
    assert db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 2
    erased = visitors[0].client.delete("/api/v1/me", headers=visitors[0].auth).json["deleted"]
    assert erased["contacts"] == 1
    visitors[1].consent(contact=False)
    assert db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0


def test_an_unclaimed_handoff_offers_the_address_after_the_timeout(instance, scrubber, embedder, kb_index):
    app = create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber, "EMBEDDER": embedder,
                      "INDEX": kb_index, "HANDOFF_TIMEOUT_MINUTES": 0})
    visitor = Visitor(app.test_client())
    assert ask_for_person(visitor)["nobody_around"] == "no_answer"


def test_polling_is_limited_per_visitor_not_by_the_message_budget(instance, scrubber, embedder, kb_index):
    app = create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber, "EMBEDDER": embedder,
                      "INDEX": kb_index, "RATE_MESSAGES_PER_VISITOR": 2, "RATE_REQUESTS_PER_ADDRESS": 10,
                      "RATE_POLLS_PER_VISITOR": 30})
    visitor = Visitor(app.test_client())
    url = f"/api/v1/conversations/{visitor.conversation_id}/messages"
    statuses = [visitor.client.get(url, headers=visitor.auth).status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429  # 30 polls: a minute of 2-second polling
    assert visitor.say("Is shipping free?").status_code == 200  # the message budget is untouched


def test_the_team_is_mailed_that_someone_waits_without_a_word_of_the_conversation(instance, scrubber, embedder,
                                                                                   kb_index, inbox):
    handler, port = inbox
    app = create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber, "EMBEDDER": embedder,
                      "INDEX": kb_index, "SMTP_URL": f"smtp://127.0.0.1:{port}", "PUBLIC_URL": "https://desk.example",
                      "NOTIFY_EMAILS": "team@example.com, lead@example.com"})
    visitor = Visitor(app.test_client())
    visitor.say(f"My email is {ADDRESS} and my lamp blinks red")
    ask_for_person(visitor)
    ask_for_person(visitor)  # asking again notifies nobody twice
    deadline = datetime.now() + timedelta(seconds=10)
    while not handler.envelopes and datetime.now() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert len(handler.envelopes) == 1
    envelope = handler.envelopes[0]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default).get_body().get_content()
    assert sorted(envelope.rcpt_tos) == ["lead@example.com", "team@example.com"]
    assert f"https://desk.example/admin/conversations/{visitor.conversation_id}" in mail
    assert ADDRESS not in mail and "blinks" not in mail and "lamp" not in mail.lower()


def test_reading_a_conversation_from_its_start_through_the_live_feed_is_audited(app, client, team):
    visitor = Visitor(client)
    ask_for_person(visitor)
    visitor.say("Is shipping free?")
    sam = Console(app, "lead@example.com")
    views = lambda: sum(1 for e in audit.entries(database(app)) if e.action == "view_conversation")  # noqa: E731
    everything = sam.get(f"/admin/conversations/{visitor.conversation_id}/live").json["messages"]
    assert len(everything) == 2 and views() == 1
    newer = sam.get(f"/admin/conversations/{visitor.conversation_id}/live?after={everything[0]['id']}").json
    assert len(newer["messages"]) == 1 and views() == 1  # a continuation of an audited view
    sam.get(f"/admin/conversations/{visitor.conversation_id}/live?after=made-up")
    assert views() == 2
