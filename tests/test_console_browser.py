"""The console in real headless Chromium against a real server: sign in with the keyboard, open a
conversation, resolve its handoff, visit every page at 360 px wide, sign out. Screenshots of each
page go to test-artifacts/console-*.png."""
from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from app.bench import start_server
from app.config import ROOT
from tests.browser import browser, fits, needs_chromium, shot  # noqa: F401 (browser is a fixture)
from tests.conftest import call

pytestmark = needs_chromium
PASSWORD = "violet-harbour-lantern-42"
EMAIL = "kit.marlowe@example.org"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("console") / "instance"
    log_path = tmp_path_factory.mktemp("console-logs") / "server.log"
    log = open(log_path, "w")
    process, base, _ = start_server(instance, log=log)
    created = subprocess.run([sys.executable, "run.py", "admin", "create", "--email", "lead@example.com"],
                             cwd=ROOT, input=PASSWORD + "\n", text=True, capture_output=True,
                             env={"QUIETDESK_INSTANCE": str(instance), "PATH": "/usr/bin:/bin"})
    assert created.returncode == 0, created.stderr
    yield base, instance, log_path
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


def visitor_conversation(base: str) -> str:
    """A visitor who typed their email, asked something the articles do not cover, and asked for a human."""
    _, session = call(base + "/api/v1/sessions", {})
    token, conversation = session["visitor_token"], session["conversation_id"]
    call(base + "/api/v1/consent", {"transcripts": True}, token, method="PUT")
    call(f"{base}/api/v1/conversations/{conversation}/messages", {"text": "Is shipping free?"}, token)
    call(f"{base}/api/v1/conversations/{conversation}/messages",
         {"text": f"I'm Kit Marlowe ({EMAIL}). Do you sell gift cards?"}, token)
    status, _ = call(f"{base}/api/v1/conversations/{conversation}/handoff", {}, token)
    assert status in (200, 201)
    return conversation


def test_sign_in_open_conversation_resolve_handoff_sign_out(browser, server):
    server, instance, log_path = server
    conversation = visitor_conversation(server)
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(server + "/admin/")
    assert page.url.startswith(server + "/admin/login")
    shot(page, "console-1-sign-in")
    page.keyboard.press("Tab")  # the skip link comes first
    page.keyboard.press("Tab")
    page.keyboard.type("lead@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_text("Handoffs waiting for a human: 1").wait_for()
    shot(page, "console-2-home")

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Conversations").click()
    page.get_by_role("link", name=conversation).wait_for()
    assert fits(page)
    shot(page, "console-3-conversations")
    page.get_by_role("link", name=conversation).click()
    body = page.locator("main").inner_text()
    assert "<EMAIL_ADDRESS_1>" in body and EMAIL not in body and "Marlowe" not in body
    assert "Shipping options" in body and fits(page)
    # An answer's paragraphs and list items stay on lines of their own, as the visitor saw them.
    answer = page.locator(".messages li.bot > p").first
    assert answer.evaluate("p => getComputedStyle(p).whiteSpace") == "pre-line"
    shot(page, "console-4-conversation")
    page.get_by_label("Add a tag").fill("gift-cards")
    page.get_by_label("Add a tag").press("Enter")
    page.get_by_text("Tag added.").wait_for()
    page.get_by_role("button", name="Claim handoff").click()
    page.get_by_text("You claimed the handoff.").wait_for()
    page.get_by_role("button", name="Resolve handoff").click()
    page.get_by_text("Handoff resolved.").wait_for()
    handoff = page.locator(".handoff").inner_text()
    assert "handoff resolved, claimed by Agent 1 (lead@example.com), resolved at" in handoff
    assert "gift-cards" in page.locator(".tags").inner_text()
    shot(page, "console-4b-conversation-tagged-and-resolved")
    page.get_by_role("link", name="Handoffs").click()
    page.get_by_text("Nobody is waiting for a human.").wait_for()
    shot(page, "console-5-handoffs")

    page.get_by_role("link", name="Knowledge gaps").click()
    assert "gift cards" in page.locator(".gap h2").first.inner_text() and fits(page)
    shot(page, "console-6-knowledge-gaps")
    page.get_by_role("link", name="Knowledge base").click()
    assert "up to date" in page.locator(".facts").inner_text() and fits(page)
    shot(page, "console-7-knowledge-base")

    page.get_by_role("link", name="Data requests").click()
    page.get_by_label("Customer's email or phone number").fill(EMAIL.upper())
    page.get_by_label("Request").select_option("erasure")
    page.get_by_label("How it arrived").fill("Email to privacy@, identity confirmed by reply from the address")
    page.get_by_role("button", name="Open request and find data").click()
    page.get_by_text("Visitor 1 of 1").wait_for()
    assert page.locator(".subject mark").first.inner_text() == "<EMAIL_ADDRESS_1>"  # where it was typed
    assert page.get_by_role("button", name="Download JSON export").count() == 0  # nothing before a decision
    assert fits(page)
    shot(page, "console-8-data-request")
    page.get_by_role("button", name="This is the person asking").click()
    page.get_by_text("confirmed as the person asking").wait_for()
    shot(page, "console-8b-data-request-confirmed")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download JSON export").click()
    assert download.value.suggested_filename.startswith("quietdesk-export-request-")

    page.get_by_role("link", name="Audit log").click()
    log = page.locator("main").inner_text()
    assert "Hash chain intact" in log and "resolve handoff" in log and "export subject" in log
    assert "decide subject" in log
    assert EMAIL not in log and fits(page)
    shot(page, "console-9-audit-log")
    page.get_by_role("link", name="Users").click()
    assert "lead@example.com" in page.locator("table").inner_text() and fits(page)
    shot(page, "console-10-users")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.goto(server + "/admin/conversations")
    assert page.url.startswith(server + "/admin/login")
    assert problems == []  # no CSP violation, no script error
    context.close()
    # The email was typed in chat and again (upper-cased) into the data-request form: neither the
    # server log nor any file under the instance (database, WAL, index, keys) holds it or the name.
    files = [log_path, *(p for p in instance.rglob("*") if p.is_file())]
    for canary in (EMAIL.encode(), EMAIL.upper().encode(), b"Marlowe"):
        assert not [str(p) for p in files if canary in p.read_bytes()], canary
