"""One conversation turn: search the knowledge base, compose the answer, return the reply.

The visitor's raw text lives only in memory for the length of this call.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from app.chat.answer import Source, compose
from app.retrieval.embedder import Embedder
from app.retrieval.index import Index
from app.retrieval.search import best_passage, rank


@dataclass(frozen=True)
class Reply:
    answer: str
    sources: tuple[Source, ...]
    confidence: float
    handoff_offered: bool
    message_id: str


@dataclass(frozen=True)
class Pipeline:
    """The engines a turn needs, loaded once per process."""

    embedder: Embedder
    index: Index
    threshold: float

    def turn(self, text: str) -> Reply:
        """Answer one visitor message."""
        query = self.embedder.encode([text])[0]
        hits = rank(self.index, query)
        passage = best_passage(self.index, query, hits[0].article) if hits else None
        answer = compose(hits, passage, self.threshold)
        return Reply(answer.text, answer.sources, answer.confidence, answer.handoff_offered,
                     secrets.token_urlsafe(12))
