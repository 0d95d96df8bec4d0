"""The widget's side of the live handoff (issue 15) in real headless Chromium, on a host page served
from another loopback origin than the API: consent asked inline before a person is asked, typed
requests and "yes" to the bot's offer, agent replies within 3 s without a reload (the agent acts
through the console's HTTP endpoints), the bot silent while a person answers, closing, ending from
the menu, the honest "nobody around" line with the email offer, polling manners, and the rough
edges seen on a phone-sized screen. Screenshots go to test-artifacts/handoff-*.png."""
from __future__ import annotations

import json
import re
import signal
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from app.admin import accounts
from app.bench import start_server
from app.db import connect, raw_key
from tests.browser import browser, needs_chromium, shot  # noqa: F401 (browser is a fixture)
from tests.test_widget import host_page  # noqa: F401 (a fixture: the customer's site on its own origin)

pytestmark = needs_chromium
POLICY = "https://shop.example/privacy"
PASSWORD = "violet-harbour-lantern-42"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OFFER = "A person can only help if we keep this conversation"
WAITING = "has been asked to join. You can keep asking me meanwhile."
LOG = "document.getElementById('quietdesk-widget').shadowRoot.querySelector('.log')"


def closed_now() -> str:
    """Support hours that exclude today and tomorrow (UTC), so they are closed for the whole run."""
    today = datetime.now(timezone.utc).weekday()
    return ",".join(DAYS[(today + k) % 7] for k in range(2, 7)) + " 09:00-17:00 UTC"


class Server:
    """A real `run.py serve` process, its base URL and a way into its encrypted database."""

    def __init__(self, instance: Path, base: str) -> None:
        self.instance, self.base = instance, base
        self.widget_base = base.replace("127.0.0.1", "localhost")  # another origin than the host page

    def db(self):
        path = self.instance / "quietdesk.db"
        return connect(path, raw_key(path, (self.instance / "db.key").read_text().strip()))

    def rows(self, sql: str, *args) -> list[dict]:
        db = self.db()
        try:
            return [dict(row) for row in db.execute(sql, args)]
        finally:
            db.close()


def serve(tmp_path_factory, origin: str, **settings: str):
    instance = tmp_path_factory.mktemp("handoff") / "instance"
    log = open(tmp_path_factory.mktemp("handoff-logs") / "server.log", "w")
    process, base, _ = start_server(instance, log=log, settings={
        "QUIETDESK_CORS_ORIGINS": origin, "QUIETDESK_PRIVACY_POLICY_URL": POLICY,
        "QUIETDESK_RATE_REQUESTS_PER_ADDRESS": "100000", "QUIETDESK_RATE_MESSAGES_PER_VISITOR": "100",
        **{f"QUIETDESK_{k}": v for k, v in settings.items()}})
    return process, log, Server(instance, base)


def stop(process, log) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory, host_page):  # noqa: F811
    process, log, server = serve(tmp_path_factory, host_page[1])
    yield server
    stop(process, log)


@pytest.fixture(scope="module")
def closed_api(tmp_path_factory, host_page):  # noqa: F811
    process, log, server = serve(tmp_path_factory, host_page[1], SUPPORT_HOURS=closed_now())
    yield server
    stop(process, log)


def embed(host_page, server: Server, name: str, language: str = "en") -> str:  # noqa: F811
    folder, origin = host_page
    (folder / name).write_text(
        f"<!doctype html><html lang='{language}'><head><meta charset='utf-8'><title>Shop</title></head><body>"
        f"<h1>Our shop</h1><script src='{server.widget_base}/widget.js' data-title='Shop help' "
        f"data-language='{language}' async></script></body></html>")
    return f"{origin}/{name}"


@pytest.fixture(scope="module")
def page_url(host_page, api):  # noqa: F811
    return embed(host_page, api, "handoff.html")


