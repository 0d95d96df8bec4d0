"""Issue 15 end to end in two real Chromium contexts on one real server: a visitor on a customer's
page asks for a person and agrees inline to keep the conversation; an agent in the console sees the
waiting count change without a reload, claims, replies; each side sees the other within 3 s without
a reload; the bot stays silent; the agent resolves and the bot answers again. Screenshots of both
sides go to test-artifacts/live-*.png."""
from __future__ import annotations

import time

from playwright.sync_api import expect

from app.admin import accounts
from tests.browser import browser, needs_chromium, shot  # noqa: F401 (browser is a fixture)
from tests.test_widget import host_page  # noqa: F401 (a fixture: the customer's site on its own origin)
from tests.test_widget_handoff import (  # noqa: F401 (api and page_url are fixtures)
    OFFER, PASSWORD, WAITING, api, ask_and_wait, bots, open_widget, page_url, say, widget_state)

pytestmark = needs_chromium


def sign_in(page, base: str) -> None:
    page.goto(base + "/admin/login")
    page.get_by_label("Email").fill("kim@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_text("Signed in as kim@example.com").wait_for()


def test_a_visitor_and_an_agent_talk_live_and_the_bot_takes_over_again(browser, api, page_url):
    db = api.db()
    accounts.create_user(db, "kim@example.com", "reviewer", PASSWORD, alias="Kim")
    db.close()
    agent = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    sign_in(agent, api.base)
    badge = agent.locator("#waiting-count")
    start_count = int(badge.inner_text())

    visitor = browser.new_context(viewport={"width": 420, "height": 800}).new_page()
    open_widget(visitor, page_url)  # transcripts not granted yet
    ask_and_wait(visitor, "Do you sell gift cards?")
    say(visitor, "can I talk to a human?")
    visitor.get_by_text(OFFER).wait_for()
    shot(visitor, "live-1-visitor-consent-offer")
    visitor.get_by_role("button", name="Keep and ask for a person").click()
    visitor.get_by_text(WAITING).wait_for()
    expect(badge).to_have_text(str(start_count + 1), timeout=15000)  # the console updates without a reload

    conversation = widget_state(visitor)["conversation"]
    agent.get_by_role("link", name="Handoffs").click()
    agent.get_by_role("link", name=conversation).click()
    agent.get_by_role("button", name="Claim handoff").click()
    agent.get_by_text("You claimed the handoff.").wait_for()
    expect(visitor.locator("#quietdesk-widget .note").filter(has_text="Kim joined the conversation.")).to_be_visible()
    assert agent.get_by_text("goes through the same scrubber").count() == 1  # said beside the form

    agent.get_by_label("Reply to the visitor as Kim").fill("Hi, Kim here. We sell gift cards in store only.")
    agent.get_by_role("button", name="Send reply").click()
    sent = time.monotonic()
    reply = visitor.locator("#quietdesk-widget .person").filter(has_text="gift cards in store only")
    expect(reply).to_be_visible(timeout=3000)
    assert time.monotonic() - sent < 3 and reply.locator(".who").inner_text() == "Kim"

    answers = bots(visitor).count()
    say(visitor, "Thanks! Which store is closest to the station?")
    said = time.monotonic()
    incoming = agent.locator("#messages li.visitor").filter(has_text="closest to the station")
    expect(incoming).to_be_visible(timeout=3000)  # the console page updates without a reload
    assert time.monotonic() - said < 3
    visitor.wait_for_timeout(1500)
    assert bots(visitor).count() == answers  # the bot stayed silent while Kim answered
    shot(visitor, "live-2-visitor-talking-to-kim")
    shot(agent, "live-3-agent-console")

    agent.get_by_role("button", name="Resolve handoff").click()
    agent.get_by_text("Handoff resolved.").wait_for()
    expect(visitor.get_by_text("Kim closed this conversation.")).to_be_visible(timeout=5000)
    ask_and_wait(visitor, "Is shipping free?")
    assert "$50" in bots(visitor).last.inner_text()  # the bot answers again
    shot(visitor, "live-4-visitor-after-closing")
    rows = api.rows("SELECT role, author FROM messages WHERE conversation_id = ? AND role IN ('agent', 'notice')",
                    conversation)
    assert {"role": "agent", "author": "Kim"} in rows
    assert api.rows("SELECT first_reply_at IS NOT NULL AS replied FROM handoffs WHERE conversation_id = ?",
                    conversation) == [{"replied": 1}]
