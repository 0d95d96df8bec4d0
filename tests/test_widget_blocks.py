"""The widget renders an answer's structured `blocks` (steps as a list, emphasis, http(s) links) with
DOM methods, and sends the conversation so far as `context` — kept in memory, never in localStorage —
so a follow-up is answered in context. In real headless Chromium, against a real server on another
origin. Screenshots: test-artifacts/widget-blocks.png (a list), widget-blocks-follow-up.png,
widget-follow-up-topic.png (three messages on one topic, then one the articles do not answer),
widget-two-questions.png (one message asking two questions, both answered),
widget-answered-in-part.png (one of two answered, the other named, a person offered) and
widget-see-also.png (links to sections that came close)."""
from __future__ import annotations

import json

import pytest

from tests.browser import browser, needs_chromium, shot  # noqa: F401 (browser is a fixture)
from tests.test_widget import api, bot_messages, host_page, page_url  # noqa: F401 (fixtures)

pytestmark = needs_chromium
SHADOW = "document.getElementById('quietdesk-widget').shadowRoot"


def open_chat(page, page_url):
    page.goto(page_url)
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("button", name="Start chatting").click()  # no transcripts consent: context still works


def recorded_chat(browser, page_url, width: int, height: int):
    """A chat opened in a fresh browser context whose requests are recorded: (context, page, requests)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r))
    open_chat(page, page_url)
    return context, page, requests


def say(page, text, count):
    page.get_by_role("textbox", name="Your message").fill(text)
    page.get_by_role("button", name="Send").click()
    page.wait_for_function(f"{SHADOW}.querySelectorAll('.msg.bot').length >= {count}")
    return bot_messages(page).nth(count - 1)


def message_bodies(requests):
    return [json.loads(r.post_data) for r in requests
            if r.method == "POST" and r.url.endswith("/messages")]


def test_steps_render_as_a_list_and_follow_ups_carry_context(browser, page_url):
    context, page, requests = recorded_chat(browser, page_url, 420, 900)

    # The sample article's "Pairing a new lamp" section: its five numbered steps, the button in bold.
    pairing = say(page, "how do I pair the lamp with the app", 1)
    assert pairing.locator("ol > li").count() == 5, pairing.inner_html()
    assert pairing.locator("li strong, p strong").all_inner_texts() == ["+ Add device"], pairing.inner_html()
    assert "Wi-Fi password" in pairing.inner_text() and "steady white" in pairing.inner_text()
    assert pairing.locator(".sr").first.inner_text() == "Assistant: "  # the screen-reader prefix stays

    # A section written as a list comes out as one: several <li>, bold codes inside them.
    codes = say(page, "what do the error codes on my lamp mean", 2)
    items = codes.locator("ol > li, ul > li")
    assert items.count() >= 3, codes.inner_html()
    assert "E12" in codes.locator("li strong").all_inner_texts()
    codes.locator("li").first.scroll_into_view_if_needed()
    shot(page, "widget-blocks")
    for answer in (pairing, codes):  # block links and sources: http(s) only, new tab, no opener
        assert answer.locator(".sources a").count() >= 1
        for link in answer.locator("a").all():
            assert link.get_attribute("href").startswith(("http://", "https://"))
            assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"

    say(page, "I forgot my password", 3)
    follow_up = say(page, "and how long is the link valid?", 4)
    assert "60 minutes" in follow_up.inner_text(), follow_up.inner_text()
    shot(page, "widget-blocks-follow-up")

    first, second, third, fourth = message_bodies(requests)
    assert "context" not in first  # nothing to send on the first message
    assert second["context"] == {"previous": ["how do I pair the lamp with the app"],
                                 "article": pairing.locator(".sources a").first.get_attribute("href")}
    assert third["context"]["previous"] == ["how do I pair the lamp with the app", "what do the error codes on my lamp mean"]
    assert fourth["context"]["previous"][-1] == "I forgot my password"
    assert "I forgot my password" in fourth["context"]["previous"]
    assert "password" in fourth["context"]["article"]

    stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    assert "forgot my password" not in stored and "pair the lamp" not in stored
    context.close()


def test_a_follow_up_two_messages_from_its_topic_is_answered_in_it(browser, page_url):
    """"how long does that take?" after "and to Germany?": the widget sends the address of the section the
    last answer quoted, whose heading reads the message (the message before names no topic); "are you
    hiring?" then leaves the topic and gets an honest "I don't know" with the person button."""
    context, page, requests = recorded_chat(browser, page_url, 360, 740)
    say(page, "how much does shipping cost", 1)
    say(page, "and to Germany?", 2)
    took = say(page, "how long does that take?", 3)
    assert "6–12 business days" in took.inner_text(), took.inner_text()
    assert took.locator(".sources a").first.get_attribute("href").endswith("#international-shipping")
    hiring = say(page, "are you hiring?", 4)
    assert "couldn't find an answer" in hiring.inner_text(), hiring.inner_text()
    assert hiring.get_by_role("button", name="Talk to a human").count() == 1
    shot(page, "widget-follow-up-topic")
    third, fourth = message_bodies(requests)[2:4]
    assert third["context"]["article"].endswith("#international-shipping")
    assert fourth["context"] == {"previous": ["how much does shipping cost", "and to Germany?",
                                              "how long does that take?"],
                                 "article": third["context"]["article"]}
    context.close()


