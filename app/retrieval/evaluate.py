"""Measure answer quality on labelled queries with the product's own ingestion, index and search.

A KB file (`{id, title, questions[, body]}` per line) becomes Markdown articles in a temporary
folder, read back by the real article loader, indexed by the real builder and saved and loaded
through the real store. Each query then goes through the chat pipeline's decision (answer with the
best article, or abstain below the threshold). Given an `answerer` (the CLI passes the chat pipeline's own
`answer`, as `eval dialogue` does), that decision is the pipeline's: the published figures are what the
server says, by construction. Thresholds are fitted on the dev file only; the queries file is only
scored. Without a dev file there is no out-of-scope data to fit on, so the threshold is 0 and nothing
abstains.
"""
from __future__ import annotations

import dataclasses

import json
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

from app.chat.answer import Answer, compose
from app.retrieval import index as index_store
from app.retrieval.articles import load_articles
from app.retrieval.embedder import Embedder
from app.retrieval.search import DENSE_ONLY, LEXICAL_ONLY, Weights, article_scores, top_hits
from app.retrieval.search import confidence as search_confidence


def engine_configs(unused: float = 0.0) -> dict[str, tuple[Weights, str]]:
    """The rows: ours as the server runs it (`unused`: QUIETDESK_UNUSED_WORDS_COST), the baselines, one
    ablation per mechanism, and ours with the unused-words cost switched (0.2 when off, off when on)."""
    ours = Weights(unused=unused)
    switched = unused_words_switched(ours)
    return {
        "ours": (ours, "score"),
        "dense-only baseline": (DENSE_ONLY, "score"),
        "lexical-only baseline (BM25)": (LEXICAL_ONLY, "score"),
        "ours without classifier": (dataclasses.replace(ours, classifier=0.0), "score"),
        "ours without lexical": (dataclasses.replace(ours, lexical=0.0), "score"),
        "ours without aggregation (top 1)": (dataclasses.replace(ours, top=1), "score"),
        "ours, margin as confidence": (ours, "margin"),
        switched[0]: (switched[1], "score"),
    }


def unused_words_switched(ours: Weights) -> tuple[str, Weights]:
    """The row that switches the unused-words cost of ours: on at 0.2 when it is off, off when it is on
    (then also the rank it costs an article with text)."""
    if ours.unused:
        return "ours without the unused-words cost", dataclasses.replace(ours, unused=0.0, unused_rank=0.0)
    return "ours with the unused-words cost 0.2", dataclasses.replace(ours, unused=0.2)


# (index, embedder, weights, threshold) -> the chat pipeline's answer to one question, configured so.
Answerer = Callable[[index_store.Index, Embedder, Weights, float], Callable[[str], Answer]]


class Remembering:
    """An embedder that encodes each distinct text once, so every row of a run pays one encode per text
    (the pipeline encodes its question itself: here, a lookup of the batch-encoded one)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder, self._known = embedder, {}
        self.name, self.identity, self.dimension = embedder.name, embedder.identity, embedder.dimension

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._known]
        if missing:
            self._known.update(zip(missing, self._embedder.encode(missing)))
        return np.stack([self._known[t] for t in texts]) if texts else self._embedder.encode([])


class EvalDataError(ValueError):
    """An evaluation file is missing, empty or malformed; the message names file and line."""


@dataclass(frozen=True)
class Query:
    text: str
    label: str | None


@dataclass(frozen=True)
class Scores:
    name: str
    accuracy: float
    recall_at_5: float
    mrr: float
    oos_recall: float | None
    abstention_rate: float
    queries_per_second: float
    threshold: float
    in_scope: int
    out_of_scope: int
    overall: float | None = None  # accuracy with out-of-scope counted as a class (abstaining is right)


def _lines(path: Path) -> list[tuple[int, dict]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise EvalDataError(f"{path}: cannot read: {error.strerror}") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                rows.append((number, json.loads(line)))
            except ValueError:
                raise EvalDataError(f"{path}:{number}: not valid JSON") from None
    if not rows:
        raise EvalDataError(f"{path}: no entries")
    return rows


def check_files(kb: Path, queries: Path, dev: Path | None) -> None:
    """Parse every input file once, so bad data is reported before any model loads."""
    with tempfile.TemporaryDirectory(prefix="quietdesk-eval-check-") as folder:
        write_kb(kb, Path(folder))
    ids = {row["id"] for _, row in _lines(kb)}
    labelled = load_queries(queries) + (load_queries(dev) if dev else [])
    unknown = sorted({q.label for q in labelled if q.label is not None and q.label not in ids})
    if unknown:
        raise EvalDataError(f"labels not in the KB: {', '.join(map(str, unknown[:5]))}")


def write_kb(path: Path, folder: Path) -> None:
    """Turn each KB line into a Markdown article with front matter under folder."""
    for number, row in _lines(path):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not row.get("title") \
                or not isinstance(row.get("questions", []), list):
            raise EvalDataError(f"{path}:{number}: needs id, title and a list of questions")
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", row["id"])
        meta = {"title": str(row["title"]), "url": f"kb:{row['id']}", "questions": row.get("questions", [])}
        body = row.get("body") or f"# {row['title']}"
        (folder / f"{slug}.md").write_text(f"---\n{yaml.safe_dump(meta)}---\n{body}\n", encoding="utf-8")


def load_queries(path: Path) -> list[Query]:
    """Read `{query, label}` lines; label null marks an out-of-scope query."""
    queries = []
    for number, row in _lines(path):
        if not isinstance(row, dict) or not isinstance(row.get("query"), str) or "label" not in row \
                or not isinstance(row["label"], (str, type(None))):
            raise EvalDataError(f"{path}:{number}: needs \"query\" and \"label\" (null for out of scope)")
        queries.append(Query(row["query"], row["label"]))
    return queries


def build_index(kb_path: Path, embedder: Embedder, chunk_chars: int = 900) -> index_store.Index:
    """Build, save and reload an index for the KB file in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="quietdesk-eval-") as folder:
        articles_dir = Path(folder) / "knowledge"
        articles_dir.mkdir()
        write_kb(kb_path, articles_dir)
        built = index_store.build(load_articles(articles_dir), embedder, chunk_chars)
        index_store.save(built, Path(folder) / "index")
        return index_store.load(Path(folder) / "index")


