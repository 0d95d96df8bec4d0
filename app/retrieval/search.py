"""Rank articles for a query, and find the passage and sentences of one article that answer it.

An article's score fuses three signals, each explainable on its own:
- dense: the mean cosine of its best `top` entries (several matching phrasings beat one lucky one);
- classifier: the probability the linear model fitted to the knowledge base gives it;
- lexical: its BM25 score, scaled so the best article is 1 (exact terms such as error codes).
The fused score is divided by the sum of the weights, so it stays in [0, 1]. One query costs one
encode (done by the caller) and one FAISS search; the rest is arithmetic on vectors in memory.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from app.retrieval import classifier
from app.retrieval.articles import Chunk
from app.retrieval.index import CANDIDATES, Index, approximate
from app.retrieval.words import asked as asked_words, stems


@dataclass(frozen=True)
class Weights:
    """How the signals are fused. Defaults chosen on CLINC150's dev split (see the README)."""

    top: int = 2
    dense: float = 1.0
    classifier: float = 0.3
    lexical: float = 0.05
    unused: float = 0.2  # lost by a listed-questions article using none of the question's words (confidence)
    unused_rank: float = 0.15  # …and by an article with text of its own, in rank only (`context.decide`)


DENSE_ONLY = Weights(top=1, classifier=0.0, lexical=0.0, unused=0.0, unused_rank=0.0)
LEXICAL_ONLY = Weights(dense=0.0, classifier=0.0, lexical=1.0, unused=0.0, unused_rank=0.0)


@dataclass(frozen=True)
class Hit:
    """An article ranked for a query; score is the fused score in [0, 1]."""

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


def dense_scores(index: Index, query: np.ndarray, top: int) -> np.ndarray:
    """Return each article's mean cosine over its `top` best entries.

    A small index is scored exactly: every entry's cosine is one matrix-vector product. A large one
    asks its approximate index for the nearest entries and scores exactly only the articles they
    belong to; every other article gets 0 (it could not have ranked near the top).
    """
    query = query.reshape(-1).astype(np.float32)
    if not approximate(index.faiss_index):
        if index.article_starts is not None and top in (1, 2):
            return _best_two_means(index.article_starts, index.vectors @ query, top)
        return _article_means(index, np.arange(len(index.chunks)), index.vectors @ query, top)
    _, rows = index.faiss_index.search(query.reshape(1, -1), CANDIDATES)
    candidates = np.flatnonzero(np.isin(index.entry_article, index.entry_article[rows[0][rows[0] >= 0]]))
    return _article_means(index, candidates, index.vectors[candidates] @ query, top)


def _best_two_means(starts: np.ndarray, similarities: np.ndarray, top: int) -> np.ndarray:
    """_article_means for every entry of an index whose articles' entries are consecutive, top 1 or 2,
    without sorting: each article's best, then its best but one (a tie counts twice). Same numbers,
    ~0.02 ms instead of ~0.17 ms a query on HINT3's 1,398 entries."""
    best = np.maximum.reduceat(similarities, starts)
    if top == 1:
        return best.astype(np.float64)
    sizes = np.diff(np.append(starts, len(similarities)))
    is_best = similarities == np.repeat(best, sizes)
    second = np.maximum.reduceat(np.where(is_best, -np.inf, similarities), starts)
    second = np.where(np.add.reduceat(is_best, starts) > 1, best, second)
    return np.where(sizes > 1, best.astype(np.float64) + second.astype(np.float64), best) / np.minimum(sizes, 2)


def _article_means(index: Index, rows: np.ndarray, similarities: np.ndarray, top: int) -> np.ndarray:
    """Return each article's mean over its `top` best of the given entries (0 for an article with none)."""
    best_first = np.argsort(-similarities, kind="stable")
    rows, similarities = rows[best_first], similarities[best_first]
    articles = index.entry_article[rows]
    grouped = np.argsort(articles, kind="stable")  # by article, each group still best first
    sorted_articles = articles[grouped]
    place = np.arange(len(grouped)) - np.searchsorted(sorted_articles, sorted_articles, side="left")
    keep = place < top
    scores = np.bincount(sorted_articles[keep], similarities[grouped][keep], minlength=index.articles)
    counts = np.bincount(sorted_articles[keep], minlength=index.articles)
    return scores / np.maximum(counts, 1)


