"""Decide what the bot says: quote the sentences that answer, or admit it does not know.

A wrong confident answer costs a customer more than an honest "I don't know", so below the
confidence threshold the reply offers a human instead of guessing.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.retrieval.search import Hit, Passage

DONT_KNOW = ("I'm sorry, I couldn't find an answer to that in our help articles. "
             "Would you like me to connect you with someone from our support team?")
_MAX_SENTENCES = 3
_SENTENCE_MARGIN = 0.10  # keep sentences nearly as relevant as the best one
_MAX_CHARS = 600


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Answer:
    text: str
    sources: tuple[Source, ...]
    confidence: float
    handoff_offered: bool


def quote(passage: Passage) -> str:
    """Pick the passage's most relevant sentences (at most three), in their original order."""
    if not passage.sentences:
        return passage.chunk.text[:_MAX_CHARS]
    best = max(score for _, score in passage.sentences)
    ranked = sorted(range(len(passage.sentences)), key=lambda i: -passage.sentences[i][1])
    chosen = [i for i in ranked[:_MAX_SENTENCES] if passage.sentences[i][1] >= best - _SENTENCE_MARGIN]
    text = ""
    for i in sorted(chosen):
        candidate = f"{text} {passage.sentences[i][0]}".strip()
        if text and len(candidate) > _MAX_CHARS:
            break
        text = candidate
    return text


def compose(hits: list[Hit], passage: Passage | None, threshold: float) -> Answer:
    """Answer from the best article's passage, or say "I don't know" below the threshold."""
    score = hits[0].score if hits else 0.0
    confidence = round(max(0.0, min(1.0, score)), 3)
    if not hits or score < threshold:
        return Answer(DONT_KNOW, (), confidence, True)
    top = hits[0]
    text = quote(passage) if passage else f"Our article “{top.title}” covers this."
    return Answer(text, (Source(top.title, top.url),), confidence, False)
