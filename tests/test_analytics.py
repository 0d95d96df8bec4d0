"""Analytics: counted only with `analytics` consent, per day, outcome and article, nothing that identifies
a visitor; purged after ANALYTICS_RETENTION_DAYS; the console page and its CSVs, small counts suppressed."""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest
import sqlcipher3

from app.admin import accounts, charts, usage
from app.chat import analytics
from app.db import connect
from app.privacy.retention import purge
from tests.conftest import Visitor

PASSWORD = "violet-harbour-lantern-42"
SVG = "{http://www.w3.org/2000/svg}"
ANSWERED, UNKNOWN = "How do I reset my password?", "what is the capital of Mongolia?"
PERSON = "I want to talk to a human"


def database(app):
    return connect(app.config["DB_PATH"], app.extensions["db_key"])


def today() -> str:
    return datetime.now(timezone.utc).date().isoformat()


def counters(app) -> dict[tuple[str, str], int]:
    """Every counter row as {(metric, article): count}, checking each is dated today."""
    rows = database(app).execute("SELECT day, metric, article, count FROM analytics_daily").fetchall()
    assert {row["day"] for row in rows} <= {today()}
    return {(row["metric"], row["article"]): row["count"] for row in rows}


def rate(visitor: Visitor, message_id: str, rating: str):
    return visitor.client.post(f"/api/v1/messages/{message_id}/feedback", json={"rating": rating},
                               headers=visitor.auth)


def ask_human(visitor: Visitor):
    return visitor.client.post(f"/api/v1/conversations/{visitor.conversation_id}/handoff",
                               json={"grant_transcripts": True}, headers=visitor.auth)


def signed_in(app, role: str = "reviewer"):
    accounts.create_user(database(app), f"{role}@example.com", role, PASSWORD)
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/admin/login", data={"email": f"{role}@example.com", "password": PASSWORD,
                                                 "csrf_token": token})
    assert response.status_code == 302
    return client


# --- counting -------------------------------------------------------------------------------


def test_a_visitor_without_analytics_consent_leaves_no_trace(app, client):
    db = database(app)
    before = db.execute("SELECT count(*) FROM analytics_daily").fetchone()[0]
    kept = Visitor(client)
    kept.consent(transcripts=True, analytics=False)
    message_id = kept.say(ANSWERED).json["message_id"]
    kept.say(UNKNOWN)
    assert rate(kept, message_id, "up").status_code == 200
    assert ask_human(kept).status_code == 201
    silent = Visitor(client)  # no consent at all
    silent.say(ANSWERED)
    silent.say(PERSON)
    assert db.execute("SELECT count(*) FROM analytics_daily").fetchone()[0] == before == 0
    assert db.execute("SELECT count(*) FROM conversations WHERE analytics_counted = 1").fetchone()[0] == 0


def test_outcomes_articles_conversations_and_thumbs_are_counted(app, client):
    counted_only = Visitor(client)
    counted_only.consent(analytics=True)
    assert counted_only.say(ANSWERED).json["sources"][0]["title"] == "Resetting your password"
    assert counted_only.say(UNKNOWN).json["handoff_offered"] is True
    assert counted_only.say(PERSON).json["human_requested"] is True
    unstored = counted_only.say(ANSWERED).json["message_id"]
    # Only a stored answer can be rated: without transcripts consent it is still "not found".
    assert rate(counted_only, unstored, "up").status_code == 404

    both = Visitor(client)
    both.consent(transcripts=True, analytics=True)
    message_id = both.say("Is shipping free?").json["message_id"]
    assert rate(both, message_id, "up").status_code == 200
    assert rate(both, message_id, "down").status_code == 200  # a changed mind is not a second rating
    other = both.say("How long does delivery take?").json["message_id"]
    assert rate(both, other, "down").status_code == 200
    assert ask_human(both).status_code == 201
    assert ask_human(both).status_code == 200  # the same open handoff: not counted again

    assert counters(app) == {
        ("conversation", ""): 2, ("answered", ""): 4, ("unanswered", ""): 1, ("person", ""): 1,
        ("handoff", ""): 1, ("thumbs_up", ""): 1, ("thumbs_down", ""): 1,
        ("article", "Resetting your password"): 2,
        ("article", "Shipping options, costs and delivery times"): 2}


