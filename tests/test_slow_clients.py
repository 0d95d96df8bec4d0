"""Slow clients cannot freeze `run.py serve`: each request is buffered whole before a thread gets it."""
from __future__ import annotations

import json
import signal
import socket
import time
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest

from app.bench import start_server
from app.buffering import MAX_HEAD_BYTES, READ_DEADLINE, Head, read_head

SLOW_CLIENTS = 40
# The head of a 60000-byte POST and its first body byte; the rest never comes.
STALLED = (b"POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: 60000\r\n\r\n{")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process, base, _ = start_server(tmp_path_factory.mktemp("served"))
    yield urlsplit(base).port
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def stalled(server):
    """Open the slow clients once for the module; yield their sockets and when they connected."""
    sockets, opened = [], time.monotonic()
    try:
        for _ in range(SLOW_CLIENTS):
            sockets.append(socket.create_connection(("127.0.0.1", server), timeout=5))
            sockets[-1].sendall(STALLED)
        yield sockets, opened
    finally:
        for sock in sockets:
            sock.close()


def timed(connection: HTTPConnection, method: str, path: str, body: dict | None = None,
          token: str | None = None) -> tuple[float, int, dict]:
    """Make one request on connection; return the seconds it took, the status and the JSON body."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    began = time.monotonic()
    connection.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = connection.getresponse()
    payload = json.loads(response.read())
    return time.monotonic() - began, response.status, payload


def test_health_answers_while_slow_clients_stall(server, stalled):
    connection = HTTPConnection("127.0.0.1", server, timeout=5)
    try:
        seconds, status, _ = timed(connection, "GET", "/api/v1/health")
    finally:
        connection.close()
    assert status == 200 and seconds < 2


def test_chat_turn_answers_while_slow_clients_stall(server, stalled):
    connection = HTTPConnection("127.0.0.1", server, timeout=5)
    try:
        _, status, session = timed(connection, "POST", "/api/v1/sessions", {})
        assert status == 201
        seconds, status, reply = timed(connection, "POST",
                                       f"/api/v1/conversations/{session['conversation_id']}/messages",
                                       {"text": "Is shipping free?"}, session["visitor_token"])
    finally:
        connection.close()
    assert status == 200 and seconds < 2
    assert reply["sources"][0]["url"].split("#")[0].endswith("/articles/shipping")


def test_keep_alive_connection_serves_two_requests(server, stalled):
    connection = HTTPConnection("127.0.0.1", server, timeout=5)
    try:
        _, first, _ = timed(connection, "GET", "/api/v1/health")
        kept = connection.sock  # http.client would silently reconnect if the server had closed it
        _, second, _ = timed(connection, "POST", "/api/v1/sessions", {})
        assert connection.sock is kept and kept is not None
    finally:
        connection.close()
    assert (first, second) == (200, 201)


def test_body_over_the_limit_is_answered_413_by_the_app_without_being_sent(server):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        sock.sendall(b"POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):  # the server closes after answering: the body never came
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body)["error"] == "request_too_large"


def test_stalled_clients_are_disconnected_after_the_deadline(stalled):
    sockets, opened = stalled
    limit = opened + READ_DEADLINE + 5
    for sock in sockets:
        sock.settimeout(max(limit - time.monotonic(), 0.1))
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
    assert READ_DEADLINE - 1 < time.monotonic() - opened < READ_DEADLINE + 5


GET = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
POST = b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"


@pytest.mark.parametrize("data, head", [
    (GET[:20], Head()),
    (GET, Head(size=len(GET))),
    (POST + b"\r\n{", Head(size=len(POST) + 4)),
    (POST + b"Expect: 100-continue\r\n\r\n", Head(size=len(POST) + 26, expect_continue=True)),
    (POST.replace(b": 2", b": 70000") + b"\r\n", Head(size=len(POST) + 6, close_after=True)),
    (POST + b"Content-Length: 3\r\n\r\n", Head(size=len(POST) + 21, close_after=True)),
    (POST.replace(b": 2", b": -2") + b"\r\n", Head(size=len(POST) + 3, close_after=True)),
    (POST.replace(b"Content-Length: 2", b"Transfer-Encoding: chunked") + b"\r\n", Head(refuse=411)),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD_BYTES, Head(refuse=431)),
])
def test_read_head_says_how_much_to_wait_for(data, head):
    assert read_head(data, 65536) == head