class Console:
    """A team member signed in to the console over HTTP, posting forms with the CSRF token."""

    def __init__(self, server: Server, email: str, alias: str) -> None:
        db = server.db()
        try:
            accounts.create_user(db, email, "reviewer", PASSWORD, alias=alias)
        finally:
            db.close()
        self.base, self.http = server.base, requests.Session()
        response = self.http.post(self.base + "/admin/login", allow_redirects=False, data={
            "email": email, "password": PASSWORD, "csrf_token": self.token("/admin/login")})
        assert response.status_code == 302, response.text

    def token(self, path: str = "/admin/") -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.http.get(self.base + path).text).group(1)

    def post(self, path: str, **form: str) -> requests.Response:
        form["csrf_token"] = self.token()
        return self.http.post(self.base + path, data=form, allow_redirects=False)

    def reply(self, conversation_id: str, text: str) -> None:
        response = self.post(f"/admin/conversations/{conversation_id}/reply", text=text)
        if response.status_code == 404:
            pytest.skip("the console's POST /admin/conversations/<id>/reply is not there yet (404)")
        assert response.status_code == 302, response.status_code


@pytest.fixture(scope="module")
def agent(api):
    return Console(api, "sam@example.com", "Sam")


# --- helpers acting as the visitor -------------------------------------------------------------

def open_widget(page, url: str, keep: bool = False) -> None:
    page.goto(url)
    page.get_by_role("button", name="Open chat").click()
    if keep:
        page.get_by_role("checkbox", name="Keep my conversation").check()
    page.get_by_role("button", name="Start chatting").click()
    page.get_by_role("textbox", name="Your message").wait_for()


def say(page, text: str) -> None:
    page.get_by_role("textbox", name="Your message").fill(text)
    page.keyboard.press("Enter")


def bots(page):
    return page.locator("#quietdesk-widget .msg.bot")


def ask_and_wait(page, text: str) -> None:
    before = bots(page).count()
    say(page, text)
    bots(page).nth(before).wait_for()


def menu(page, item: str) -> None:
    page.get_by_role("button", name="More options").click()
    page.get_by_role("button", name=item).click()


def widget_state(page) -> dict:
    return json.loads(page.evaluate("Object.values(localStorage)[0]"))


def visitor_of(server: Server, conversation_id: str) -> int:
    return server.rows("SELECT visitor_id FROM conversations WHERE id = ?", conversation_id)[0]["visitor_id"]


def latest_handoff(server: Server, conversation_id: str) -> dict:
    return server.rows("SELECT * FROM handoffs WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
                       conversation_id)[0]


def shadow_text(page) -> str:
    return page.evaluate("document.getElementById('quietdesk-widget').shadowRoot.textContent")


def polls(requests_seen: list) -> int:
    return sum(1 for r in requests_seen if r.method == "GET" and "/messages" in r.url)


# --- (a) consent before a person is asked ------------------------------------------------------

