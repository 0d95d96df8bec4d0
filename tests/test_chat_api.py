"""Chat API: sessions, answers with sources, and a clear JSON error for every kind of bad input."""
from __future__ import annotations

import pytest

from app import create_app
from app.chat.visitors import token_hash
from app.db import connect


def test_new_session_returns_token_once_and_stores_only_its_hash(app, client):
    response = client.post("/api/v1/sessions")
    assert response.status_code == 201
    body = response.json
    assert len(body["visitor_token"]) >= 43  # 256 random bits, url-safe base64
    assert body["conversation_id"] and body["greeting"]
    assert body["consent"] == {"transcripts": False, "analytics": False, "contact": False}
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    stored = [r[0] for r in db.execute("SELECT token_hash FROM visitors")]
    assert stored == [token_hash(body["visitor_token"])]
    assert body["visitor_token"] not in stored


def test_session_with_token_resumes_the_conversation_without_reissuing_it(client, visitor):
    response = client.post("/api/v1/sessions", headers=visitor.auth)
    assert response.status_code == 200
    assert response.json["conversation_id"] == visitor.conversation_id
    assert "visitor_token" not in response.json


def test_message_gets_an_answer_with_sources(visitor):
    response = visitor.say("How do I reset my password?")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"answer", "sources", "blocks", "confidence", "handoff_offered", "human_requested",
                         "asked_which", "message_id"}
    assert body["asked_which"] is False
    assert body["sources"][0]["url"] == ("https://help.lumenlamps.example/articles/reset-password"
                                         "#requesting-a-reset-link")  # the section that has the steps
    assert body["sources"][0]["title"] == "Resetting your password"
    assert 0.45 <= body["confidence"] <= 1 and body["handoff_offered"] is False
    assert "reset" in body["answer"].lower()


def test_off_topic_message_offers_a_human(visitor):
    body = visitor.say("what is the capital of Mongolia?").json
    assert body["handoff_offered"] is True and body["sources"] == []
    assert "support team" in body["answer"]


def test_message_text_is_not_stored(app, visitor):
    visitor.say("my order LL-123456 never arrived, quietdesk-canary-991")
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for table in ("visitors", "conversations"):
        for row in db.execute(f"SELECT * FROM {table}"):
            assert "quietdesk-canary-991" not in " ".join(map(str, tuple(row)))


@pytest.mark.parametrize("kwargs, status, code", [
    ({"data": "not json", "content_type": "application/json"}, 400, "invalid_request"),
    ({"json": ["a", "list"]}, 400, "invalid_request"),
    ({"json": "a string"}, 400, "invalid_request"),
    ({"json": {}}, 400, "invalid_request"),
    ({"json": {"text": ""}}, 400, "invalid_request"),
    ({"json": {"text": "   \n "}}, 400, "invalid_request"),
    ({"json": {"text": 42}}, 400, "invalid_request"),
    ({"json": {"text": None}}, 400, "invalid_request"),
    ({"json": {"text": ["hi"]}}, 400, "invalid_request"),
    ({"json": {"text": "x" * 2001}}, 413, "message_too_long"),
    ({"data": "text=hi", "content_type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    ({"data": "{\"text\": \"" + "x" * 70000 + "\"}", "content_type": "application/json"}, 413, "request_too_large"),
])
def test_bad_message_bodies_get_a_clear_json_error(client, visitor, kwargs, status, code):
    response = client.post(f"/api/v1/conversations/{visitor.conversation_id}/messages",
                           headers=visitor.auth, **kwargs)
    assert (response.status_code, response.json["error"]) == (status, code)
    assert response.json["message"] and "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer forged-token-that-was-never-issued"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
])
def test_missing_or_forged_token_is_unauthorized(client, visitor, headers):
    response = client.post(f"/api/v1/conversations/{visitor.conversation_id}/messages",
                           json={"text": "hello"}, headers=headers)
    assert (response.status_code, response.json["error"]) == (401, "unauthorized")


def test_forged_token_on_session_resume_is_unauthorized(client):
    response = client.post("/api/v1/sessions", headers={"Authorization": "Bearer nope"})
    assert (response.status_code, response.json["error"]) == (401, "unauthorized")