def test_withdrawing_analytics_stops_counting_from_the_next_request(app, visitor):
    visitor.say(ANSWERED)  # before any consent: not counted, and the conversation is not marked
    visitor.consent(analytics=True)
    visitor.say(ANSWERED)
    assert counters(app)[("answered", "")] == 1
    visitor.consent(analytics=False)
    visitor.say(ANSWERED)
    visitor.say(UNKNOWN)
    assert counters(app) == {("conversation", ""): 1, ("answered", ""): 1,
                             ("article", "Resetting your password"): 1}
    visitor.consent(analytics=True)  # granted again: turns count, the conversation still once
    visitor.say(ANSWERED)
    assert counters(app)[("answered", "")] == 2 and counters(app)[("conversation", "")] == 1


def test_the_table_holds_days_metrics_and_counts_only(app):
    db = database(app)
    columns = {row["name"]: row["type"] for row in db.execute("PRAGMA table_info(analytics_daily)")}
    assert columns == {"day": "TEXT", "metric": "TEXT", "article": "TEXT", "count": "INTEGER"}
    for day in ("2026-03-01T10:15:00Z", "2026-03-01 10:15", "yesterday"):  # nothing finer than a day fits
        with pytest.raises(sqlcipher3.IntegrityError):
            analytics.add(db, ["answered"], day=day)
    with pytest.raises(sqlcipher3.OperationalError):  # WITHOUT ROWID: not even insertion order is kept
        db.execute("SELECT rowid FROM analytics_daily")
    with pytest.raises(sqlcipher3.IntegrityError):
        analytics.add(db, ["visitor 42"])


def test_retention_purge_drops_days_past_the_setting(app, runner):
    db = database(app)
    now = datetime.now(timezone.utc)
    for age in (0, 399, 401, 2000):
        day = (now - timedelta(days=age)).date().isoformat()
        analytics.add(db, ["answered"], ["Resetting your password"], day=day)
    result = runner.invoke(args=["purge"])  # the default: 400 days
    assert result.exit_code == 0, result.output
    ages = sorted((now.date() - datetime.fromisoformat(row[0]).date()).days
                  for row in db.execute("SELECT DISTINCT day FROM analytics_daily"))
    assert ages == [0, 399]
    purge(db, 30, analytics_days=7)
    assert [row[0] for row in db.execute("SELECT DISTINCT day FROM analytics_daily")] == [today()]


# --- the console page -----------------------------------------------------------------------


def seed(app, per_day: dict[int, dict[str, int]], articles: dict[str, int] = {}) -> None:
    """Write counters directly: {days ago: {metric: count}} and today's article uses."""
    db = database(app)
    now = datetime.now(timezone.utc).date()
    for age, metrics in per_day.items():
        for metric, count in metrics.items():
            for _ in range(count):
                analytics.add(db, [metric], day=(now - timedelta(days=age)).isoformat())
    for title, uses in articles.items():
        for _ in range(uses):
            analytics.add(db, [], [title])


def test_counts_under_five_are_shown_as_under_five_and_not_drawn(app):
    assert [usage.shown(n) for n in (0, 4, 5, 12)] == ["< 5", "< 5", "5", "12"]
    assert usage.rate(4, 100) == ("—", None) and usage.rate(50, 4) == ("—", None)
    assert usage.rate(45, 60) == ("75", 75)
    seed(app, {0: {"answered": 3}}, {"Resetting your password": 3, "Returning an item for a refund": 7})
    page = signed_in(app).get("/admin/analytics?days=7").get_data(as_text=True)
    articles = page[page.index('id="articles"'):page.index('id="topics"')]
    assert "<td>&lt; 5</td>" in articles and "<td>7</td>" in articles
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", articles, re.S).group(0))
    labels = [t.text for t in svg.iter(SVG + "text")]
    assert "1. Returning an…: 7" in labels and "2. Resetting your…: < 5" in labels
    assert len(bars(svg)) == 1  # no bar for "< 5"
    totals = page[page.index('class="totals"'):page.index('class="figure"')]
    assert "<dt>Turns</dt><dd>&lt; 5</dd>" in totals and "<dt>Answer rate</dt><dd>—</dd>" in totals


def bars(svg: ET.Element) -> list[ET.Element]:
    return [rect for group in svg.iter(SVG + "g") if group.get("class") == "series bars"
            for rect in group.iter(SVG + "rect")]


def lines(svg: ET.Element) -> list[list[int]]:
    """Each drawn series as the lengths of its unbroken runs of points (a lone point is a dot)."""
    series = []
    for group in svg.iter(SVG + "g"):
        if group.get("class") == "series lines":
            series.append([len(re.findall(r"[ML] ", part.get("d"))) if part.tag == SVG + "path" else 1
                           for part in group])
    return series


def runs(column: list[str]) -> list[int]:
    """The lengths of the runs of shown numbers in a CSV column ("< 5" and "—" break a run)."""
    found, length = [], 0
    for cell in column + ["—"]:
        if cell.isdigit():
            length += 1
        elif length:
            found, length = found + [length], 0
    return found


