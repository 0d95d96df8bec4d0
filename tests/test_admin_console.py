"""Console sign-in: CSRF, throttling, the same message for every failure, fresh sessions, and
cookies that stop working after logout or disabling."""
from __future__ import annotations

import re

import pytest

from app.admin import accounts
from app.db import connect

PASSWORD = "violet-harbour-lantern-42"


@pytest.fixture
def admin_user(app):
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    return accounts.create_user(db, "lead@example.com", "admin", PASSWORD)


def csrf_token(client) -> str:
    page = client.get("/admin/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, email="lead@example.com", password=PASSWORD):
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def test_sign_in_and_out(client, admin_user):
    assert client.get("/admin/").status_code == 302
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
    home = client.get("/admin/")
    assert home.status_code == 200 and "Signed in as lead@example.com" in home.get_data(as_text=True)
    assert home.headers["Cache-Control"] == "no-store" and "frame-ancestors 'none'" in home.headers["Content-Security-Policy"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', home.get_data(as_text=True)).group(1)
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("target", ["/admin/handoffs\r\nSet-Cookie: x=1", "/admin/\t/evil.example/"])
def test_sign_in_ignores_a_next_path_with_control_characters(client, admin_user, target):
    """Found by wapiti: a newline in ?next= turned a correct sign-in into a 500."""
    form = {"email": "lead@example.com", "password": PASSWORD, "csrf_token": csrf_token(client)}
    response = client.post("/admin/login", query_string={"next": target}, data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")


@pytest.mark.parametrize("email, password", [("lead@example.com", "wrong-password-123"),
                                             ("nobody@example.com", PASSWORD)])
def test_failures_get_the_same_message(client, admin_user, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 401 and "Wrong email or password" in response.get_data(as_text=True)


def test_missing_or_invalid_csrf_token_is_rejected(client, admin_user):
    assert client.post("/admin/login", data={"email": "lead@example.com", "password": PASSWORD}).status_code == 400
    bad = client.post("/admin/login", data={"email": "lead@example.com", "password": PASSWORD, "csrf_token": "x"})
    assert bad.status_code == 400 and "Traceback" not in bad.get_data(as_text=True)


def test_throttled_after_five_failures_even_with_the_right_password(client, admin_user):
    for _ in range(5):
        sign_in(client, password="wrong-password-123")
    assert sign_in(client).status_code == 401


def test_cookie_copied_before_logout_no_longer_works(app, admin_user):
    client = app.test_client()
    sign_in(client)
    copied = client.get_cookie("session").value
    home = client.get("/admin/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    client.post("/admin/logout", data={"csrf_token": token})
    replay = app.test_client()
    replay.set_cookie("session", copied)
    assert replay.get("/admin/").status_code == 302


def test_disabling_a_user_ends_their_session(app, admin_user):
    client = app.test_client()
    sign_in(client)
    assert client.get("/admin/").status_code == 200
    accounts.bump_session(connect(app.config["DB_PATH"], app.extensions["db_key"]), admin_user.id, disabled=True)
    assert client.get("/admin/").status_code == 302


def test_reviewer_reads_scrubbed_conversations_and_each_view_is_audited(app, client):
    from app.admin import audit
    from tests.conftest import Visitor
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    accounts.create_user(db, "rev@example.com", "reviewer", PASSWORD)
    visitor = Visitor(app.test_client())
    visitor.consent(transcripts=True)
    visitor.say("My email is dana.whitlock@example.org, is shipping free?")
    assert client.get(f"/admin/conversations/{visitor.conversation_id}").status_code == 302  # anonymous
    sign_in(client, "rev@example.com")
    listing = client.get("/admin/conversations").get_data(as_text=True)
    assert visitor.conversation_id in listing
    page = client.get(f"/admin/conversations/{visitor.conversation_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "&lt;EMAIL_ADDRESS_1&gt;" in text and "dana.whitlock" not in text
    assert "Shipping options" in text and page.headers["Cache-Control"] == "no-store"
    assert client.get("/admin/conversations/nope").status_code == 404
    actions = [(e.action, e.subject) for e in audit.entries(db)]
    assert ("view_conversation", f"conversation:{visitor.conversation_id}") in actions
    assert ("list_conversations", "page:1") in actions
    assert audit.first_broken(db) is None
