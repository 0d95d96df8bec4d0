"""Consent gates storage; stored text is scrubbed; visitors export and erase only their own data."""
from __future__ import annotations

import jsonschema
import pytest

from app.db import connect
from app.privacy.retention import purge
from tests.conftest import Visitor

EMAIL = "Jane.Roe.5521@Example.com"


def rows(app, sql, *args):
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    try:
        return [tuple(r) for r in db.execute(sql, args)]
    finally:
        db.close()


def test_consent_defaults_to_nothing_and_changes_append_events(client, visitor):
    assert client.get("/api/v1/consent", headers=visitor.auth).json == {"transcripts": False, "analytics": False, "contact": False}
    response = client.put("/api/v1/consent", json={"transcripts": True}, headers={
        **visitor.auth, "Origin": "https://shop.example"})
    assert response.json == {"transcripts": True, "analytics": False, "contact": False}
    visitor.consent(transcripts=True)  # no change, no event
    visitor.consent(transcripts=False, analytics=True)
    history = client.get("/api/v1/me/export", headers=visitor.auth).json["consent"]["history"]
    assert [(e["purpose"], e["granted"]) for e in history] == [
        ("transcripts", True), ("transcripts", False), ("analytics", True)]
    # Not on QUIETDESK_CORS_ORIGINS (empty here): a fixed word, never the header's text.
    assert history[0]["source"] == "unlisted-origin" and history[1]["source"] == "api"
    assert all(e["policy_version"] == "2026-11" and e["created_at"] for e in history)


@pytest.mark.parametrize("body, status", [
    ({}, 400), ({"transcripts": "yes"}, 400), ({"marketing": True}, 400), ({"transcripts": 1}, 400),
    (["transcripts"], 400), (None, 415),
])
def test_bad_consent_bodies_are_rejected_and_change_nothing(client, visitor, body, status):
    kwargs = {"json": body} if body is not None else {"data": "transcripts=1",
                                                      "content_type": "application/x-www-form-urlencoded"}
    response = client.put("/api/v1/consent", headers=visitor.auth, **kwargs)
    assert response.status_code == status and response.json["error"]
    assert client.get("/api/v1/consent", headers=visitor.auth).json == {"transcripts": False, "analytics": False, "contact": False}


def test_without_consent_the_bot_answers_and_stores_nothing(app, visitor):
    reply = visitor.say(f"I'm Jane Roe, {EMAIL}, is shipping free?")
    assert reply.status_code == 200 and reply.json["sources"]
    assert rows(app, "SELECT count(*) FROM messages") == [(0,)]
    assert rows(app, "SELECT count(*) FROM subject_keys") == [(0,)]


def test_with_consent_turns_are_stored_scrubbed_with_the_reply(app, visitor):
    visitor.consent(transcripts=True)
    reply = visitor.say(f"Hi, I'm Jane Roe and my email is {EMAIL}. Is shipping free?").json
    stored = rows(app, "SELECT role, text, sources, confidence FROM messages ORDER BY rowid")
    assert [r[0] for r in stored] == ["visitor", "bot"]
    visitor_text = stored[0][1]
    assert EMAIL not in visitor_text and EMAIL.lower() not in visitor_text and "Jane" not in visitor_text
    assert "<EMAIL_ADDRESS_1>" in visitor_text and "shipping free" in visitor_text
    assert stored[1][1] == reply["answer"] and stored[1][3] == reply["confidence"]
    assert "/articles/shipping" in stored[1][2]


def test_same_value_keeps_its_placeholder_across_turns(app, visitor):
    visitor.consent(transcripts=True)
    visitor.say(f"my email is {EMAIL}")
    visitor.say(f"again, it is {EMAIL.lower()} and my other one is sam.poe@example.net")
    texts = [r[0] for r in rows(app, "SELECT text FROM messages WHERE role = 'visitor' ORDER BY rowid")]
    assert "<EMAIL_ADDRESS_1>" in texts[0]
    assert "<EMAIL_ADDRESS_1>" in texts[1] and "<EMAIL_ADDRESS_2>" in texts[1]


