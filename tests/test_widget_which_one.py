"""Places built alike (six inns answering the same FAQ): an unnamed question gets "which one do you
mean?" with the places listed, a person still offered; the visitor's reply that only names one gets the
answer to the question, and the widget sends no "last article" for a reply that answered nothing. In
real headless Chromium against a real server. Screenshot: test-artifacts/widget-which-one.png."""
from __future__ import annotations

import json
import signal

import pytest

from app.bench import start_server
from tests.browser import browser, needs_chromium, shot  # noqa: F401 (browser is a fixture)
from tests.test_answers import HOTELS, hotel_articles
from tests.test_widget import bot_messages, host_page  # noqa: F401 (host_page is a fixture)

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def inns_page(tmp_path_factory, host_page):
    folder, origin = host_page
    knowledge = tmp_path_factory.mktemp("inns")
    for slug, text in hotel_articles().items():
        (knowledge / f"{slug}.md").write_text(text)
    log = open(tmp_path_factory.mktemp("inns-logs") / "server.log", "w")
    process, base, _ = start_server(tmp_path_factory.mktemp("inns-server") / "instance", log=log,
                                    settings={"QUIETDESK_CORS_ORIGINS": origin,
                                              "QUIETDESK_KNOWLEDGE_DIR": str(knowledge)})
    (folder / "inns.html").write_text(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Inns</title></head><body>"
        f"<h1>Our inns</h1><script src='{base.replace('127.0.0.1', 'localhost')}/widget.js' async></script>"
        f"</body></html>")
    yield origin + "/inns.html"
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


def test_the_widget_asks_which_place_and_a_name_alone_gets_the_answer(browser, inns_page):
    page = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    bodies = []
    page.on("request", lambda r: bodies.append(json.loads(r.post_data))
            if r.method == "POST" and r.url.endswith("/messages") else None)
    page.goto(inns_page)
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("button", name="Start chatting").click()

    def say(text, count):
        page.get_by_role("textbox", name="Your message").fill(text)
        page.get_by_role("button", name="Send").click()
        bot_messages(page).nth(count - 1).wait_for()
        return bot_messages(page).nth(count - 1)

    which = say("Is parking available?", 1)
    assert "That depends on which one you mean" in which.inner_text(), which.inner_text()
    places = which.locator("ul > li").all_inner_texts()
    assert len(places) >= 3 and set(places) < {title for title, _, _ in HOTELS}, places
    assert which.get_by_role("button", name="Talk to a human").count() == 1  # a person is still offered
    answer = say("Millbrook Lodge", 2)
    assert "Yes, parking is free behind the lodge." in answer.inner_text(), answer.inner_text()
    shot(page, "widget-which-one")
    first, second = bodies
    assert second["context"] == {"previous": ["Is parking available?"]}  # no article from "which one?"
    page.context.close()
