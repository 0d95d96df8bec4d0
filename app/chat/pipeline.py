"""One conversation turn: scrub, search, compose, and store only if the visitor consented.

The visitor's raw text lives only in memory for the length of this call; everything after the
scrubber sees scrubbed text, and only that reaches the database.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from app.chat import transcripts
from app.chat.answer import Answer, Source, compose
from app.chat.intents import wants_human
from app.db import get_db, transaction
from app.privacy import consent, subjects
from app.privacy.scrubber import Placeholders, Scrubber
from app.retrieval.embedder import Embedder
from app.retrieval.live import LiveIndex
from app.retrieval.search import best_passage, rank

HUMAN_REQUESTED = "Of course — I'll ask a person from our support team to join this conversation."


@dataclass(frozen=True)
class Reply:
    answer: str
    sources: tuple[Source, ...]
    confidence: float
    handoff_offered: bool
    message_id: str
    stored: bool
    human_requested: bool = False  # the visitor asked for a person: the widget starts the handoff


@dataclass(frozen=True)
class Pipeline:
    """The engines a turn needs, loaded once per process."""

    scrubber: Scrubber
    embedder: Embedder
    indexes: LiveIndex
    threshold: float

    def answer(self, text: str) -> Answer:
        """Find and compose the answer to one (already scrubbed) question; touches no storage."""
        return self._answer(text)[0]

    def _answer(self, text: str) -> tuple[Answer, np.ndarray]:
        index = self.indexes.current()
        query = self.embedder.encode([text])[0]
        hits = rank(index, query, text)
        passage = best_passage(index, query, hits[0].article) if hits else None
        return compose(hits, passage, self.threshold), query

    def turn(self, conversation: transcripts.Conversation, text: str) -> Reply:
        """Answer one visitor message; store the scrubbed turn if transcripts are consented."""
        db = get_db()
        keep = consent.current(db, conversation.visitor_id)["transcripts"]
        placeholders = Placeholders(*transcripts.placeholders(db, conversation.id)) if keep else None
        scrubbed = self.scrubber.scrub(text, placeholders)
        if wants_human(scrubbed.text):  # a request for a person, not a question for the articles
            answer, vector = Answer(HUMAN_REQUESTED, (), 1.0, False), None
        else:
            answer, vector = self._answer(scrubbed.text)
        message_id = transcripts.new_id()
        if keep:
            turn = transcripts.StoredTurn(scrubbed.text, answer.text, [asdict(s) for s in answer.sources],
                                          answer.confidence, answer.handoff_offered,
                                          None if vector is None else vector.tobytes())
            mentions = [subjects.Mention(f.entity_type, f.fingerprint, conversation.id, f.placeholder)
                        for f in scrubbed.entities if f.fingerprint]
            with transaction(db):
                transcripts.append_turn(db, conversation.id, turn, message_id, placeholders.labels)
                subjects.remember(db, conversation.visitor_id, mentions)
        return Reply(answer.text, answer.sources, answer.confidence, answer.handoff_offered,
                     message_id, keep, answer.text is HUMAN_REQUESTED)