def test_withdrawal_stops_storage_from_the_next_request(app, visitor):
    visitor.consent(transcripts=True)
    visitor.say("is shipping free?")
    visitor.consent(transcripts=False)
    visitor.say("how do I reset my password?")
    assert rows(app, "SELECT count(*) FROM messages") == [(2,)]


def test_subject_keys_find_the_visitor_by_normalised_email(app, visitor, scrubber):
    from app.privacy.placeholders import fingerprint
    visitor.consent(transcripts=True)
    visitor.say(f"please write to {EMAIL}")
    key = fingerprint(b"test-subject-key", "EMAIL_ADDRESS", EMAIL.upper())
    assert rows(app, "SELECT count(*) FROM subject_keys WHERE fingerprint = ?", key) == [(1,)]
    assert rows(app, "SELECT count(*) FROM subject_keys WHERE fingerprint = ?",
                fingerprint(b"test-subject-key", "EMAIL_ADDRESS", "someone.else@example.com")) == [(0,)]


def test_feedback_on_own_stored_answer(client, visitor):
    visitor.consent(transcripts=True)
    message_id = visitor.say("is shipping free?").json["message_id"]
    url = f"/api/v1/messages/{message_id}/feedback"
    assert client.post(url, json={"rating": "up"}, headers=visitor.auth).status_code == 200
    assert client.post(url, json={"rating": "down"}, headers=visitor.auth).status_code == 200
    for bad in ({"rating": "meh"}, {}, {"rating": None}):
        assert client.post(url, json=bad, headers=visitor.auth).json["error"] == "invalid_request"
    other = Visitor(client)
    assert client.post(url, json={"rating": "up"}, headers=other.auth).status_code == 404
    assert client.post(url, json={"rating": "up"}).status_code == 401
    exported = client.get("/api/v1/me/export", headers=visitor.auth).json
    assert [m["feedback"] for m in exported["conversations"][0]["messages"]] == [None, "down"]


def test_feedback_without_consent_is_not_found(client, visitor):
    message_id = visitor.say("is shipping free?").json["message_id"]
    response = client.post(f"/api/v1/messages/{message_id}/feedback", json={"rating": "up"}, headers=visitor.auth)
    assert (response.status_code, response.json["error"]) == (404, "not_found")


def test_handoff_needs_the_conversation_kept_and_opens_once_on_own_conversation(app, client, visitor):
    url = f"/api/v1/conversations/{visitor.conversation_id}/handoff"
    refused = client.post(url, headers=visitor.auth)
    assert (refused.status_code, refused.json["error"]) == (409, "consent_required")
    assert rows(app, "SELECT count(*) FROM handoffs") == [(0,)] and rows(app, "SELECT count(*) FROM consent_events") == [(0,)]
    first = client.post(url, json={"grant_transcripts": True}, headers=visitor.auth)
    assert first.status_code == 201 and first.json["status"] == "open"
    assert rows(app, "SELECT purpose, granted, source FROM consent_events") == [("transcripts", 1, "handoff")]
    again = client.post(url, headers=visitor.auth)
    assert again.status_code == 200 and again.json["requested_at"] == first.json["requested_at"]
    other = Visitor(client)
    other.consent(transcripts=True)
    assert client.post(url, headers=other.auth).status_code == 404
    bad = client.post(url, json={"grant_transcripts": "yes"}, headers=visitor.auth)
    assert (bad.status_code, bad.json["error"]) == (400, "invalid_request")