def test_another_visitors_conversation_is_not_found(client, visitor):
    from tests.conftest import Visitor
    other = Visitor(client)
    response = visitor.say("hello", conversation_id=other.conversation_id)
    assert (response.status_code, response.json["error"]) == (404, "not_found")
    assert visitor.say("hello", conversation_id="no-such-conversation").status_code == 404


@pytest.mark.parametrize("method, path, status, code", [
    ("get", "/api/v1/nowhere", 404, "not_found"),
    ("get", "/api/v1/sessions", 405, "method_not_allowed"),
    ("delete", "/api/v1/health", 405, "method_not_allowed"),
])
def test_unknown_routes_and_methods_get_json_errors(client, method, path, status, code):
    response = getattr(client, method)(path)
    assert (response.status_code, response.json["error"]) == (status, code)


def test_unexpected_failure_is_a_json_500_without_traceback(instance, scrubber, embedder, kb_index):
    class Broken:
        def turn(self, conversation, text):
            raise RuntimeError("engine exploded")

    app = create_app({"INSTANCE": str(instance), "SCRUBBER": scrubber, "EMBEDDER": embedder,
                      "INDEX": kb_index})
    app.extensions["pipeline"] = Broken()
    client = app.test_client()
    session = client.post("/api/v1/sessions").json
    response = client.post(f"/api/v1/conversations/{session['conversation_id']}/messages",
                           json={"text": "hi"}, headers={"Authorization": f"Bearer {session['visitor_token']}"})
    assert (response.status_code, response.json["error"]) == (500, "internal_error")
    assert "exploded" not in response.get_data(as_text=True)
    assert client.post("/api/v1/sessions", headers={"Authorization": f"Bearer {session['visitor_token']}"}) \
        .json["conversation_id"] == session["conversation_id"]  # nothing stored was lost


def test_health_reports_database_index_and_models(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["checks"] == {"database": "ok", "index": "ok", "models": "ok"}
    assert response.json["index"]["articles"] == 10


def test_cors_headers_only_for_listed_origins(instance, scrubber, embedder, kb_index):
    app = create_app({"INSTANCE": str(instance), "SCRUBBER": scrubber, "EMBEDDER": embedder,
                      "INDEX": kb_index, "CORS_ORIGINS": "https://shop.example, https://other.example/"})
    client = app.test_client()
    allowed = client.options("/api/v1/sessions", headers={"Origin": "https://shop.example",
                                                          "Access-Control-Request-Method": "POST"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    assert client.post("/api/v1/sessions", headers={"Origin": "https://other.example"}) \
        .headers["Access-Control-Allow-Origin"] == "https://other.example"
    refused = client.post("/api/v1/sessions", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_wildcard_cors_origin_is_refused(instance):
    from app.config import ConfigError
    with pytest.raises(ConfigError, match="CORS_ORIGINS"):
        create_app({"INSTANCE": str(instance), "LAZY": True, "CORS_ORIGINS": "*"})


@pytest.mark.parametrize("cost", [-0.1, 1.5])
def test_an_unused_words_cost_outside_0_to_1_is_refused(instance, cost):
    from app.config import ConfigError
    with pytest.raises(ConfigError, match="UNUSED_WORDS_COST"):
        create_app({"INSTANCE": str(instance), "LAZY": True, "UNUSED_WORDS_COST": cost})


def test_widget_script_and_demo_page_are_served(client):
    with client.get("/widget.js") as script:
        assert script.status_code == 200 and "javascript" in script.content_type
        assert len(script.data) <= 40 * 1024  # the size budget
        assert b"innerHTML" not in script.data.replace(b"never innerHTML", b"")
    demo = client.get("/demo")
    assert demo.status_code == 200 and b'/widget.js"' in demo.data


def test_every_api_answer_is_neither_sniffed_nor_cached(client, visitor):
    for response in (visitor.say("Is shipping free?"), client.get("/api/v1/nope"),
                     client.get("/api/v1/consent", headers=visitor.auth), client.get("/api/v1/health")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def test_public_ids_start_with_a_letter_or_digit():
    from app.chat.transcripts import new_id

    ids = {new_id() for _ in range(3000)}  # about 90 of them would start with - or _ by chance
    assert len(ids) == 3000 and all(i[0].isalnum() and len(i) == 16 for i in ids)