def article_scores(index: Index, query: np.ndarray, text: str, weights: Weights = Weights()) -> np.ndarray:
    """Return the fused score of every article, in index order.

    Lexical-only (the baseline) keeps raw BM25 scores: scaled to the best article they could
    never fall below a threshold, so it could never abstain.
    """
    if weights.dense == 0 and weights.classifier == 0:
        return index.lexical.scores(text)
    fused = np.zeros(index.articles, dtype=np.float32)
    if weights.dense:
        fused += weights.dense * dense_scores(index, query, weights.top)
    fitted = weights.classifier and index.weights.size  # a very large knowledge base has no classifier
    if fitted:
        fused += weights.classifier * classifier.probabilities(index.weights, index.bias, query)
    if weights.lexical:
        lexical = index.lexical.scores(text)
        fused += weights.lexical * lexical / max(float(lexical.max()), 1e-9)
    return fused / (weights.dense + (weights.classifier if fitted else 0.0) + weights.lexical)


def confidence(index: Index, number: int, score: float, text: str, weights: Weights = Weights()) -> float:
    """How sure we are that article `number` answers the question: its fused score, less a cost
    (QUIETDESK_UNUSED_WORDS_COST) for the share of the question's words that the article never uses —
    when the article is only a list of example questions (an intent: HINT3's, CLINC150's, banking77's).

    An out-of-scope question can sit close to an intent on everything else it says ("Is this product for
    women also?" on a mattress intent whose questions never say "women"); there the listed questions are
    all the words the article has, so a word none of them uses is telling: at 0.2, HINT3 at the product
    threshold gains 7.3 and 6.2 points on two bots and CLINC150 0.3 points overall. An article with text
    of its own answers paraphrases its words do not cover ("you took the money from my card two times"),
    so it pays nothing: on the sample articles the cost withheld 4 of 60 right answers, on DSTC11 it took
    article accuracy at 0.45 from 0.913 to 0.848 (README, *Answer quality*).
    """
    if not weights.unused or not index.listed_only[number]:
        return score
    return score - weights.unused * unused_share(index, number, text)


def unused_share(index: Index, number: int, text: str) -> float:
    """The share of the question's words that article `number` never uses (0 when it asks with none)."""
    return share_unused(asked_words(text), index.article_words[number])


def share_unused(words: set[str], used: frozenset[str]) -> float:
    """The share of `words` not in `used` (0 when there are none): `unused_share` for words read once."""
    return len(words - used) / len(words) if words else 0.0


def rank(index: Index, query: np.ndarray, text: str, limit: int = 5, weights: Weights = Weights()) -> list[Hit]:
    """Return up to limit articles, best first."""
    return top_hits(index, article_scores(index, query, text, weights), limit)


def top_hits(index: Index, scores: np.ndarray, limit: int) -> list[Hit]:
    """Turn article scores into up to limit hits, best first."""
    return [hit(index, int(number), float(scores[number]))
            for number in np.argsort(-scores, kind="stable")[:limit]]


def hit(index: Index, number: int, score: float) -> Hit:
    """Article `number` as a hit with the given score."""
    first = index.chunks[index.first_rows[number]]
    return Hit(first.article, first.title, first.url, score)


