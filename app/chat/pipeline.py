"""One conversation turn: scrub, search, compose, and store only if the visitor consented.

The visitor's raw text lives only in memory for the length of this call; everything after the
scrubber sees scrubbed text, and only that reaches the database.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

import numpy as np
import sqlcipher3
from flask import current_app

from app.chat import analytics, feedback, transcripts
from app.chat.answer import ANSWER_CHARS, Answer, Source, combine, compose, small_talk_answer, which_one
from app.chat.answer_cache import AnswerCache
from app.chat.intents import declines, small_talk, wants_human
from app.chat.scrubbed_memo import ScrubbedMemo
from app.db import get_db, transaction
from app.privacy import consent, subjects
from app.privacy.placeholders import Placeholders, asks_with_masked_values, for_search, question_to_search
from app.privacy.scrubber import Scrubber
from app.retrieval.context import (Signals, TurnContext, prior_section, question_reading, read_turn,
                                   texts_to_encode)
from app.retrieval.embedder import Embedder
from app.retrieval.live import LiveIndex
from app.retrieval.markdown import Block, Span
from app.retrieval.questions import split_questions
from app.retrieval.search import Weights, ranked_passages, runners_up

_SEPARATOR = "\n\n"  # the client's messages are single-spaced (routes fold their whitespace)
HUMAN_REQUESTED = "Of course — I'll ask a person from our support team to join this conversation."
_HUMAN_ANSWER = Answer(HUMAN_REQUESTED, (), 1.0, False,
                       blocks=(Block("paragraph", spans=(Span(HUMAN_REQUESTED),)),))


@dataclass(frozen=True)
class Reply:
    answer: str
    sources: tuple[Source, ...]
    confidence: float
    handoff_offered: bool
    message_id: str
    stored: bool
    blocks: tuple = ()  # the answer structured for the widget (app.retrieval.markdown.Block)
    human_requested: bool = False  # the visitor asked for a person: the widget starts the handoff
    asked_which: bool = False  # it asked which of several look-alikes was meant: its sources answered nothing


@dataclass(frozen=True)
class Pipeline:
    """The engines a turn needs, loaded once per process."""

    scrubber: Scrubber
    embedder: Embedder
    indexes: LiveIndex
    threshold: float
    weights: Weights = Weights()  # how ranking signals are fused (eval swaps in its baselines)
    signals: Signals = Signals()  # which context signals are used (eval switches each off)
    answer_chars: int = ANSWER_CHARS
    cache: AnswerCache | None = None  # the served pipeline remembers recent answers (app/chat/answer_cache.py)
    memo: ScrubbedMemo = field(default_factory=ScrubbedMemo)  # recent messages as scrubbed, for their context

    def answer(self, text: str, context: TurnContext | None = None) -> Answer:
        """Find and compose the answer to one (already scrubbed) message in its (scrubbed) context;
        touches no storage. `eval` calls this; a served turn goes through the same code."""
        return self._answer(self.indexes.current(), text, context or TurnContext(), self.answer_chars)[0]

    def _answer(self, index, text: str, context: TurnContext, limit: int) -> tuple[Answer, np.ndarray | None]:
        """Search with each placeholder read as "something" (app.privacy.placeholders.for_search); a
        message that was nothing but masked values (a name, an email) asks nothing and abstains."""
        quotable = not asks_with_masked_values(text)  # a question it cannot answer is quoted back as asked
        text = question_to_search(text)
        if not text:
            return compose([], None, self.threshold, limit), None
        context = TurnContext(tuple(for_search(t) for t in context.previous), context.article)
        if self.cache is None:
            return self._search(index, text, context, limit, quotable)
        key = (text, context.previous, context.article, limit, quotable)
        return self.cache.get(index.digest, key, lambda: self._search(index, text, context, limit, quotable))

    def _search(self, index, text: str, context: TurnContext, limit: int,
                quotable: bool = True) -> tuple[Answer, np.ndarray]:
        """Answer the message; one asking two or three questions that different sections answer gets
        each of them (`split_questions`), the later ones read after the earlier as the widget would send
        them ("do you ship to Canada and how much does it cost?"), and those no article answers are named
        (`combine`): quoted, unless a masked value stays in what the message asks (searched as "something",
        it would read so in the quote)."""
        answer, vector = self._search_one(index, text, context, limit)
        parts = self._questions(text)
        answers: list[Answer] = []
        article = context.article
        for part in parts:
            previous = (*context.previous, *parts[:len(answers)])
            answers.append(self._search_one(index, part, TurnContext(previous, article), limit, False)[0])
            article = answers[-1].address_after(article)
        return combine(answers, answer, tuple(parts), quotable) or answer, vector

    def _questions(self, text: str) -> list[str]:
        """The questions a message asks, when two or more of them ask the articles something
        ("is anyone there? how do I pair my lamp?" asks one); else []."""
        if not self.signals.questions:
            return []
        parts = [part for part in split_questions(text) if not (small_talk(part) or wants_human(part))]
        return parts if len(parts) > 1 else []

    def _search_one(self, index, text: str, context: TurnContext, limit: int,
                    related: bool = True) -> tuple[Answer, np.ndarray]:
        texts = texts_to_encode(index, text, context, self.signals)
        vectors = self.embedder.encode(texts)
        reading = read_turn(index, texts, vectors, context, self.signals, self.weights)
        if reading.alike:  # several places answer this alike and nothing says which one: ask
            return which_one(reading.alike, self.threshold), vectors[0]
        asked = question_reading(index, texts, self.signals)  # the section is chosen by what was asked
        prior = prior_section(reading.hit, text, context, self.signals)
        ranked = ranked_passages(index, vectors[asked], reading.hit.article, texts[asked], prior,
                                 reading.section_prior)
        passage = ranked[0][1] if ranked else None
        also = runners_up(ranked) if related else ()
        return compose([reading.hit], passage, self.threshold, limit, also), vectors[0]

    def turn(self, conversation: transcripts.Conversation, text: str,
             context: TurnContext | None = None) -> Reply:
        """Answer one visitor message in its context; store the scrubbed turn if transcripts are consented.

        The context the client sent is scrubbed like the message and lives only in memory for this call."""
        index = self.indexes.current()  # before scrubbing: a rebuilt index brings the scrubber its words
        db = get_db()
        granted = consent.current(db, conversation.visitor_id)  # read per turn: a withdrawal counts at once
        keep, count = granted["transcripts"], granted["analytics"]
        placeholders = Placeholders(*transcripts.placeholders(db, conversation.id)) if keep else None
        scrubbed = self.scrubber.scrub(text, placeholders)
        self.memo.remember(text, for_search(scrubbed.text))  # the next message's context holds this one
        chat = small_talk(scrubbed.text)  # "hi", "thanks!", "ok bye": no question for the articles either
        if not chat and declines(scrubbed.text) and not (context and context.article):
            chat = "acknowledged"  # "no" sent without an article (the widget: to an offer): declined
        if wants_human(scrubbed.text):  # a request for a person, not a question for the articles
            answer, vector = _HUMAN_ANSWER, None
        elif chat:
            answer, vector = small_talk_answer(chat), None
        else:
            answer, vector = self._answer(index, scrubbed.text, self._scrubbed(context),
                                          current_app.config.get("ANSWER_CHARS", self.answer_chars))
        message_id = transcripts.new_id()
        with transaction(db) if keep or count else nullcontext():  # the stored turn and its count: one write
            if keep and chat == "missed" and feedback.rate_last_answer_down(db, conversation.id) and count:
                analytics.add(db, ["thumbs_down"])  # said in words, counted as the answer's thumbs would be
            if keep:
                turn = transcripts.StoredTurn(scrubbed.text, answer.text, [asdict(s) for s in answer.sources],
                                              answer.confidence, answer.handoff_offered,
                                              None if vector is None else vector.tobytes(),
                                              answer.asked_which)
                mentions = [subjects.Mention(f.entity_type, f.fingerprint, conversation.id, f.placeholder)
                            for f in scrubbed.entities if f.fingerprint]
                transcripts.append_turn(db, conversation.id, turn, message_id, placeholders.labels)
                subjects.remember(db, conversation.visitor_id, mentions)
            if count and not chat:  # small talk is no turn the bot could answer or fail to
                _count_turn(db, conversation.id, answer)
        return Reply(answer.text, answer.sources, answer.confidence, answer.handoff_offered, message_id, keep,
                     blocks=answer.blocks, human_requested=answer.text is HUMAN_REQUESTED,
                     asked_which=answer.asked_which)

    def _scrubbed(self, context: TurnContext | None) -> TurnContext:
        """Scrub the earlier messages like the message itself: each one this worker scrubbed when it was
        sent comes from the memo, the rest in one pass (one NER run, not one per message).

        No conversation placeholders: nothing of the context is stored, and search reads every
        placeholder alike (app.privacy.placeholders.for_search).
        """
        if context is None or not context.previous:
            return context or TurnContext()
        known = [self.memo.recall(text) for text in context.previous]
        missing = [text for text, found in zip(context.previous, known) if found is None]
        if missing:
            joined = self.scrubber.scrub(_SEPARATOR.join(missing)).text.split(_SEPARATOR)
            if len(joined) != len(missing):  # a masked span crossed a separator: scrub one by one
                joined = [self.scrubber.scrub(text).text for text in missing]
            fresh = iter(joined)
            known = [found if found is not None else next(fresh) for found in known]
        return TurnContext(tuple(known), context.article)


def _count_turn(db: sqlcipher3.Connection, conversation_id: str, answer: Answer) -> None:
    """Count one turn in today's analytics (the caller checked `analytics` consent): its outcome, the
    articles it answered from, and the conversation itself on its first counted turn.

    Nothing of the visitor goes into the counters; the conversation row only gets a yes/no flag so it
    is counted once however many turns follow.
    """
    if answer.text is HUMAN_REQUESTED:
        outcome = "person"
    else:  # answered from an article, also in part (one of two questions: its gap is on the gaps page)
        outcome = "answered" if answer.article else "unanswered"
    articles = list(dict.fromkeys(s.title for s in answer.sources)) if outcome == "answered" else []
    first = transcripts.mark_counted(db, conversation_id)
    analytics.add(db, [outcome, "conversation"] if first else [outcome], articles)
