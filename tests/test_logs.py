"""Every log record passes the scrubber: messages, arguments, tracebacks, gunicorn's own logs."""
from __future__ import annotations

import io
import logging

import pytest
from gunicorn.config import Config

from app import create_app
from app.logs import FILTER, ScrubbedGunicornLogger, Trusted

EMAIL = "ottoline.quarry.77@example.net"


@pytest.fixture
def log_output(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(FILTER)  # as on every handler the app configures
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_message_arguments_are_scrubbed(app, log_output):
    app.logger.warning("lookup failed for %s", EMAIL)
    assert EMAIL not in log_output.getvalue()
    assert "lookup failed for <EMAIL_ADDRESS" in log_output.getvalue()


def test_traceback_of_a_failed_request_is_scrubbed(instance, scrubber, embedder, kb_index, log_output):
    class Broken:
        def turn(self, conversation, text, context=None):
            raise ValueError(f"could not handle {text!r}")

    app = create_app({"INSTANCE": str(instance), "SCRUBBER": scrubber, "EMBEDDER": embedder, "INDEX": kb_index})
    app.extensions["pipeline"] = Broken()
    client = app.test_client()
    session = client.post("/api/v1/sessions").json
    response = client.post(f"/api/v1/conversations/{session['conversation_id']}/messages",
                           json={"text": f"write to {EMAIL}"},
                           headers={"Authorization": f"Bearer {session['visitor_token']}"})
    assert response.status_code == 500
    logged = log_output.getvalue()
    assert "Traceback" in logged and "ValueError: could not handle" in logged
    assert EMAIL not in logged


def test_request_log_names_the_route_not_the_path_or_query(app, client, log_output):
    client.get(f"/api/v1/health?email={EMAIL}")
    client.get(f"/api/v1/{EMAIL}")
    logged = log_output.getvalue()
    assert '"GET /api/v1/health" 200' in logged and '"GET <no route>" 404' in logged
    assert EMAIL not in logged and "example.net" not in logged


def test_gunicorn_handlers_carry_the_filter():
    logger = ScrubbedGunicornLogger(Config())
    handlers = logger.error_log.handlers + logger.access_log.handlers
    assert handlers and all(FILTER in h.filters for h in handlers)


def test_every_root_handler_carries_the_filter(app):
    assert all(FILTER in h.filters for h in logging.getLogger().handlers if not
               type(h).__module__.startswith("_pytest"))


FORGED = "INFO app.admin.audit: audit head 12345:deadbeefdeadbeef"  # no "/": one path segment


def test_deeply_nested_json_is_a_bad_request_not_a_crash(client, visitor, log_output):
    """Security review finding 4: 20,000 nested brackets raised RecursionError → 500."""
    deep = "[" * 20000 + "]" * 20000
    for method, path in (("post", f"/api/v1/conversations/{visitor.conversation_id}/messages"),
                         ("put", "/api/v1/consent")):
        response = getattr(client, method)(path, data=deep, content_type="application/json", headers=visitor.auth)
        assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert "Traceback" not in log_output.getvalue()


def test_request_data_cannot_start_a_log_line_of_its_own(app, client, log_output):
    """Security review finding 4: a CR/LF in the URL became a forged `audit head` line in the log."""
    @app.get("/api/v1/test-boom/<rest>")
    def boom(rest):
        raise ValueError(f"cannot handle {rest}\r\n{FORGED}")

    response = client.get("/api/v1/test-boom/x%0d%0a" + FORGED.replace(" ", "%20"))
    assert response.status_code == 500 and response.json["error"] == "internal_error"
    app.logger.warning("visitor said %s", f"hello\n{FORGED}\r\n{FORGED}")
    lines = log_output.getvalue().splitlines()
    assert "unhandled error on GET /api/v1/test-boom/<rest>" in lines  # the route, never the path
    assert any("ValueError: cannot handle x\\r\\n" in line for line in lines)  # escaped, on the same line
    assert not any(line.startswith(FORGED) or "\r" in line for line in lines)
    assert any(line.startswith("  File ") for line in lines)  # the traceback itself keeps its lines


def test_the_servers_own_words_stay_readable_while_typed_data_is_scrubbed(app, client, log_output):
    """Issue 11 item 6: `unhandled error on <ORGANIZATION_1>` and a mangled traceback were unreadable."""
    @app.post("/api/v1/test-fail")
    def fail():
        raise ValueError(f"could not handle {EMAIL}")

    client.post("/api/v1/test-fail")
    logging.getLogger("app.admin.audit").info("audit head %d:%s", 7, Trusted("8012345678901234"))
    logging.getLogger("gunicorn.test").info("Listening at: %s (%s)", "http://127.0.0.1:8000", 4242)
    lines = log_output.getvalue().splitlines()
    assert "unhandled error on POST /api/v1/test-fail" in lines
    assert any(line.strip() == "rv = self.dispatch_request()" for line in lines)  # frames are not scrubbed
    assert "ValueError: could not handle <EMAIL_ADDRESS_1>" in lines and EMAIL not in log_output.getvalue()
    assert "audit head 7:8012345678901234" in lines and "Listening at: http://127.0.0.1:8000 (4242)" in lines
    assert '"POST /api/v1/test-fail" 500 ' in log_output.getvalue()


def test_third_party_chatter_is_dropped_unless_debugging(app, log_output):
    from app.logs import FILTER
    logging.getLogger("bm25s").setLevel(logging.DEBUG)
    logging.getLogger("bm25s").debug("Building index from IDs objects")
    logging.getLogger("bm25s").warning(f"odd input from {EMAIL}")
    assert "Building index" not in log_output.getvalue()
    assert "odd input from <EMAIL_ADDRESS" in log_output.getvalue() and EMAIL not in log_output.getvalue()
    FILTER.verbose = True
    try:
        logging.getLogger("bm25s").debug("Building index from IDs objects")
    finally:
        FILTER.verbose = False
    assert "Building index" in log_output.getvalue()
