"""The live handoff on a real server with two gunicorn workers: the state lives in the database, so
an agent's reply posted to one worker reaches a visitor whose polls the other worker serves."""
from __future__ import annotations

import signal

import pytest

from app.bench import start_server
from app.bench.handoff import AGENT_PASSWORD, Agent, get, make_account, workers_seen
from tests.conftest import call

POLL = "GET /api/v1/conversations/<conversation_id>/messages"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    instance = tmp_path_factory.mktemp("two-workers") / "instance"
    log_path = tmp_path_factory.mktemp("two-workers-logs") / "server.log"
    with open(log_path, "w") as log:
        process, base, _ = start_server(instance, workers=2, log=log)
        try:
            make_account(instance, "sam@example.com", "Sam")
            yield base, log_path
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def test_a_reply_posted_to_one_worker_reaches_a_visitor_polled_by_the_other(served):
    base, log_path = served
    _, session = call(base + "/api/v1/sessions", {})
    token, conversation = session["visitor_token"], session["conversation_id"]
    assert call(f"{base}/api/v1/conversations/{conversation}/handoff", {"grant_transcripts": True}, token)[0] == 201
    agent = Agent(base)
    agent.sign_in("sam@example.com", AGENT_PASSWORD)
    agent.claim(conversation)
    agent.reply(conversation, "Hello, Sam here. Which lamp is it?")
    replied_by = workers_seen(log_path, "POST /admin/conversations/<conversation_id>/reply")
    assert len(replied_by) == 1
    url = f"{base}/api/v1/conversations/{conversation}/messages"
    for _ in range(60):  # each poll is a new connection; both workers take them
        body = get(url, token)
        assert [m["author"] for m in body["messages"] if m["role"] == "agent"] == ["Sam"]
        assert body["handoff"]["status"] == "claimed" and body["handoff"]["agent"] == "Sam"
        if len(workers_seen(log_path, POLL) - replied_by) >= 1:
            break
    assert workers_seen(log_path, POLL) - replied_by, "no poll was served by the other worker"
