"""The published OpenAPI document covers every /api/v1 route, and real responses validate against it."""
from __future__ import annotations

import re

import jsonschema
import pytest

from tests.conftest import Visitor


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json


def test_every_api_route_and_method_is_documented(app, spec):
    assert spec["openapi"].startswith("3.1")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
        assert path in spec["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {path}"


def check(spec, path, method, response):
    """Validate a recorded response against the schema the document gives for its status."""
    documented = spec["paths"][path][method]["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    jsonschema.validate(response.json, {**schema, "components": spec["components"]})


def test_recorded_responses_validate(client, spec):
    visitor = Visitor(client)
    auth = visitor.auth
    conversation = f"/conversations/{visitor.conversation_id}"
    recorded = [
        ("/sessions", "post", client.post("/api/v1/sessions")),
        ("/sessions", "post", client.post("/api/v1/sessions", headers=auth)),
        ("/sessions", "post", client.post("/api/v1/sessions", headers={"Authorization": "Bearer x"})),
        ("/consent", "put", client.put("/api/v1/consent", json={"transcripts": True}, headers=auth)),
        ("/consent", "put", client.put("/api/v1/consent", json={"nope": 1}, headers=auth)),
        ("/consent", "get", client.get("/api/v1/consent", headers=auth)),
    ]
    reply = client.post(f"/api/v1{conversation}/messages", json={"text": "Is shipping free?"}, headers=auth)
    recorded += [
        ("/conversations/{conversation_id}/messages", "post", reply),
        ("/conversations/{conversation_id}/messages", "post",
         client.post(f"/api/v1{conversation}/messages", json={"text": ""}, headers=auth)),
        ("/conversations/{conversation_id}/messages", "post",
         client.post(f"/api/v1{conversation}/messages", json={"text": "x" * 3000}, headers=auth)),
        ("/conversations/{conversation_id}/messages", "get", client.get(f"/api/v1{conversation}/messages", headers=auth)),
        ("/messages/{message_id}/feedback", "post", client.post(
            f"/api/v1/messages/{reply.json['message_id']}/feedback", json={"rating": "up"}, headers=auth)),
        ("/conversations/{conversation_id}/handoff", "post", client.post(f"/api/v1{conversation}/handoff", headers=auth)),
        ("/conversations/{conversation_id}/handoff", "post", client.post(f"/api/v1{conversation}/handoff", headers=auth)),
        ("/conversations/{conversation_id}/contact", "post",
         client.post(f"/api/v1{conversation}/contact", json={"email": "not an address"}, headers=auth)),
        ("/conversations/{conversation_id}/contact", "post",
         client.post(f"/api/v1{conversation}/contact", json={"email": "reply.to@example.com"}, headers=auth)),
        ("/conversations/{conversation_id}/messages", "get",
         client.get(f"/api/v1{conversation}/messages?after={reply.json['message_id']}", headers=auth)),
        ("/conversations/{conversation_id}/handoff/end", "post",
         client.post(f"/api/v1{conversation}/handoff/end", headers=auth)),
        ("/conversations/{conversation_id}/contact", "post",
         client.post(f"/api/v1{conversation}/contact", json={"email": "reply.to@example.com"}, headers=auth)),
        ("/me/export", "get", client.get("/api/v1/me/export", headers=auth)),
        ("/health", "get", client.get("/api/v1/health")),
        ("/me", "delete", client.delete("/api/v1/me", headers=auth)),
        ("/me", "delete", client.delete("/api/v1/me", headers=auth)),
    ]
    statuses = set()
    for path, method, response in recorded:
        check(spec, path, method, response)
        statuses.add(response.status_code)
    assert statuses >= {200, 201, 400, 401, 413}
