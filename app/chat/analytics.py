"""The analytics_daily table: aggregate counters per day, per outcome and per article.

Callers count only for visitors who granted `analytics` (the use cases check consent). A row holds a
day, a metric and a count — for article use also the article's title — and nothing that identifies a
visitor, a conversation or a moment finer than the day (DESIGN §13).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import sqlcipher3

from app.db import transaction

# conversation: counted once, on the day of its first counted turn; answered / unanswered / person: a
# turn the bot answered from an article, answered "I don't know" or asked which of several look-alike
# articles was meant (both offering a person), or in which the visitor asked for a person; handoff: a
# handoff opened; thumbs_*: an answer's first rating.
METRICS = ("conversation", "answered", "unanswered", "person", "handoff", "thumbs_up", "thumbs_down")
ARTICLE = "article"


@dataclass(frozen=True)
class DayCount:
    day: str  # YYYY-MM-DD (UTC)
    metric: str
    count: int


def add(db: sqlcipher3.Connection, metrics: Sequence[str], articles: Sequence[str] = (),
        day: str | None = None) -> None:
    """Add one to each metric and to each article's use on the day (today, UTC, unless given).

    One statement, in the caller's transaction if there is one, so a counted turn costs one upsert.
    """
    rows = [(m, "") for m in metrics] + [(ARTICLE, title) for title in articles]
    with transaction(db):
        db.executemany("INSERT INTO analytics_daily (day, metric, article, count) "
                       "VALUES (coalesce(?, date('now')), ?, ?, 1) "
                       "ON CONFLICT (day, metric, article) DO UPDATE SET count = count + 1",
                       [(day, metric, article) for metric, article in rows])


def daily(db: sqlcipher3.Connection, since: str) -> list[DayCount]:
    """Return the outcome counters of each day from `since` (YYYY-MM-DD) on, oldest first."""
    rows = db.execute("SELECT day, metric, count FROM analytics_daily WHERE day >= ? AND metric <> ? "
                      "ORDER BY day, metric", (since, ARTICLE))
    return [DayCount(row["day"], row["metric"], row["count"]) for row in rows]


def top_articles(db: sqlcipher3.Connection, since: str, limit: int) -> list[tuple[str, int]]:
    """Return the most used articles from `since` on as (title, uses), most used first."""
    rows = db.execute("SELECT article, sum(count) AS uses FROM analytics_daily WHERE day >= ? AND metric = ? "
                      "GROUP BY article ORDER BY uses DESC, article LIMIT ?", (since, ARTICLE, limit))
    return [(row["article"], row["uses"]) for row in rows]


def purge_before(db: sqlcipher3.Connection, day: str) -> int:
    """Delete the counters of days before `day` (YYYY-MM-DD); return how many rows went."""
    with transaction(db):
        return db.execute("DELETE FROM analytics_daily WHERE day < ?", (day,)).rowcount
