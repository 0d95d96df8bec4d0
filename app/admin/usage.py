"""Console analytics: a window of the daily counters as figures, with counts under 5 suppressed.

Viewing analytics writes no audit row, on purpose: the counters are aggregate, non-identifying numbers
(no visitor, no text, no time finer than a day), not the customer data whose every view is audited
(DESIGN §2.4). The one exception on the page, the unanswered topics, comes from the knowledge-gaps
grouping, which reads stored (scrubbed) visitor questions and audits that view itself.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from app.admin import gaps
from app.admin.accounts import User
from app.admin.charts import Figure, Row
from app.chat import analytics
from app.db import get_db

WINDOWS = (7, 30, 90)  # days a page looks back, today (UTC) included
SMALL = 5  # a count under this is shown as "< 5" and never drawn
SUPPRESSED = "< 5"
NO_RATE = "—"  # a rate whose part or whole is under 5 is not shown
TOP = 10
TURNS = ("answered", "unanswered", "person")
CONSENT_NOTE = "Counted only for visitors who allowed analytics."


@dataclass(frozen=True)
class Window:
    """The counters of the window's days, read once for every figure on the page."""

    days: tuple[str, ...]  # YYYY-MM-DD, oldest first
    counts: dict[str, Counter]  # day → metric → count

    def total(self, *metrics: str) -> int:
        return sum(self.counts[day][m] for day in self.days for m in metrics)

    def on(self, day: str, *metrics: str) -> int:
        return sum(self.counts[day][m] for m in metrics)


@dataclass(frozen=True)
class Report:
    days: int
    since: str
    until: str
    totals: tuple[tuple[str, str], ...]  # the window's headline figures: (what, shown value)
    figures: tuple[Figure, ...]


def shown(count: int) -> str:
    """Return a count as the console shows it: "< 5" under 5, else the number."""
    return SUPPRESSED if count < SMALL else str(count)


def drawn(count: int) -> int | None:
    """Return a count as a chart draws it: not at all (None) under 5."""
    return None if count < SMALL else count


def rate(part: int, whole: int) -> tuple[str, int | None]:
    """Return part/whole in percent, shown and drawn; "—" and not drawn when either is under 5
    (a rate over an exact whole would give a suppressed part away)."""
    if part < SMALL or whole < SMALL:
        return NO_RATE, None
    value = round(100 * part / whole)
    return str(value), value


def read_window(days: int, today: date | None = None) -> Window:
    """Read the counters of the last `days` days (today, UTC, included)."""
    today = today or datetime.now(timezone.utc).date()
    span = tuple((today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1))
    counts: dict[str, Counter] = {day: Counter() for day in span}
    for row in analytics.daily(get_db(), span[0]):
        if row.day in counts:
            counts[row.day][row.metric] += row.count
    return Window(span, counts)


def _activity(window: Window, user: User) -> Figure:
    counts = [(day, window.on(day, "conversation"), window.on(day, *TURNS)) for day in window.days]
    rows = tuple(Row(day, (shown(c), shown(t)), (drawn(c), drawn(t))) for day, c, t in counts)
    return Figure("activity", "Conversations and turns per day",
                  "A turn is one visitor message the bot replied to; a conversation counts once, on the day "
                  f"of its first counted turn. {CONSENT_NOTE}", "days",
                  ("Day (UTC)", "Conversations", "Turns"), (0, 1), False, rows)


def _rate_figure(name: str, title: str, caption: str, labels: tuple[str, str, str],
                 part: tuple[str, ...], whole: tuple[str, ...]) -> Callable[[Window, User], Figure]:
    def build(window: Window, user: User) -> Figure:
        rows = []
        for day in window.days:
            p, w = window.on(day, *part), window.on(day, *whole)
            cell, value = rate(p, w)
            rows.append(Row(day, (shown(p), shown(w), cell), (drawn(p), drawn(w), value)))
        return Figure(name, title, f"{caption} {CONSENT_NOTE}", "days", ("Day (UTC)", *labels), (2,), True,
                      tuple(rows))
    return build


def _articles(window: Window, user: User) -> Figure:
    rows = tuple(Row(title, (shown(uses),), (drawn(uses),))
                 for title, uses in analytics.top_articles(get_db(), window.days[0], TOP))
    return Figure("articles", f"Top {TOP} articles by use",
                  f"How often each article answered a question. {CONSENT_NOTE}", "ranking",
                  ("Article", "Answers from it"), (0,), False, rows)


def _topics(window: Window, user: User) -> Figure:
    unanswered = sorted((g for g in gaps.knowledge_gaps(user) if g.unanswered), key=lambda g: -g.unanswered)
    rows = tuple(Row(g.question, (shown(g.unanswered),), (drawn(g.unanswered),)) for g in unanswered[:TOP])
    return Figure("topics", f"Top {TOP} unanswered topics",
                  "Questions the bot could not answer, grouped by meaning (the knowledge-gaps page), from "
                  f"the latest {gaps.RECENT} such questions stored — only conversations kept with "
                  "transcripts consent, whatever the window.", "ranking", ("Topic (a typical question)", "Unanswered"),
                  (0,), False, rows)


FIGURES: dict[str, Callable[[Window, User], Figure]] = {
    "activity": _activity,
    "answer-rate": _rate_figure("answer-rate", "Answer rate per day",
                                "Turns answered from an article, out of all turns.",
                                ("Answered", "Turns", "Answer rate (%)"), ("answered",), TURNS),
    "handoff-rate": _rate_figure("handoff-rate", "Handoff rate per day",
                                 "Handoffs to a person opened, out of conversations counted that day.",
                                 ("Handoffs", "Conversations", "Handoff rate (%)"), ("handoff",),
                                 ("conversation",)),
    "thumbs": _rate_figure("thumbs", "Thumbs-up share per day",
                           "Answers rated thumbs up, out of rated answers (each answer's first rating).",
                           ("Thumbs up", "Rated answers", "Thumbs-up share (%)"), ("thumbs_up",),
                           ("thumbs_up", "thumbs_down")),
    "articles": _articles,
    "topics": _topics,
}


def _totals(window: Window) -> tuple[tuple[str, str], ...]:
    def share(part: tuple[str, ...], whole: tuple[str, ...]) -> str:
        cell = rate(window.total(*part), window.total(*whole))[0]
        return cell if cell == NO_RATE else cell + " %"
    return (("Conversations", shown(window.total("conversation"))), ("Turns", shown(window.total(*TURNS))),
            ("Answer rate", share(("answered",), TURNS)),
            ("Handoff rate", share(("handoff",), ("conversation",))),
            ("Thumbs-up share", share(("thumbs_up",), ("thumbs_up", "thumbs_down"))))


def report(user: User, days: int, today: date | None = None) -> Report:
    """Return every figure of the last `days` days, and the window's totals."""
    window = read_window(days, today)
    return Report(days, window.days[0], window.days[-1], _totals(window),
                  tuple(build(window, user) for build in FIGURES.values()))


def figure(user: User, name: str, days: int, today: date | None = None) -> Figure | None:
    """Return one figure of the last `days` days (for its CSV), or None for an unknown name."""
    build = FIGURES.get(name)
    return build(read_window(days, today), user) if build else None
