"""Rank articles for a query, and find the passage and sentences of one article that answer it.

One query costs one encode (done by the caller) and one FAISS search; everything after that is
arithmetic over vectors already in memory.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.retrieval.articles import Chunk
from app.retrieval.index import Index

_CANDIDATES = 50


@dataclass(frozen=True)
class Hit:
    """An article ranked for a query; score is the cosine of its best-matching entry."""

    article: str
    title: str
    url: str
    score: float


@dataclass(frozen=True)
class Passage:
    """The passage of an article closest to the query, with each sentence's similarity."""

    chunk: Chunk
    score: float
    sentences: tuple[tuple[str, float], ...]


def rank(index: Index, query: np.ndarray, limit: int = 5) -> list[Hit]:
    """Return up to limit articles, best first, each scored by its best entry."""
    scores, rows = index.faiss_index.search(query.reshape(1, -1), min(_CANDIDATES, len(index.chunks)))
    best: dict[str, Hit] = {}
    for score, row in zip(scores[0], rows[0]):
        if row < 0:
            continue
        chunk = index.chunks[row]
        if chunk.article not in best:
            best[chunk.article] = Hit(chunk.article, chunk.title, chunk.url, float(score))
    return list(best.values())[:limit]


def best_passage(index: Index, query: np.ndarray, article: str) -> Passage | None:
    """Return the article's passage that best answers the query, with per-sentence scores.

    A passage is judged by its own similarity plus that of its best sentence: the whole
    passage gives the topic, the sentence the specific fact asked about.
    """
    query = query.reshape(-1)
    best: Passage | None = None
    for row in index.rows_of(article):
        members = index.sentence_rows(row)
        scores = index.sentence_vectors[members] @ query
        sentences = tuple((index.sentences[i][1], float(s)) for i, s in zip(members, scores))
        candidate = Passage(index.chunks[row], float(index.vectors[row] @ query), sentences)
        if best is None or _merit(candidate) > _merit(best):
            best = candidate
    return best


def _merit(passage: Passage) -> float:
    return passage.score + max((s for _, s in passage.sentences), default=passage.score)