def test_export_is_a_download_that_follows_the_published_schema(client, visitor, instance):
    visitor.consent(transcripts=True, analytics=True)
    message_id = visitor.say(f"my email is {EMAIL}; how do refunds work?").json["message_id"]
    client.post(f"/api/v1/messages/{message_id}/feedback", json={"rating": "up"}, headers=visitor.auth)
    client.post(f"/api/v1/conversations/{visitor.conversation_id}/handoff", headers=visitor.auth)
    before = sorted(p.name for p in instance.rglob("*"))
    response = client.get("/api/v1/me/export", headers=visitor.auth)
    assert response.headers["Content-Disposition"].startswith("attachment")
    document = response.json
    jsonschema.validate(document, client.get("/api/v1/schemas/export.json").json)
    conversation = document["conversations"][0]
    assert [m["role"] for m in conversation["messages"]] == ["visitor", "bot"]
    assert conversation["handoffs"][0]["status"] == "open"
    assert document["subject_keys"][0]["kind"] == "EMAIL_ADDRESS"
    assert EMAIL not in response.get_data(as_text=True)
    assert sorted(p.name for p in instance.rglob("*")) == before  # no file left behind


def test_erasure_removes_everything_and_kills_the_token(app, client, visitor):
    other = Visitor(client)
    other.consent(transcripts=True)
    other.say("is shipping free?")
    visitor.consent(transcripts=True)
    message_id = visitor.say(f"my email is {EMAIL}").json["message_id"]
    client.post(f"/api/v1/messages/{message_id}/feedback", json={"rating": "down"}, headers=visitor.auth)
    client.post(f"/api/v1/conversations/{visitor.conversation_id}/handoff", headers=visitor.auth)
    response = client.delete("/api/v1/me", headers=visitor.auth)
    assert response.json["deleted"] == {"visitor": 1, "conversations": 1, "messages": 2, "feedback": 1,
                                        "handoffs": 1, "tags": 0, "consent_events": 1, "subject_keys": 1,
                                        "contacts": 0}
    assert client.get("/api/v1/consent", headers=visitor.auth).status_code == 401
    assert client.delete("/api/v1/me", headers=visitor.auth).status_code == 401
    assert rows(app, "SELECT count(*) FROM messages") == [(2,)]  # the other visitor's turn
    assert rows(app, "SELECT count(*) FROM subject_keys") == [(0,)]
    assert client.get("/api/v1/me/export", headers=other.auth).json["conversations"][0]["messages"]


@pytest.mark.parametrize("method, path", [("get", "/api/v1/me/export"), ("delete", "/api/v1/me"),
                                          ("get", "/api/v1/consent"), ("put", "/api/v1/consent")])
def test_rights_endpoints_need_a_real_token(client, visitor, method, path):
    for headers in ({}, {"Authorization": "Bearer forged"}):
        response = getattr(client, method)(path, json={"transcripts": True}, headers=headers)
        assert (response.status_code, response.json["error"]) == (401, "unauthorized")
    assert client.get("/api/v1/consent", headers=visitor.auth).json["transcripts"] is False


def test_purge_deletes_only_expired_visitors_and_conversations(app, client, visitor, runner):
    visitor.consent(transcripts=True)
    visitor.say("is shipping free?")
    recent = Visitor(client)
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    db.execute("UPDATE visitors SET last_seen_at = '2020-01-01T00:00:00.000Z' WHERE id = "
               "(SELECT visitor_id FROM conversations WHERE id = ?)", (visitor.conversation_id,))
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "purged 1 visitors" in result.output
    assert client.get("/api/v1/consent", headers=visitor.auth).status_code == 401
    assert client.get("/api/v1/consent", headers=recent.auth).status_code == 200
    assert rows(app, "SELECT count(*) FROM messages") == [(0,)]
    assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert purge(db, 30).visitors == 0


def test_purge_forgets_day_old_failed_logins_but_keeps_recent_ones(app):
    from app.admin import accounts
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    accounts.record_attempt(db, "old-account", "old-address")
    accounts.record_attempt(db, "new-account", "new-address")
    db.execute("UPDATE login_attempts SET created_at = '2020-01-01T00:00:00.000Z' WHERE account = 'old-account'")
    purge(db, 30)
    assert [row[0] for row in db.execute("SELECT account FROM login_attempts")] == ["new-account"]