def test_asking_without_consent_offers_one_sentence_no_thanks_stores_nothing_keep_opens(
        browser, page_url, api):  # noqa: F811
    page = browser.new_page()
    sent = []
    page.on("request", lambda r: sent.append(r))
    open_widget(page, page_url)  # declines transcripts at first run
    ask_and_wait(page, "Is shipping free?")
    assert not bots(page).first.get_by_role("button", name="Helpful", exact=True).count()  # no ratings yet
    conversation = widget_state(page)["conversation"]
    visitor = visitor_of(api, conversation)
    events_before = api.rows("SELECT * FROM consent_events WHERE visitor_id = ?", visitor)

    menu(page, "Talk to a human")
    offer = page.get_by_role("group", name="Talk to a human")
    expect(offer).to_contain_text("A person can only help if we keep this conversation (personal details are "
                                  "removed). Keep it and ask for a person?")
    shot(page, "handoff-1-consent-offer")
    menu(page, "Talk to a human")  # asking again shows the same single offer, not a second one
    assert page.get_by_text(OFFER).count() == 1
    offer.get_by_role("button", name="No thanks").click()
    page.get_by_text("nothing was stored and nobody was asked").wait_for()
    assert not [r for r in sent if r.method == "POST" and "/handoff" in r.url]  # no request at all
    assert api.rows("SELECT * FROM handoffs WHERE conversation_id = ?", conversation) == []
    assert api.rows("SELECT * FROM consent_events WHERE visitor_id = ?", visitor) == events_before
    assert all(not e["granted"] for e in events_before)
    assert api.rows("SELECT * FROM messages WHERE conversation_id = ?", conversation) == []

    menu(page, "Talk to a human")
    page.get_by_role("button", name="Keep and ask for a person").click()
    page.get_by_text("A member of our support team " + WAITING).wait_for()
    shot(page, "handoff-2-waiting")
    granted = api.rows("SELECT purpose, granted, source FROM consent_events WHERE visitor_id = ? AND id > ?",
                       visitor, max([e["id"] for e in events_before], default=0))
    assert granted == [{"purpose": "transcripts", "granted": 1, "source": "handoff"}]
    assert latest_handoff(api, conversation)["status"] == "open"
    assert widget_state(page)["consent"]["transcripts"] is True
    ask_and_wait(page, "How do I reset my password?")  # kept now, so answers can be rated
    expect(bots(page).last.get_by_role("button", name="Helpful", exact=True)).to_be_visible()
    page.close()


# --- (b) asking in words ------------------------------------------------------------------------

def test_typed_request_for_a_person_starts_the_handoff(browser, page_url, api):
    page = browser.new_page()
    open_widget(page, page_url, keep=True)  # consent already given: the request goes straight out
    ask_and_wait(page, "can I talk to a human?")
    assert "ask a person" in bots(page).last.inner_text()  # the bot's short answer, not an article quote
    page.get_by_text(WAITING).wait_for()
    assert page.get_by_text(OFFER).count() == 0
    assert latest_handoff(api, widget_state(page)["conversation"])["status"] == "open"
    page.close()


@pytest.mark.parametrize("assent", ["yes", "sure, go ahead and connect me"])
def test_yes_right_after_the_bot_offered_a_person_starts_the_same_flow(browser, page_url, api, assent):
    page = browser.new_page()
    open_widget(page, page_url)
    ask_and_wait(page, "what is the capital of Mongolia?")
    assert "couldn't find an answer" in bots(page).last.inner_text()
    say(page, assent)
    page.get_by_text(OFFER).wait_for()  # without consent: the one-sentence offer, not "I couldn't find…"
    assert bots(page).count() == 1
    page.get_by_role("button", name="Keep and ask for a person").click()
    page.get_by_text(WAITING).wait_for()
    assert latest_handoff(api, widget_state(page)["conversation"])["status"] == "open"
    page.close()


def test_an_answer_that_missed_is_rated_down_in_words_and_yes_then_asks_for_a_person(browser, page_url, api):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    open_widget(page, page_url, keep=True)
    ask_and_wait(page, "How do I reset my password?")
    expect(bots(page).last.get_by_role("button", name="Helpful", exact=True)).to_be_visible()
    ask_and_wait(page, "that didn't help")
    missed = bots(page).last
    assert "sorry that didn't help" in missed.inner_text()
    expect(missed.get_by_role("button", name="Talk to a human")).to_be_visible()
    assert missed.get_by_role("button", name="Helpful", exact=True).count() == 0  # no thumbs on an apology
    shot(page, "widget-answer-missed")
    rated = api.rows("SELECT m.text, f.rating FROM feedback f JOIN messages m ON m.id = f.message_id "
                     "WHERE m.conversation_id = ?", widget_state(page)["conversation"])
    assert [(r["text"][:20], r["rating"]) for r in rated] == [("On the sign-in scree", "down")]  # in words
    say(page, "yes please")
    page.get_by_text(WAITING).wait_for()
    assert latest_handoff(api, widget_state(page)["conversation"])["status"] == "open"
    page.close()


