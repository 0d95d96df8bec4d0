"""`run.py serve` end to end: a real gunicorn process on loopback, cold start to an answer."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from app.config import ROOT

CANARY = "zelda.canary.4471@example.org"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     method="POST" if body is not None else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIETDESK_")}
    env["QUIETDESK_INSTANCE"] = str(tmp_path_factory.mktemp("served"))
    log_path = tmp_path_factory.mktemp("logs") / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "run.py", "serve", "--port", str(port), "--workers", "1"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if call(base + "/api/v1/health")[0] == 200:
                break
        except OSError:  # not listening yet, or the worker is still loading
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("server did not become healthy:\n" + log_path.read_text()[-3000:])
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
    assert reply["sources"][0]["url"].endswith("/articles/shipping")
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
    assert CANARY not in text and "canary" not in text