def test_two_questions_in_one_message_get_both_answers(browser, page_url):
    """Each answer under its section's heading in bold, a link to that section; the article cited once."""
    context = browser.new_context(viewport={"width": 360, "height": 900})
    page = context.new_page()
    open_chat(page, page_url)
    both = say(page, "how do I return something and how long does the refund take", 1)
    headings = ["How to start a return", "When you get your money back"]
    assert [t for t in both.locator("p > a > strong").all_inner_texts() if t in headings] == headings
    assert "Return items" in both.inner_text() and "5–10 business days" in both.inner_text()
    links = [a.get_attribute("href") for a in both.locator("p > a").all() if a.inner_text() in headings]
    assert [link.rsplit("#", 1)[1] for link in links] == ["how-to-start-a-return",
                                                          "when-you-get-your-money-back"]
    assert both.locator(".sources a").count() == 1
    shot(page, "widget-two-questions")
    context.close()


def test_a_question_left_unanswered_is_named_and_the_answer_stays_the_topic(browser, page_url):
    """One question of two answered: its answer under its heading, the other quoted with the person
    button; the next message is still sent with the answer's section, so "how long does that take?" is
    about shipping abroad."""
    context, page, requests = recorded_chat(browser, page_url, 360, 900)
    part = say(page, "do you ship to the uk and do you have a store in berlin", 1)
    assert part.locator("p > a > strong").all_inner_texts() == ["International shipping"]
    said = part.inner_text()
    assert "couldn't find an answer to “do you have a store in berlin”" in said, said
    assert part.get_by_role("button", name="Talk to a human").count() == 1
    shot(page, "widget-answered-in-part")
    took = say(page, "how long does that take?", 2)
    assert "6–12 business days" in took.inner_text(), took.inner_text()
    assert message_bodies(requests)[1]["context"]["article"].endswith("#international-shipping")
    context.close()


def test_no_to_the_person_offered_after_an_answer_in_part_turns_it_down(browser, page_url):
    """The reply answered one question and offered a person for the other: a bare "no" goes without the
    answer's article, as after "I don't know", so it is the offer turned down and not searched (which got
    "I couldn't find an answer…" again)."""
    context, page, requests = recorded_chat(browser, page_url, 360, 740)
    say(page, "do you ship to the uk and do you have a store in berlin", 1)
    declined = say(page, "no", 2)
    assert declined.inner_text().endswith("Is there anything else I can help you with?"), declined.inner_text()
    assert message_bodies(requests)[1]["context"] == {"previous": [
        "do you ship to the uk and do you have a store in berlin"]}
    context.close()


