"""The analytics page in real headless Chromium against a real server, at 360 and 1280 px wide: every
chart drawn as inline SVG with its table, nothing blocked by the console's CSP, nothing wider than the
screen, a CSV download. Screenshots go to test-artifacts/analytics-*.png."""
from __future__ import annotations

import csv
import io
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.bench import start_server
from app.chat import analytics
from app.config import ROOT
from app.db import connect, raw_key
from tests.browser import browser, fits, needs_chromium, shot  # noqa: F401 (browser is a fixture)
from tests.conftest import call

pytestmark = needs_chromium
PASSWORD = "violet-harbour-lantern-42"
FIGURES = 6


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("analytics") / "instance"
    log = open(tmp_path_factory.mktemp("analytics-logs") / "server.log", "w")
    process, base, _ = start_server(instance, log=log)
    created = subprocess.run([sys.executable, "run.py", "admin", "create", "--email", "lead@example.com"],
                             cwd=ROOT, input=PASSWORD + "\n", text=True, capture_output=True,
                             env={"QUIETDESK_INSTANCE": str(instance), "PATH": "/usr/bin:/bin"})
    assert created.returncode == 0, created.stderr
    yield base, instance
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


def chat(base: str, lines: list[str], transcripts: bool, rating: str | None = None,
         human: bool = False) -> None:
    """One visitor who allowed analytics (and maybe transcripts) says each line."""
    _, session = call(base + "/api/v1/sessions", {})
    token, conversation = session["visitor_token"], session["conversation_id"]
    call(base + "/api/v1/consent", {"analytics": True, "transcripts": transcripts}, token, method="PUT")
    for line in lines:
        status, reply = call(f"{base}/api/v1/conversations/{conversation}/messages", {"text": line}, token)
        assert status == 200, reply
    if rating:
        call(f"{base}/api/v1/messages/{reply['message_id']}/feedback", {"rating": rating}, token)
    if human:
        call(f"{base}/api/v1/conversations/{conversation}/handoff", {"grant_transcripts": True}, token)


def seed_history(instance) -> None:
    """Four weeks of earlier days, written as the counters would have been (no server holds history)."""
    path = instance / "quietdesk.db"
    db = connect(path, raw_key(path, (instance / "db.key").read_text().strip()))
    today = datetime.now(timezone.utc).date()
    articles = ["Shipping options, costs and delivery times", "Resetting your password",
                "Returning an item for a refund", "Tracking, changing or cancelling an order",
                "Warranty and faulty devices"]
    with db:
        for age in range(1, 29):
            day = (today - timedelta(days=age)).isoformat()
            conversations = 3 + (age * 7) % 11  # some days under 5, most above
            for metric, count in {"conversation": conversations, "answered": 2 * conversations + age % 4,
                                  "unanswered": conversations // 2, "person": age % 3, "handoff": age % 6,
                                  "thumbs_up": 4 + age % 5, "thumbs_down": age % 4}.items():
                for _ in range(count):
                    analytics.add(db, [metric], day=day)
            for rank, title in enumerate(articles):
                for _ in range(max(0, conversations - 2 * rank)):
                    analytics.add(db, [], [title], day=day)
    db.close()


def sign_in(page, base: str) -> None:
    page.goto(base + "/admin/login")
    page.get_by_label("Email").fill("lead@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Console").wait_for()


def watch(page) -> list[str]:
    page.set_default_timeout(90_000)  # a shared 2-core machine can be slow; a wrong page still fails
    problems = []  # a CSP violation is reported as a console error
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return problems


def test_analytics_page_at_phone_and_desktop_width(browser, server, tmp_path):
    base, instance = server
    for _ in range(3):
        chat(base, ["Is shipping free?", "How do I reset my password?"], transcripts=False)
    chat(base, ["Do you sell gift cards?", "Can I pay with gift cards?"], transcripts=True, human=True)
    chat(base, ["Do you sell gift cards?"], transcripts=True)
    chat(base, ["How do I return an item?"], transcripts=True, rating="up")
    seed_history(instance)

    context = browser.new_context(viewport={"width": 360, "height": 800}, accept_downloads=True)
    page = context.new_page()
    problems = watch(page)
    sign_in(page, base)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Analytics").click()
    page.get_by_role("heading", name="Analytics", level=1).wait_for()
    assert page.get_by_role("link", name="Last 30 days").get_attribute("aria-current") == "page"
    main = page.locator("main")
    assert main.locator("svg[role=img]").count() == FIGURES
    assert main.locator(".numbers table").count() == FIGURES  # gift cards make a topic: every figure has rows
    assert "gift cards" in page.locator("#topics table").inner_text()
    assert "Shipping options" in page.locator("#articles table").inner_text()
    assert fits(page)  # no sideways scrolling
    for width in page.locator("main svg").evaluate_all("s => s.map(e => e.getBoundingClientRect().width)"):
        assert 290 <= width <= 360  # the 360-unit drawing at >= 0.8 scale: its 15-unit labels stay >= 12 px
    shot(page, "analytics-360")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download “Conversations and turns per day” as CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == ["Day (UTC)", "Conversations", "Turns"] and len(rows) == 31
    table = page.locator("#activity tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.children].map(c => c.textContent))")
    assert table == rows[1:]

    page.get_by_role("link", name="Last 7 days").click()
    page.get_by_role("link", name="Last 7 days").and_(page.locator("[aria-current=page]")).wait_for()
    assert page.locator("#activity tbody tr").count() == 7

    wide = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    problems += watch(wide)
    sign_in(wide, base)
    wide.goto(base + "/admin/analytics?days=30")
    assert wide.locator("main svg[role=img]").count() == FIGURES
    chart = wide.locator("#activity .chart").bounding_box()
    numbers = wide.locator("#activity .numbers").bounding_box()
    assert numbers["x"] >= chart["x"] + chart["width"] - 1  # the table beside the chart, not under it
    shot(wide, "analytics-1280")
    assert problems == []