@dataclass(frozen=True)
class Outcome:
    """One query through one configuration: what it answered, how sure, where the gold ranked."""

    answered: str | None  # article url, or None when it abstained
    confidence: float
    gold_rank: int | None  # 1-based; None for out-of-scope queries


def run_queries(index: index_store.Index, vectors: np.ndarray, queries: list[Query], weights: Weights,
                confidence: str, threshold: float,
                answer: Callable[[str], Answer] | None = None) -> tuple[list[Outcome], float]:
    """Answer every query as the chat pipeline would (with `answer`: as it does); return outcomes and the
    seconds spent (ranking, and answering when `answer` is given)."""
    outcomes, started = [], time.perf_counter()
    number = {url: i for i, url in enumerate(index.chunks[r].url for r in index.first_rows)}
    url_of = {index.chunks[r].article: index.chunks[r].url for r in index.first_rows}
    for query, vector in zip(queries, vectors):
        scores = article_scores(index, vector, query.text, weights)  # for the gold's rank
        hits = top_hits(index, scores, 2) if query.text.strip() else []  # nothing asked: abstain
        if answer is not None and confidence == "score":  # the chat pipeline itself decides
            reply = answer(query.text)
            sure = reply.confidence
            answered = url_of[reply.article] if reply.article else None  # also one answered in part
        elif not hits:
            sure, answered = 0.0, None
        elif confidence == "score":  # the chat pipeline's decision, taken from its parts
            sure = search_confidence(index, int(np.argmax(scores)), hits[0].score, query.text, weights)
            hits[0] = dataclasses.replace(hits[0], score=sure)
            answered = None if compose(hits, None, threshold).handoff_offered else hits[0].url
        else:  # ablation: best minus second-best
            sure = hits[0].score - (hits[1].score if len(hits) > 1 else 0.0)
            answered = hits[0].url if sure >= threshold else None
        gold = number.get(f"kb:{query.label}") if query.label is not None else None
        place = 1 + int((scores > scores[gold]).sum()) if gold is not None else None
        outcomes.append(Outcome(answered, sure, place))
    return outcomes, time.perf_counter() - started


def fit_threshold(outcomes: list[Outcome], queries: list[Query]) -> float:
    """Pick the threshold that maximises accuracy with out-of-scope counted as a class."""
    pairs = [(o.confidence, o.gold_rank == 1, q.label is None) for o, q in zip(outcomes, queries)]
    best, best_correct = 0.0, -1
    for candidate in sorted({0.0} | {c for c, _, _ in pairs}):
        correct = sum((c >= candidate and top) or (c < candidate and oos) for c, top, oos in pairs)
        if correct > best_correct:
            best, best_correct = candidate, correct
    return best


