"""`run.py serve` end to end: a real gunicorn process on loopback, cold start to an answer."""
from __future__ import annotations

import signal
import time

import pytest

from app.bench import start_server
from tests.conftest import call

CANARY = "zelda.canary.4471@example.org"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log_path = tmp_path_factory.mktemp("logs") / "server.log"
    with open(log_path, "w") as log:
        process, base, _ = start_server(tmp_path_factory.mktemp("served"), log=log)
    yield base, log_path
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def test_served_app_answers_with_sources(server):
    base, _ = server
    status, session = call(base + "/api/v1/sessions", {})
    assert status == 201
    status, reply = call(f"{base}/api/v1/conversations/{session['conversation_id']}/messages",
                         {"text": "Is shipping free?"}, session["visitor_token"])
    assert status == 200
    assert reply["sources"][0]["url"].split("#")[0].endswith("/articles/shipping")
    assert "$50" in reply["answer"]


def test_served_app_is_gunicorn_not_the_flask_dev_server(server):
    _, log_path = server
    text = log_path.read_text()
    assert "gunicorn" in text.lower() and "development server" not in text.lower()


def test_request_log_has_paths_but_no_query_strings_or_bodies(server):
    base, log_path = server
    call(f"{base}/api/v1/health?email={CANARY}")
    status, session = call(base + "/api/v1/sessions", {})
    call(f"{base}/api/v1/conversations/{session['conversation_id']}/messages",
         {"text": f"my email is {CANARY}"}, session["visitor_token"])
    time.sleep(0.5)
    text = log_path.read_text()
    assert '"GET /api/v1/health" 200' in text
    assert '"POST /api/v1/conversations/<conversation_id>/messages" 200' in text
    assert CANARY not in text and "canary" not in text