def test_german_typed_request_and_strings(browser, host_page, api):  # noqa: F811
    page = browser.new_page()
    page.goto(embed(host_page, api, "handoff-de.html", "de"))
    page.get_by_role("button", name="Chat öffnen").click()
    page.get_by_text("keine Antworten bewerten").wait_for()  # what declining costs, in German too
    page.get_by_role("button", name="Chat beginnen").click()
    page.get_by_role("textbox", name="Ihre Nachricht").fill("Kann ich bitte mit einem Mitarbeiter sprechen?")
    page.keyboard.press("Enter")
    page.get_by_text("Ein Mensch kann nur helfen, wenn wir dieses Gespräch speichern").wait_for()
    page.get_by_role("button", name="Speichern und Menschen fragen").click()
    page.get_by_text("Sie können mich in der Zwischenzeit weiter fragen").wait_for()
    page.get_by_role("button", name="Weitere Optionen").click()
    expect(page.get_by_role("button", name="Gespräch mit dem Team beenden")).to_be_visible()
    page.close()


# --- (c, d, e) a person answers, the bot is silent, closing -------------------------------------

def test_agent_reply_arrives_within_3_seconds_bot_stays_silent_and_closing(browser, page_url, api, agent):
    page = browser.new_page()
    open_widget(page, page_url, keep=True)
    ask_and_wait(page, "Is shipping free?")
    menu(page, "Talk to a human")
    page.get_by_text(WAITING).wait_for()
    conversation = widget_state(page)["conversation"]
    handoff = latest_handoff(api, conversation)["id"]
    claimed = agent.post(f"/admin/handoffs/{handoff}/claim")
    assert claimed.status_code == 302 and latest_handoff(api, conversation)["status"] == "claimed"

    joined = page.locator("#quietdesk-widget .note").filter(has_text="Sam joined the conversation.")
    expect(joined).to_be_visible()  # the console's notice, as a centred note
    agent.reply(conversation, "Hello, I am from the support team. How can I help?")
    posted = time.monotonic()
    person = page.locator("#quietdesk-widget .person").filter(has_text="How can I help?")
    expect(person).to_be_visible(timeout=3000)  # no reload: the widget polls while a person is asked
    delay = time.monotonic() - posted
    assert delay < 3, delay
    print(f"agent reply shown {delay:.2f} s after the console accepted it")
    assert person.locator(".who").inner_text() == "Sam"  # the author's name above the bubble
    assert person.locator(".msg").inner_text().startswith("Sam: ")  # and read out as "Sam: "
    assert person.locator(".msg.bot").count() == 0
    shot(page, "handoff-3-agent-reply")

    answers = bots(page).count()
    say(page, "My parcel has not arrived yet")  # (d) while claimed the bot is silent
    expect(page.locator("#quietdesk-widget .msg.visitor").filter(has_text="My parcel")).to_have_count(1)
    page.wait_for_timeout(2500)  # a poll or more: still one visitor bubble, no bot bubble, no typing line
    expect(page.locator("#quietdesk-widget .msg.visitor").filter(has_text="My parcel")).to_have_count(1)
    assert bots(page).count() == answers and page.get_by_text("is typing").count() == 0
    stored = api.rows("SELECT role FROM messages WHERE conversation_id = ? AND text LIKE '%parcel%'",
                      conversation)
    assert stored == [{"role": "visitor"}]
    page.get_by_role("button", name="More options").click()
    expect(page.get_by_role("button", name="End conversation with the team")).to_be_visible()
    page.get_by_role("button", name="More options").click()

    page.reload()  # resuming renders the person's message and goes on listening
    page.get_by_role("button", name="Open chat").click()
    expect(page.locator("#quietdesk-widget .person .who").first).to_have_text("Sam")
    agent.reply(conversation, "I have found your parcel.")
    found = page.locator("#quietdesk-widget .person").filter(has_text="found your parcel")
    expect(found).to_be_visible(timeout=3000)
    expect(page.locator("#quietdesk-widget .msg.visitor").filter(has_text="My parcel")).to_have_count(1)

    resolved = agent.post(f"/admin/handoffs/{handoff}/resolve")  # (e) closing
    assert resolved.status_code == 302
    closing = page.get_by_text("Sam closed this conversation.")
    expect(closing).to_be_visible(timeout=5000)
    page.wait_for_timeout(2500)
    expect(closing).to_have_count(1)  # a notice or the widget's own line, never both
    page.get_by_role("button", name="More options").click()
    expect(page.get_by_role("button", name="End conversation with the team")).to_be_hidden()
    page.get_by_role("button", name="More options").click()
    ask_and_wait(page, "Is shipping free?")  # the bot answers again
    assert "$50" in bots(page).last.inner_text()
    page.close()


