"""`run.py bench index --scale`: what a query and a build cost as the knowledge base grows.

A seeded synthetic knowledge base is made from the eval sets' sentences (banking77, CLINC150 and HINT3
questions, DSTC knowledge snippets; ../shared/eval): each article a title, eight listed questions and
one paragraph, all distinct texts. For each size it reports the build time, the index's size on disk,
the memory of a fresh process that loads it with the embedding model (as a worker does) and one
question's p50/p95 through `Pipeline.answer` (encode, search, compose) there, alone and with the
widget's context: the two questions before it and the address of the answer to the last one (names
looked up, follow-up or last topic read); past the size where
search turns approximate, recall@5 of the approximate index against exact search.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from app.bench.serving import ROOT, memory_mb

EVAL = ROOT.parent / "shared" / "eval"
ENTRIES_PER_ARTICLE = 9  # eight questions and one paragraph
QUERIES = 200


def sentence_pool() -> list[str]:
    """Every distinct sentence of the eval knowledge bases and queries, in a fixed order."""
    seen: dict[str, None] = {}
    for path in sorted(EVAL.glob("*/kb.jsonl")) + sorted(EVAL.glob("*/*/kb.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for text in [*row.get("questions", []),
                         *re.split(r"(?<=[.?!])\s+|\n+", re.sub(r"^#.*$", "", row.get("body", ""), flags=re.M))]:
                if len(text.split()) >= 3:
                    seen.setdefault(" ".join(text.split()), None)
    return list(seen)


def write_synthetic(folder: Path, entries: int, pool: list[str], seed: int = 7) -> None:
    """Write entries // 9 articles whose texts are distinct pairs of pool sentences."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for number in range(max(1, entries // ENTRIES_PER_ARTICLE)):
        texts = [f"{rng.choice(pool)} {rng.choice(pool)}" for _ in range(ENTRIES_PER_ARTICLE + 1)]
        meta = {"title": f"Article {number}: {texts[0][:60]}", "url": f"https://help.example.com/a/{number}",
                "questions": texts[1:ENTRIES_PER_ARTICLE]}
        (folder / f"a{number}.md").write_text(f"---\n{yaml.safe_dump(meta)}---\n{texts[-1]}\n", encoding="utf-8")


def _measure(root: str, model_exports: str, precision: str, queries: list[str], out) -> None:
    """In a fresh process, as a worker: load model and index, then time one question at a time."""
    from app.retrieval.model_files import keep_torch_out

    keep_torch_out()  # as `run.py serve` does once the model is exported
    from app.chat.pipeline import Pipeline
    from app.retrieval import index as index_store
    from app.retrieval.embedder import Embedder
    from app.retrieval.context import TurnContext
    from app.retrieval.live import LiveIndex

    embedder = Embedder(exports=Path(model_exports), precision=precision)
    index = index_store.load(Path(root)).prepare()
    loaded = memory_mb(os.getpid())[0]
    pipeline = Pipeline(None, embedder, LiveIndex(index), 0.45)
    for text in queries[:10]:
        pipeline.answer(text)
    alone = _latencies(pipeline, [(text, None) for text in queries])
    # As the widget sends it: the visitor's two messages before, and the last answer's address.
    addresses, article = [], ""
    for answer in alone[2]:
        article = answer.address_after(article)
        addresses.append(article)
    in_context = _latencies(pipeline, [(text, TurnContext((queries[n - 2], queries[n - 1]), addresses[n - 1]))
                                       for n, text in enumerate(queries)])
    recall = None
    if index_store.approximate(index.faiss_index):
        vectors = embedder.encode(queries)
        _, found = index.faiss_index.search(vectors, 5)
        exact = np.argsort(-(vectors @ index.vectors.T), axis=1)[:, :5]
        recall = float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(found, exact)]))
    out.put({"rss_mb": round(loaded), "p50_ms": alone[0], "p95_ms": alone[1],
             "context_p50_ms": in_context[0], "context_p95_ms": in_context[1], "recall_at_5": recall,
             "approximate": index_store.approximate(index.faiss_index)})


def _latencies(pipeline, turns: list) -> tuple[float, float, list]:
    """p50 and p95, in ms, of answering each (text, context) in turn, and the answers."""
    took, answers = [], []
    for text, context in turns:
        began = time.perf_counter()
        answers.append(pipeline.answer(text, context))
        took.append((time.perf_counter() - began) * 1000)
    took.sort()
    return round(statistics.median(took), 1), round(took[int(0.95 * (len(took) - 1))], 1), answers


def measure_scale(entries: int, embedder, model_exports: Path, pool: list[str], queries: list[str]) -> dict:
    """Build a synthetic knowledge base of about `entries` entries and measure it."""
    from app.retrieval import index as index_store
    from app.retrieval.articles import load_articles

    with tempfile.TemporaryDirectory(prefix="quietdesk-scale-") as folder:
        knowledge, root = Path(folder) / "knowledge", Path(folder) / "index"
        write_synthetic(knowledge, entries, pool)
        articles = load_articles(knowledge)
        began = time.perf_counter()
        built = index_store.build(articles, embedder, 900)
        saved = index_store.save(built, root)
        build_s = time.perf_counter() - began
        size = sum(p.stat().st_size for p in saved.iterdir()) / 2**20
        spawn = multiprocessing.get_context("spawn")
        out = spawn.Queue()
        child = spawn.Process(target=_measure, args=(str(root), str(model_exports), embedder.precision, queries, out))
        child.start()
        figures = out.get(timeout=3600)
        child.join()
    return {"entries": len(built.chunks), "articles": len(articles), "build_s": round(build_s, 1),
            "index_mb": round(size, 1), **figures}


def held_out_queries(count: int = QUERIES, seed: int = 7) -> list[str]:
    """Real questions the pool does not contain: a seeded sample of banking77 and CLINC150 queries."""
    rows = [json.loads(line)["query"] for name in ("banking77", "clinc150")
            for line in (EVAL / name / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    return random.Random(seed).sample(rows, count)
