"""The widget in real headless Chromium, embedded on a page served from another loopback origin
than the API: consent, answer with sources, feedback, handoff, resume, export, erase; hostile CSS
and markup; keyboard only. Screenshots go to test-artifacts/."""
from __future__ import annotations

import http.server
import json
import signal
import socket
import threading
from pathlib import Path

import pytest

from app.bench import start_server
from tests.browser import browser, needs_chromium, shot  # noqa: F401 (browser is a fixture)
from tests.conftest import call

pytestmark = needs_chromium
MESSAGES_PER_MINUTE = 4
HOSTILE_CSS = """
* { color: #f0f !important; font-size: 30px !important; letter-spacing: 4px !important; }
div, section, button, form { display: none !important; } body > div#quietdesk-widget { display: block !important; }
button { background: lime !important; } a { pointer-events: none !important; }
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def host_page(tmp_path_factory):
    """A customer's site on its own origin, with hostile CSS, embedding the widget by one tag."""
    folder = tmp_path_factory.mktemp("site")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, origin
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def api(tmp_path_factory, host_page):
    _, origin = host_page
    log = open(tmp_path_factory.mktemp("widget-logs") / "server.log", "w")
    process, base, _ = start_server(tmp_path_factory.mktemp("widget") / "instance", log=log,
                                    settings={"QUIETDESK_CORS_ORIGINS": origin,
                                              "QUIETDESK_RATE_MESSAGES_PER_VISITOR": str(MESSAGES_PER_MINUTE)})
    yield base.replace("127.0.0.1", "localhost")  # a different origin from the host page
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def page_url(host_page, api):
    folder, origin = host_page
    (folder / "index.html").write_text(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Shop</title>"
        f"<style>{HOSTILE_CSS}</style></head><body><h1>Our shop</h1>"
        f"<script src='{api}/widget.js' data-title='Shop help' async></script></body></html>")
    return origin + "/index.html"


def bot_messages(page):
    return page.locator("#quietdesk-widget .msg.bot")


def test_whole_visitor_flow_across_origins(browser, page_url, api, tmp_path):
    context = browser.new_context(viewport={"width": 360, "height": 740}, accept_downloads=True)
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_url)
    launcher = page.get_by_role("button", name="Open chat")
    launcher.wait_for()
    shot(page, "1-launcher-closed")
    launcher.click()
    page.get_by_role("checkbox", name="Keep my conversation").check()
    shot(page, "2-consent")
    page.get_by_role("button", name="Start chatting").click()
    page.get_by_role("textbox", name="Your message").fill("Is shipping free?")
    page.get_by_role("button", name="Send").click()
    answer = bot_messages(page).first
    answer.wait_for()
    assert "$50" in answer.inner_text()
    source = answer.get_by_role("link")
    assert "shipping" in source.get_attribute("href")
    shot(page, "3-answered")

    answer.get_by_role("button", name="Helpful", exact=True).click()
    page.get_by_text("Thanks for the feedback.").wait_for()
    assert answer.get_by_role("button", name="Helpful", exact=True).get_attribute("aria-pressed") == "true"
    page.get_by_role("textbox", name="Your message").fill("thanks!")
    page.get_by_role("button", name="Send").click()
    welcome = bot_messages(page).nth(1)
    welcome.wait_for()
    assert "You're welcome!" in welcome.inner_text()
    assert welcome.get_by_role("button").count() == 0  # small talk: nothing to rate, no person offered
    shot(page, "3b-small-talk")
    page.get_by_role("button", name="More options").click()
    page.get_by_role("button", name="Talk to a human").first.click()
    page.get_by_text("has been asked to join").wait_for()

    page.reload()
    page.get_by_role("button", name="Open chat").click()
    bot_messages(page).first.wait_for()
    assert "Is shipping free?" in page.locator("#quietdesk-widget .msg.visitor").first.inner_text()

    token = json.loads(page.evaluate("Object.values(localStorage)[0]"))["token"]
    page.get_by_role("button", name="More options").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    exported = json.loads(Path(download.value.path()).read_text())
    texts = [m["text"] for m in exported["conversations"][0]["messages"]]
    assert texts[0] == "Is shipping free?" and exported["consent"]["current"]["transcripts"] is True

    page.get_by_role("button", name="More options").click()
    page.get_by_role("button", name="Delete my data").click()
    page.get_by_role("button", name="Yes, delete").click()
    page.get_by_text("Your data has been deleted.").wait_for()
    assert call(api + "/api/v1/consent", token=token)[0] == 401
    hosts = {url.split("/")[2] for url in requests}
    assert hosts <= {page_url.split("/")[2], api.split("/")[2]}  # no third party
    context.close()


