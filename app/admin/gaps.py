"""Knowledge gaps: what visitors asked that the bot could not answer well, grouped by meaning.

Questions come from stored transcripts (so only scrubbed text, only with consent): those the bot
answered with "I don't know" and those whose answer got a thumbs down. Similar questions are grouped
by the sentence vectors the chat computed when it answered them (stored with each message, so the
page does not re-encode hundreds of questions); the most frequent gap comes first, since that
article is the one most worth writing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
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


def _vectors(questions: list[transcripts.GapQuestion]) -> np.ndarray:
    """Return each question's stored sentence vector, encoding only those stored without one."""
    embedder = current_app.extensions["embedder"]
    missing = [i for i, q in enumerate(questions) if q.vector is None]
    encoded = embedder.encode([questions[i].text for i in missing])
    vectors = np.zeros((len(questions), embedder.dimension), dtype=np.float32)
    for i, q in enumerate(questions):
        if q.vector is not None:
            vectors[i] = np.frombuffer(q.vector, dtype=np.float32)
    vectors[missing] = encoded
    return vectors


def knowledge_gaps(user: User) -> list[Gap]:
    """Return the recent gaps, most frequent first, and audit the view (it shows visitor text)."""
    db = get_db()
    questions = transcripts.gap_questions(db, RECENT)
    audit.record(db, f"user:{user.id}", "view_knowledge_gaps", f"questions:{len(questions)}")
    vectors = _vectors(questions)
    gaps = []
    for rows in group_similar(vectors):
        members = [questions[r] for r in rows]
        gaps.append(Gap(members[0].text, len(members), sum(m.unanswered for m in members),
                        sum(m.thumbs_down for m in members), max(m.asked_at for m in members),
                        tuple(sorted(members, key=lambda m: m.asked_at, reverse=True)[:5])))
    return gaps