def ranked_passages(index: Index, query: np.ndarray, article: str, text: str = "",
                    prior: str = "", prior_bonus: float | None = None) -> list[tuple[float, Passage]]:
    """Return every passage of the article with its merit and per-sentence scores, best first (a tie keeps
    the article's order); the first answers the query.

    A passage is judged by its own similarity plus that of its best sentence (the whole passage gives
    the topic, the sentence the specific fact asked about), plus the share of its heading's words the
    question uses (a heading names what its section solves: "Requesting a reset link"), plus the share
    of the question's words it uses, each weighted by how few of the article's passages use it: among
    ten guest reviews, "is the view nice?" wants the one that mentions the view (DSTC11 dev turns with
    the right article: 344 -> 409 of 514 right sections; sample regression set 0.733 -> 0.750).
    The section anchored `prior`, the one the last answer quoted when this turn follows it up, gets
    PRIOR_SECTION_BONUS: "does that include express?" after the free-shipping section stays there instead
    of moving to delivery options, while "and how do I cancel it?" still moves (sample follow-ups: 71 -> 73
    of 88 right; 0.15 would keep three more and lose two that move). The caller may give it another
    `prior_bonus` (`context.Reading.section_prior`).
    """
    bonus = PRIOR_SECTION_BONUS if prior_bonus is None else prior_bonus
    asked, content = stems(text), asked_words(text)
    query = query.reshape(-1)
    rows = index.rows_of(article)
    used = [_words(index.chunks[row].text) for row in rows]
    rarity = _rarity(content, used)
    ranked: list[tuple[float, Passage]] = []
    for row, words in zip(rows, used):
        members = index.sentence_rows(row)
        scores = index.sentence_vectors[members] @ query
        sentences = tuple((index.sentences[i][1], float(s)) for i, s in zip(members, scores))
        candidate = Passage(index.chunks[row], float(index.vectors[row] @ query), sentences)
        merit = _merit(candidate) + WORDS_WEIGHT * sum(rarity[w] for w in content & words)
        if candidate.chunk.anchor:
            merit += HEADING_WEIGHT * _overlap(asked, candidate.chunk.heading)
            merit += bonus if prior and candidate.chunk.anchor == prior else 0.0
        else:  # the introduction sums up the sections; it answers only when nothing else does
            merit -= INTRO_COST
        ranked.append((merit, candidate))
    return sorted(ranked, key=lambda pair: -pair[0])


RELATED_GAP = 0.1  # a section this close behind the answered one is linked as "See also"
RELATED = 2  # at most this many


def runners_up(ranked: list[tuple[float, Passage]], gap: float = RELATED_GAP,
               limit: int = RELATED) -> tuple[Passage, ...]:
    """The sections that came within `gap` of the best one (other sections, not the introduction), up to
    `limit`: worth a "See also" link beside the answer. On the sample articles' regression sets (60
    questions, 88 follow-ups; 139 answered), 6 of the 16 answers from the right article's wrong section
    link the right one at 0.1 (4 at 0.05, still 6 at 0.2), and a link shows under 22 answers (12 at 0.05,
    44 at 0.2)."""
    if not ranked:
        return ()
    best_merit, best = ranked[0]
    found: list[Passage] = []
    for merit, passage in ranked[1:]:
        if merit < best_merit - gap or len(found) == limit:
            break
        heading = passage.chunk.heading
        if passage.chunk.anchor and heading != best.chunk.heading and all(heading != p.chunk.heading
                                                                          for p in found):
            found.append(passage)
    return tuple(found)


HEADING_WEIGHT = 0.3
WORDS_WEIGHT = 0.5
INTRO_COST = 0.15
PRIOR_SECTION_BONUS = 0.1  # on a merit's scale (two cosines and more): wins near-ties only


@lru_cache(maxsize=8192)
def _words(passage: str) -> frozenset[str]:
    """A passage's stems, remembered: the same passages are weighed turn after turn."""
    return frozenset(stems(passage))


def _rarity(asked: set[str], used: list[frozenset[str]]) -> dict[str, float]:
    """Weigh each asked word by how few passages use it (inverse document frequency), summing to 1."""
    count = len(used) + 1
    weights = {w: math.log(count / (sum(w in words for words in used) + 0.5)) for w in asked}
    total = sum(weights.values())
    return {w: v / total for w, v in weights.items()} if total > 0 else dict.fromkeys(asked, 0.0)


def _overlap(asked: set[str], heading: str) -> float:
    words = stems(heading)
    return len(asked & words) / len(words) if asked and words else 0.0


def _merit(passage: Passage) -> float:
    return passage.score + max((s for _, s in passage.sentences), default=passage.score)