def test_visitor_ends_the_handoff_from_the_menu(browser, page_url, api):
    page = browser.new_page()
    open_widget(page, page_url, keep=True)
    page.get_by_role("button", name="More options").click()
    expect(page.get_by_role("button", name="End conversation with the team")).to_be_hidden()
    page.get_by_role("button", name="Talk to a human").click()
    page.get_by_text(WAITING).wait_for()
    menu(page, "End conversation with the team")
    page.get_by_text("You ended the conversation with the team.").wait_for()
    found = latest_handoff(api, widget_state(page)["conversation"])
    assert found["status"] == "resolved" and found["ended_by_visitor"] == 1
    page.wait_for_timeout(2500)
    assert page.get_by_text("The visitor ended").count() == 0  # the console's note is not repeated to them
    page.get_by_role("button", name="More options").click()
    expect(page.get_by_role("button", name="End conversation with the team")).to_be_hidden()
    page.close()


# --- polling manners ------------------------------------------------------------------------------

def test_polling_backs_off_while_hidden_resumes_when_visible_and_429_is_quiet(browser, page_url):
    page = browser.new_page()
    seen = []
    page.on("request", lambda r: seen.append(r))
    open_widget(page, page_url, keep=True)
    menu(page, "Talk to a human")
    page.get_by_text(WAITING).wait_for()
    start = polls(seen)
    page.wait_for_timeout(6100)
    assert 2 <= polls(seen) - start <= 4  # every 2 s while visible

    page.evaluate("Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
                  "document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(2500)  # the poll already scheduled may still run
    start = polls(seen)
    page.wait_for_timeout(6000)
    assert polls(seen) == start  # hidden: at most every 15 s
    page.evaluate("Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
                  "document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(700)
    assert polls(seen) == start + 1  # visible again: at once

    def busy(route):
        if route.request.method == "GET":
            route.fulfill(status=429, content_type="application/json",
                          headers={"Access-Control-Allow-Origin": route.request.headers.get("origin", "*")},
                          body='{"error": "rate_limited", "message": "Too many requests."}')
        else:
            route.continue_()
    page.route(lambda url: "/messages" in url, busy)
    page.wait_for_timeout(2500)
    start = polls(seen)
    page.wait_for_timeout(4000)
    assert polls(seen) == start  # backed off after the 429
    assert page.locator("#quietdesk-widget .error").count() == 0  # and no error bubble
    page.close()


# --- (f) nobody around --------------------------------------------------------------------------

def test_outside_support_hours_says_so_and_offers_to_leave_an_email(
        browser, host_page, closed_api):  # noqa: F811
    url = embed(host_page, closed_api, "closed.html")
    page = browser.new_page()
    open_widget(page, url, keep=True)
    ask_and_wait(page, "Is shipping free?")
    menu(page, "Talk to a human")
    page.get_by_text("Our team is not available right now (support hours: ").wait_for()
    assert page.get_by_text(WAITING).count() == 0  # no promise that someone is coming
    email = page.get_by_role("textbox", name="Your email address")
    expect(email).to_be_visible()
    assert email.get_attribute("type") == "email"
    shot(page, "handoff-4-email-offer")

    offer = page.locator("#quietdesk-widget .box").filter(has_text="Leave your email address")
    email.fill("not an address")
    email.press("Enter")
    offer.get_by_text("Please enter an email address").wait_for()
    email.fill("reply-me@example.org")
    offer.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Thanks — we'll reply to that address.").wait_for()
    assert "reply-me@example.org" not in shadow_text(page)  # never shown back
    conversation = widget_state(page)["conversation"]
    handoff = latest_handoff(closed_api, conversation)
    assert closed_api.rows("SELECT email FROM contacts WHERE handoff_id = ?", handoff["id"]) == [
        {"email": "reply-me@example.org"}]

    menu(page, "Talk to a human")  # asking again: the line again, but the offer only once per handoff
    expect(page.get_by_text("Our team is not available right now")).to_have_count(2)
    page.reload()
    page.get_by_role("button", name="Open chat").click()
    bots(page).first.wait_for()
    page.wait_for_timeout(2500)  # a poll or more after the history
    assert page.get_by_role("textbox", name="Your email address").count() == 0
    page.close()


def test_nobody_answering_in_time_says_nobody_is_free(browser, page_url, api):  # noqa: F811
    """The server's timeout is minutes long, so its answer is edited in flight; the handoff is real."""
    page = browser.new_page()

    def late(route):
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "nobody_around": "no_answer"})
    page.route(lambda url: url.endswith("/handoff"), late)
    open_widget(page, page_url, keep=True)
    menu(page, "Talk to a human")
    page.get_by_text("Nobody from the team is free right now.").wait_for()
    expect(page.get_by_role("textbox", name="Your email address")).to_be_visible()
    assert page.get_by_text(WAITING).count() == 0
    assert latest_handoff(api, widget_state(page)["conversation"])["status"] == "open"
    page.close()