def test_the_last_answers_article_is_kept_through_an_i_dont_know(browser, page_url):
    """"I entered the new one" after the email-change steps gets "I don't know"; the next message still
    goes with those steps' section, so "but it still shows the old one" is answered from it (sent without,
    it was another "I don't know"). A bare "no" to the offer goes without it: the offer turned down."""
    context, page, requests = recorded_chat(browser, page_url, 360, 900)
    steps = say(page, "I want to change my email address", 1)
    section = steps.locator(".sources a").first.get_attribute("href")
    assert section.endswith("#changing-your-email-address"), section
    missed = say(page, "I entered the new one", 2)
    assert "couldn't find an answer" in missed.inner_text(), missed.inner_text()
    still = say(page, "but it still shows the old one", 3)
    assert "verification link" in still.inner_text(), still.inner_text()
    assert still.locator(".sources a").first.get_attribute("href") == section
    assert [body["context"].get("article") for body in message_bodies(requests)[1:]] == [section, section]
    context.close()

    context, page, requests = recorded_chat(browser, page_url, 360, 900)  # a new visitor: four a minute
    say(page, "I want to change my email address", 1)
    say(page, "I entered the new one", 2)
    said = say(page, "no", 3).inner_text()
    assert said.endswith("Is there anything else I can help you with?"), said
    assert "article" not in message_bodies(requests)[2]["context"]
    context.close()


def test_a_section_close_behind_the_answer_is_a_see_also_link(browser, page_url):
    """The reset steps are a click away whichever of the two close sections the answer quotes."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    open_chat(page, page_url)
    also = say(page, "I can't remember my password", 1)
    assert also.locator("a[href$='#requesting-a-reset-link']").count() >= 1, also.inner_html()
    assert "See also:" in also.inner_text()
    for link in also.locator("a").all():
        assert link.get_attribute("href").startswith("https://help.lumenlamps.example/")
        assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"
    shot(page, "widget-see-also")
    context.close()


def test_unsafe_links_in_blocks_stay_text_and_history_stays_plain(browser, page_url):
    """A block's link that is not http(s) is shown as text; markup in spans is text, never HTML."""
    context = browser.new_context()
    page = context.new_page()
    open_chat(page, page_url)
    span = {"text": "", "strong": False, "em": False, "code": False, "href": None}
    reply = {"answer": "plain", "confidence": 0.9, "sources": [], "handoff_offered": False,
             "human_requested": False, "message_id": "m-fake", "handoff": None, "blocks": [
                 {"type": "paragraph", "items": [], "ordered": False, "spans": [
                     dict(span, text="<img src=x onerror=window.__pwned=1>", em=True),
                     dict(span, text="bad", href="javascript:window.__pwned=1"),
                     dict(span, text="good", href="https://example.com/help#pairing", strong=True),
                     dict(span, text="cfg", code=True)]},
                 {"type": "list", "spans": [], "ordered": False, "items": [[dict(span, text="one")], [dict(span, text="two")]]}]}

    def fake(route):
        if route.request.method == "POST":
            route.fulfill(status=200, content_type="application/json", body=json.dumps(reply))
        else:
            route.continue_()
    page.route("**/messages", fake)
    answer = say(page, "anything", 1)
    links = answer.locator("a")
    assert links.count() == 1 and links.first.get_attribute("href") == "https://example.com/help#pairing"
    assert answer.locator("a > strong").inner_text() == "good"
    assert "bad" in answer.inner_text() and answer.locator("code").inner_text() == "cfg"
    assert answer.locator("em").inner_text() == "<img src=x onerror=window.__pwned=1>"
    assert answer.locator("ul > li").all_inner_texts() == ["one", "two"]
    assert page.evaluate(f"{SHADOW}.querySelectorAll('img').length") == 0
    assert page.evaluate("window.__pwned") is None
    assert "plain" not in answer.inner_text()  # blocks win over the plain answer when present
    context.close()


@pytest.mark.parametrize("blocks", [[], None])
def test_plain_answer_when_blocks_are_missing_or_empty(browser, page_url, blocks):
    context = browser.new_context()
    page = context.new_page()
    open_chat(page, page_url)
    reply = {"answer": "Just the plain text.", "confidence": 0.9, "sources": [], "handoff_offered": False,
             "human_requested": False, "message_id": "m-plain", "handoff": None}
    if blocks is not None:
        reply["blocks"] = blocks
    page.route("**/messages", lambda route: route.fulfill(status=200, content_type="application/json",
                                                          body=json.dumps(reply))
               if route.request.method == "POST" else route.continue_())
    answer = say(page, "anything", 1)
    assert answer.inner_text().endswith("Just the plain text.")
    assert answer.locator("p, ul, ol").count() == 0
    context.close()