def score(name: str, outcomes: list[Outcome], queries: list[Query], seconds: float,
          threshold: float) -> Scores:
    """Summarise outcomes by the rules in shared/eval/README.md."""
    inside = [(o, q) for o, q in zip(outcomes, queries) if q.label is not None]
    outside = [o for o, q in zip(outcomes, queries) if q.label is None]
    share = (lambda items, test: sum(map(test, items)) / len(items) if items else 0.0)
    return Scores(
        name=name,
        accuracy=share(inside, lambda p: p[0].answered == f"kb:{p[1].label}"),
        recall_at_5=share(inside, lambda p: (p[0].gold_rank or 10**9) <= 5),
        mrr=share(inside, lambda p: 1 / p[0].gold_rank if p[0].gold_rank else 0.0),
        oos_recall=share(outside, lambda o: o.answered is None) if outside else None,
        abstention_rate=share(inside, lambda p: p[0].answered is None),
        queries_per_second=len(queries) / seconds if seconds else 0.0,
        threshold=threshold, in_scope=len(inside), out_of_scope=len(outside),
        overall=(sum(p[0].answered == f"kb:{p[1].label}" for p in inside) + sum(o.answered is None for o in outside))
        / len(queries) if outside else None)


def evaluate(kb: Path, queries_path: Path, dev_path: Path | None, embedder: Embedder,
             configs: dict[str, tuple[Weights, str]] | None = None, fixed: float | None = None,
             scrub: Callable[[str], str] | None = None, answerer: Answerer | None = None) -> list[Scores]:
    """Score every configuration on the queries, each with its threshold fitted on dev (if given);
    with `fixed`, add a row for our engine at that threshold (the product's, untuned for this data).

    With `scrub` (the product's scrubber, as the server runs it) every query and dev query is scrubbed
    first, as a visitor's message is, and a last row scores our engine on the raw text: what scrubbing
    costs. With `answerer`, every row the chat pipeline can run (all but the BM25 baseline and the margin
    ablation) is answered by the pipeline configured with its weights."""
    check_files(kb, queries_path, dev_path)
    configs = configs or engine_configs()
    index = build_index(kb, embedder)
    queries, dev = load_queries(queries_path), load_queries(dev_path) if dev_path else []
    if scrub is None:
        return evaluate_configs(index, queries, dev, embedder, configs, fixed, answerer)
    raw = evaluate_configs(index, queries, dev, embedder, dict(list(configs.items())[:1]), fixed, answerer)
    queries, dev = ([Query(scrub(q.text), q.label) for q in items] for items in (queries, dev))
    return evaluate_configs(index, queries, dev, embedder, configs, fixed, answerer) + [
        dataclasses.replace(row, name=f"{row.name}, without scrubbing") for row in raw]


def evaluate_configs(index: index_store.Index, queries: list[Query], dev: list[Query], embedder: Embedder,
                     configs: dict[str, tuple[Weights, str]], fixed: float | None,
                     answerer: Answerer | None = None) -> list[Scores]:
    """Score each configuration (and, with `fixed`, ours at that threshold) on these queries."""
    embedder = Remembering(embedder)  # its own, so each call's queries/s include encoding them
    started = time.perf_counter()
    vectors = embedder.encode([q.text for q in queries])
    encode_seconds = time.perf_counter() - started
    dev_vectors = embedder.encode([q.text for q in dev]) if dev else None

    def run(vectors: np.ndarray, queries: list[Query], weights: Weights, confidence: str, threshold: float):
        served = answerer and confidence == "score" and (weights.dense or weights.classifier)
        answer = answerer(index, embedder, weights, threshold) if served else None
        return run_queries(index, vectors, queries, weights, confidence, threshold, answer)

    results = []
    for name, (weights, confidence) in configs.items():
        threshold = 0.0
        if dev:
            threshold = fit_threshold(run(dev_vectors, dev, weights, confidence, 0.0)[0], dev)
        outcomes, seconds = run(vectors, queries, weights, confidence, threshold)
        results.append(score(name, outcomes, queries, seconds + encode_seconds, threshold))
    if fixed is not None:
        weights, confidence = next(iter(configs.values()))
        outcomes, seconds = run(vectors, queries, weights, confidence, fixed)
        results.append(score("ours at the product threshold", outcomes, queries, seconds + encode_seconds, fixed))
    return results


def format_table(results: list[Scores]) -> str:
    """Render the results as an aligned text table."""
    lines = [f"{'engine':36} {'accuracy':>8} {'R@5':>6} {'MRR':>6} {'OOS rec':>7} {'abstain':>7} "
             f"{'overall':>7} {'q/s':>6} {'thresh':>6}"]
    for r in results:
        oos = f"{r.oos_recall:.3f}" if r.oos_recall is not None else "-"
        overall = f"{r.overall:.3f}" if r.overall is not None else "-"
        lines.append(f"{r.name:36} {r.accuracy:8.4f} {r.recall_at_5:6.3f} {r.mrr:6.3f} {oos:>7} "
                     f"{r.abstention_rate:7.3f} {overall:>7} {r.queries_per_second:6.0f} {r.threshold:6.3f}")
    first = results[0]
    lines.append(f"({first.in_scope} in-scope and {first.out_of_scope} out-of-scope queries; thresholds "
                 f"fitted on dev only; overall = accuracy with out-of-scope as a class; q/s includes encoding)")
    return "\n".join(lines)