# --- (g) rough edges ----------------------------------------------------------------------------

def test_one_thanks_per_answer_in_place_and_thumbs_down_offers_a_person(browser, page_url):
    page = browser.new_page(viewport={"width": 800, "height": 700})
    open_widget(page, page_url, keep=True)
    for question in ("Is shipping free?", "How do I reset my password?", "Is shipping free?"):
        ask_and_wait(page, question)
    first = bots(page).first
    page.wait_for_timeout(400)  # the input's focus scrolls again after 300 ms (mobile keyboards); a repeated
    page.evaluate(f"{LOG}.scrollTop = 0")  # question answered from the cache can arrive before that
    first.get_by_role("button", name="Helpful", exact=True).click()
    expect(first.get_by_text("Thanks for the feedback.")).to_be_visible()
    first.get_by_role("button", name="Not helpful").click()
    expect(first.get_by_role("button", name="Not helpful")).to_have_attribute("aria-pressed", "true")
    first.get_by_role("button", name="Talk to a human").wait_for()  # a thumbs-down offers a person
    first.get_by_role("button", name="Not helpful").click()
    page.wait_for_timeout(300)
    assert first.get_by_role("button", name="Talk to a human").count() == 1
    assert page.get_by_text("Thanks for the feedback.").count() == 1  # replaced in place, not stacked
    assert page.evaluate(f"{LOG}.scrollTop") == 0  # and the log did not jump
    bots(page).nth(1).get_by_role("button", name="Helpful", exact=True).click()
    expect(page.get_by_text("Thanks for the feedback.")).to_have_count(2)  # one per answer
    first.get_by_role("button", name="Talk to a human").click()
    page.get_by_text(WAITING).wait_for()
    page.close()


