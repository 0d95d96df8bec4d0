"""Knowledge gaps: what visitors asked that the bot could not answer well, grouped by meaning.

Questions come from stored transcripts (so only scrubbed text, only with consent): those the bot
answered with "I don't know" and those whose answer got a thumbs down. Similar questions are grouped
with the chat's own sentence model; the most frequent gap comes first, since that article is the
one most worth writing.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.admin import audit
from app.admin.accounts import User
from app.chat import transcripts
from app.db import get_db
from app.retrieval.grouping import group_similar

RECENT = 500  # questions considered; grouping is quadratic in this


@dataclass(frozen=True)
class Gap:
    question: str  # the most typical wording in the group
    count: int
    unanswered: int
    thumbs_down: int
    last_asked: str
    examples: tuple[transcripts.GapQuestion, ...]


def knowledge_gaps(user: User) -> list[Gap]:
    """Return the recent gaps, most frequent first, and audit the view (it shows visitor text)."""
    db = get_db()
    questions = transcripts.gap_questions(db, RECENT)
    audit.record(db, f"user:{user.id}", "view_knowledge_gaps", f"questions:{len(questions)}")
    vectors = current_app.extensions["embedder"].encode([q.text for q in questions])
    gaps = []
    for rows in group_similar(vectors):
        members = [questions[r] for r in rows]
        gaps.append(Gap(members[0].text, len(members), sum(m.unanswered for m in members),
                        sum(m.thumbs_down for m in members), max(m.asked_at for m in members),
                        tuple(sorted(members, key=lambda m: m.asked_at, reverse=True)[:5])))
    return gaps