DRAWN = {"activity": (1, 2), "answer-rate": (3,), "handoff-rate": (3,), "thumbs": (3,)}  # CSV columns drawn


def test_each_csv_matches_its_chart_and_table(app):
    ages = {age: {"conversation": 5 + age % 3, "answered": 4 + 2 * age, "unanswered": age % 6, "person": 1,
                  "handoff": age % 7, "thumbs_up": 6 if age % 2 else 2, "thumbs_down": 1}
            for age in range(7) if age != 3}
    seed(app, ages, {"Resetting your password": 9, "Shipping options, costs and delivery times": 6,
                     "Returning an item for a refund": 2})
    client = signed_in(app, "admin")
    page = client.get("/admin/analytics?days=7").get_data(as_text=True)
    checked = 0
    for name in usage.FIGURES:
        response = client.get(f"/admin/analytics/{name}.csv?days=7")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert f'filename="quietdesk-{name}-7-days.csv"' in response.headers["Content-Disposition"]
        table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        section = page[page.index(f'id="{name}"'):]
        svg = ET.fromstring(re.search(r"<svg.*?</svg>", section, re.S).group(0))
        html_rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", section.split("</table>")[0])
        assert [[label] + re.findall(r"<td>(.*?)</td>", cells) for label, cells in html_rows] == \
            [[cell.replace("<", "&lt;") for cell in row] for row in table[1:]]
        if name in DRAWN:
            assert len(table) == 8 and table[-1][0] == today()
            drawn = [runs([row[i] for row in table[1:]]) for i in DRAWN[name]]
            assert lines(svg) == [r for r in drawn if r]
            checked += 1
        elif name == "articles":
            assert [row[1] for row in table[1:]] == ["9", "6", "< 5"]
            widths = sorted(float(rect.get("width")) for rect in bars(svg))
            assert len(widths) == 2 and widths[0] / widths[1] == pytest.approx(6 / 9)
            checked += 1
    assert checked == 5
    assert client.get("/admin/analytics/nothing.csv?days=7").status_code == 404


def test_the_page_is_for_both_roles_with_csp_safe_charts_and_clear_errors(app):
    seed(app, {0: {"conversation": 6, "answered": 8, "unanswered": 5}}, {"Resetting your password": 8})
    assert app.test_client().get("/admin/analytics").status_code == 302  # to the sign-in page
    for role in ("reviewer", "admin"):
        client = signed_in(app, role)
        response = client.get("/admin/analytics")
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "Last 30 days</a>" in page
        assert "style-src 'self';" in response.headers["Content-Security-Policy"]
        svgs = re.findall(r"<svg.*?</svg>", page, re.S)
        tables = page.count("<table class=") + page.count("Nothing counted yet.")
        assert len(svgs) == len(usage.FIGURES) == tables
        for svg in svgs:  # nothing the console's CSP would block, nothing fetched from elsewhere
            assert "style=" not in svg and "<style" not in svg and "<script" not in svg and " on" not in svg
            assert re.findall(r"https?://[^\"' ]+", svg) == ["http://www.w3.org/2000/svg"]
        assert "<dt>Answer rate</dt><dd>62 %</dd>" in page and "<dt>Conversations</dt><dd>6</dd>" in page
        bad = client.get("/admin/analytics?days=365")
        assert bad.status_code == 400 and "Choose a window of 7, 30 or 90 days." in bad.get_data(as_text=True)
        assert "Traceback" not in bad.get_data(as_text=True)


def test_charts_draw_nothing_for_a_window_with_only_small_counts():
    figure = charts.Figure("activity", "Turns", "", "days", ("Day", "Turns"), (0,), False,
                           tuple(charts.Row(day, ("< 5",), (None,)) for day in ("2026-03-01", "2026-03-02")))
    drawing = charts.svg(figure)
    assert "Nothing to draw" in drawing and "<path" not in drawing and "<circle" not in drawing


def test_a_csv_cell_a_spreadsheet_would_run_is_quoted():
    figure = charts.Figure("topics", "Topics", "", "ranking", ("Topic", "Unanswered"), (0,), False,
                           (charts.Row("=HYPERLINK(\"http://x\")", ("7",), (7,)), charts.Row("plain", ("< 5",), (None,))))
    rows = list(csv.reader(io.StringIO(charts.csv_text(figure))))
    assert rows == [["Topic", "Unanswered"], ["'=HYPERLINK(\"http://x\")", "7"], ["plain", "< 5"]]