def test_privacy_settings_is_its_own_single_panel_with_the_policy_link(browser, page_url):
    page = browser.new_page()
    page.goto(page_url)
    page.get_by_role("button", name="Open chat").click()
    first_run = page.locator("#quietdesk-widget .consent")
    expect(first_run).to_contain_text("you can't rate answers and nobody from the team can follow up")
    assert first_run.get_by_role("link", name="Privacy policy").get_attribute("href") == POLICY
    page.get_by_role("button", name="Start chatting").click()
    ask_and_wait(page, "Is shipping free?")

    menu(page, "Privacy settings")
    settings = page.get_by_role("region", name="Privacy settings")
    expect(settings).to_be_visible()
    menu(page, "Privacy settings")  # opening it twice shows one panel
    expect(page.get_by_role("region", name="Privacy settings")).to_have_count(1)
    assert page.get_by_role("checkbox", name="Keep my conversation").count() == 1
    assert page.get_by_role("button", name="Start chatting").count() == 0  # not the first-run form
    assert settings.get_by_role("link", name="Privacy policy").get_attribute("href") == POLICY
    expect(settings).to_contain_text("nobody from the team can follow up")
    assert not settings.get_by_role("checkbox", name="Keep my conversation").is_checked()
    shot(page, "handoff-5-privacy-panel")

    settings.get_by_role("button", name="Close").click()
    expect(settings).to_be_hidden()
    expect(bots(page).first).to_be_visible()
    menu(page, "Privacy settings")
    page.get_by_role("checkbox", name="Keep my conversation").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved your privacy choices.").wait_for()
    expect(page.get_by_role("region", name="Privacy settings")).to_be_hidden()
    assert widget_state(page)["consent"]["transcripts"] is True
    ask_and_wait(page, "How do I reset my password?")
    expect(bots(page).last.get_by_role("button", name="Helpful", exact=True)).to_be_visible()
    page.close()


def test_after_deleting_my_data_the_panel_offers_a_fresh_start(browser, page_url):
    page = browser.new_page()
    open_widget(page, page_url, keep=True)
    ask_and_wait(page, "Is shipping free?")
    old = widget_state(page)["conversation"]
    menu(page, "Delete my data")
    page.get_by_role("button", name="Yes, delete").click()
    page.get_by_text("Your data has been deleted.").wait_for()
    page.get_by_role("button", name="Start a new conversation").click()
    page.get_by_role("button", name="Start chatting").click()
    ask_and_wait(page, "How do I reset my password?")
    assert widget_state(page)["conversation"] != old
    assert page.get_by_text("Your data has been deleted.").count() == 0
    page.close()


def test_narrow_screen_fills_the_viewport_and_keeps_the_latest_message_visible(browser, page_url):
    page = browser.new_page(viewport={"width": 360, "height": 640})
    open_widget(page, page_url, keep=True)
    for question in ("Is shipping free?", "How do I reset my password?", "Is shipping free?",
                     "How do I reset my password?"):
        ask_and_wait(page, question)
    panel = page.get_by_role("dialog")
    assert panel.bounding_box() == {"x": 0, "y": 0, "width": 360, "height": 640}
    assert panel.evaluate("node => getComputedStyle(node).borderTopLeftRadius") == "0px"

    page.evaluate(f"{LOG}.scrollTop = 0")
    page.evaluate("document.activeElement.blur(); "
                  "document.getElementById('quietdesk-widget').shadowRoot.activeElement?.blur()")
    page.get_by_role("textbox", name="Your message").focus()
    last = bots(page).last
    expect(last).to_be_in_viewport()

    page.set_viewport_size({"width": 360, "height": 330})  # the on-screen keyboard takes the lower half
    page.wait_for_timeout(500)
    box = panel.bounding_box()
    assert box["height"] <= 330 and box["y"] >= 0
    expect(last).to_be_in_viewport()
    expect(page.get_by_role("textbox", name="Your message")).to_be_in_viewport()
    shot(page, "handoff-6-narrow-keyboard")
    page.set_viewport_size({"width": 360, "height": 640})
    page.wait_for_timeout(300)
    shot(page, "handoff-6-narrow-viewport")
    page.close()