def test_markup_in_messages_is_shown_as_text_and_never_runs(browser, page_url):
    page = browser.new_page()
    page.goto(page_url)
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("button", name="Start chatting").click()
    hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    page.get_by_role("textbox", name="Your message").fill(hostile)
    page.keyboard.press("Enter")
    bot_messages(page).first.wait_for()
    assert hostile in page.locator("#quietdesk-widget .msg.visitor").first.inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.getElementById('quietdesk-widget').shadowRoot.querySelectorAll('img, script').length") == 0


def test_keyboard_only(browser, page_url):
    page = browser.new_page()
    page.goto(page_url)
    page.get_by_role("button", name="Open chat").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "quietdesk-widget"
    page.keyboard.press("Enter")
    page.get_by_role("checkbox", name="Keep my conversation").wait_for()
    page.keyboard.press("Space")  # focus starts on the first consent choice
    assert page.get_by_role("checkbox", name="Keep my conversation").is_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Start chatting
    page.get_by_role("textbox", name="Your message").wait_for()
    page.keyboard.type("How do I reset my password?")
    page.keyboard.press("Enter")
    bot_messages(page).first.wait_for()
    assert "password" in bot_messages(page).first.inner_text().lower()
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog").is_hidden()
    focused = page.evaluate("document.getElementById('quietdesk-widget').shadowRoot.activeElement.getAttribute('aria-label')")
    assert focused == "Open chat"


def test_network_failure_shows_a_clear_message_and_retry_works(browser, page_url, api):
    page = browser.new_page()
    page.goto(page_url)
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("button", name="Start chatting").click()
    page.route("**/messages", lambda route: route.abort())
    page.get_by_role("textbox", name="Your message").fill("Is shipping free?")
    page.keyboard.press("Enter")
    page.get_by_text("We couldn't reach the assistant").wait_for()
    page.unroute("**/messages")
    page.get_by_role("button", name="Retry").click()
    bot_messages(page).first.wait_for()
    assert "$50" in bot_messages(page).first.inner_text()


def test_rate_limited_reply_says_so(browser, page_url):
    page = browser.new_page()
    page.goto(page_url)
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("button", name="Start chatting").click()
    for sent in range(1, MESSAGES_PER_MINUTE + 1):  # the server's real limit, not a faked response
        page.get_by_role("textbox", name="Your message").fill("Is shipping free?")
        page.keyboard.press("Enter")
        bot_messages(page).nth(sent - 1).wait_for()
    page.get_by_role("textbox", name="Your message").fill("Is shipping free?")
    page.keyboard.press("Enter")
    page.get_by_text("Too many messages at once").wait_for()


def test_german_strings_from_data_language(browser, host_page, api):
    folder, origin = host_page
    (folder / "de.html").write_text(f"<!doctype html><html lang='de'><body><script src='{api}/widget.js' "
                                    f"data-language='de' async></script></body></html>")
    page = browser.new_page()
    page.goto(origin + "/de.html")
    page.get_by_role("button", name="Chat öffnen").click()
    page.get_by_role("button", name="Chat beginnen").wait_for()
    assert page.get_by_role("checkbox", name="Mein Gespräch speichern").is_visible()


def test_demo_page_never_echoes_the_host_header(client):
    """Security review finding 9: `Host: evil.example` produced <script src="http://evil.example/widget.js">."""
    response = client.get("/demo", headers={"Host": "evil.example"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "evil.example" not in page
    assert '<script src="/widget.js"' in page and response.headers["Cache-Control"] == "no-store"


def test_pages_outside_the_console_carry_security_headers(client):
    """Issue 11 item 7 (wapiti): / and /demo had no CSP, no nosniff, no framing rule."""
    for response in (client.get("/demo"), client.get("/")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