def test_serving_workers_purge_in_the_background(instance, scrubber, embedder, kb_index):
    import time

    from app import create_app
    app = create_app({"INSTANCE": str(instance), "SCRUBBER": scrubber, "EMBEDDER": embedder,
                      "INDEX": kb_index, "BACKGROUND_PURGE": True, "PURGE_INTERVAL_MINUTES": 0.005})
    try:
        expired = Visitor(app.test_client())
        db = connect(app.config["DB_PATH"], app.extensions["db_key"])
        db.execute("UPDATE visitors SET last_seen_at = '2020-01-01T00:00:00.000Z'")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and rows(app, "SELECT count(*) FROM visitors") != [(0,)]:
            time.sleep(0.2)
        assert rows(app, "SELECT count(*) FROM visitors") == [(0,)]
        assert app.test_client().get("/api/v1/consent", headers=expired.auth).status_code == 401
    finally:
        app.extensions["purge_stop"].set()


def test_masked_values_cannot_be_recovered_with_the_instance_keys(app, visitor):
    """Security review finding 6: a date of birth or SSN was recoverable by guessing its stored hash."""
    from app.privacy.placeholders import fingerprint
    visitor.consent(transcripts=True)
    visitor.say("I was born on 12 March 1985, my SSN is 078-05-1120 and my email is jo@example.com")
    second = visitor.say("Again: born 12 March 1985").json
    assert second["message_id"]
    texts = [t for (t,) in rows(app, "SELECT text FROM messages WHERE role = 'visitor' ORDER BY rowid")]
    assert "<US_SSN_1>" in texts[0] and "<DATE_OF_BIRTH_1>" in texts[0] and "<DATE_OF_BIRTH_1>" in texts[1]
    stored = {f for (f,) in rows(app, "SELECT fingerprint FROM placeholders")}
    guesses = {fingerprint(b"test-subject-key", kind, value, "US") for kind, value in (
        ("DATE_OF_BIRTH", "12 March 1985"), ("US_SSN", "078-05-1120"), ("PHONE_NUMBER", "078-05-1120"))}
    assert stored and not stored & guesses
    assert [k for (k,) in rows(app, "SELECT kind FROM subject_keys")] == ["EMAIL_ADDRESS"]
    exported = visitor.client.get("/api/v1/me/export", headers=visitor.auth).json
    assert [k["kind"] for k in exported["subject_keys"]] == ["EMAIL_ADDRESS"]
    assert [len(k) for (k,) in rows(app, "SELECT placeholder_key FROM conversations")] == [32]
    assert visitor.client.delete("/api/v1/me", headers=visitor.auth).status_code == 200
    assert rows(app, "SELECT count(*) FROM placeholders") == [(0,)]
    assert rows(app, "SELECT count(*) FROM conversations") == [(0,)]


def test_consent_source_keeps_only_an_allow_listed_origin(instance, scrubber, embedder, kb_index):
    """Security review finding 8: a raw Origin header (a name and an email) was stored and exported."""
    from app import create_app
    app = create_app({"INSTANCE": str(instance), "TESTING": True, "SCRUBBER": scrubber, "EMBEDDER": embedder,
                      "INDEX": kb_index, "CORS_ORIGINS": "https://shop.example"})
    visitor = Visitor(app.test_client())
    hostile = "my name is Jane Roe, jane.roe@example.com, 555-201-3344"
    for origin, purposes in (("https://shop.example", {"transcripts": True}), (hostile, {"analytics": True}),
                             (None, {"analytics": False})):
        headers = {**visitor.auth, **({"Origin": origin} if origin else {})}
        assert visitor.client.put("/api/v1/consent", json=purposes, headers=headers).status_code == 200
    exported = visitor.client.get("/api/v1/me/export", headers=visitor.auth)
    sources = [e["source"] for e in exported.json["consent"]["history"]]
    assert sources == ["https://shop.example", "unlisted-origin", "api"]
    assert "Jane" not in exported.get_data(as_text=True) and "jane.roe" not in rows(app, "SELECT * FROM consent_events")
