"""Every log record passes the scrubber: messages, arguments, tracebacks, gunicorn's own logs."""
from __future__ import annotations

import io
import logging

import pytest
from gunicorn.config import Config

from app import create_app
from app.logs import FILTER, ScrubbedGunicornLogger

EMAIL = "ottoline.quarry.77@example.net"


@pytest.fixture
def log_output(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_message_arguments_are_scrubbed(app, log_output):
    app.logger.warning("lookup failed for %s", EMAIL)
    assert EMAIL not in log_output.getvalue()
    assert "lookup failed for <EMAIL_ADDRESS" in log_output.getvalue()


def test_traceback_of_a_failed_request_is_scrubbed(instance, scrubber, embedder, kb_index, log_output):
    class Broken:
        def turn(self, conversation, text):
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
