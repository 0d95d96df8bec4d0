"""Measure passage answering in dialogues (DSTC format) with the product's own answer code.

Each turn brings the earlier messages (`context`) and the message to answer (`query`); the gold is
an article and the heading of the section that answers it, or none when the turn needs no article.
The caller passes the answering function (the chat pipeline's), so this module scores exactly what
the server would say. A threshold is fitted on the dev turns only; the scored file is never tuned on.
Rules: shared/eval/README.md, "Scoring rules for multi-turn passage answering".
"""
from __future__ import annotations

import random
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from app.chat.answer import Answer
from app.retrieval.evaluate import EvalDataError, _lines, write_kb

AnswerFn = Callable[[str, tuple[str, ...]], Answer]  # (turn, earlier messages oldest first) -> answer


@dataclass(frozen=True)
class Turn:
    text: str
    context: tuple[str, ...]  # earlier messages, oldest first, any speaker
    gold: tuple[tuple[str, str], ...]  # acceptable (article slug, section heading); () = needs no article
    dialogue: str


@dataclass(frozen=True)
class Said:
    """What one answering function said for one turn (at threshold 0: it always answers)."""

    article: str
    section: str
    confidence: float


@dataclass(frozen=True)
class DialogueScores:
    name: str
    precision: float  # detection: answered vs "needs the knowledge base"
    recall: float
    f1: float
    article_accuracy: float
    passage_accuracy: float
    r_at_1: float  # DSTC-comparable: harmonic mean of passage precision and passage recall
    turns_per_second: float
    threshold: float
    labelled: int
    turns: int


def slug(article_id: str) -> str:
    """The article slug `eval` gives a KB id (the same rule write_kb names its files by)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", article_id)


def _norm(heading: str) -> str:
    return " ".join(heading.split()).casefold()


def _gold(path: Path, number: int, row: dict) -> tuple[tuple[str, str], ...]:
    first = [{"label": row["label"], "passage": row.get("passage")}] if row["label"] else []
    pairs = row.get("gold") or first
    if not all(isinstance(p, dict) and isinstance(p.get("label"), str) and isinstance(p.get("passage"), str)
               for p in pairs):
        raise EvalDataError(f"{path}:{number}: a labelled turn needs \"passage\" "
                            "(and each gold item a label and a passage)")
    return tuple((slug(p["label"]), _norm(p["passage"])) for p in pairs)


def load_turns(path: Path) -> list[Turn]:
    """Read `{query, label, passage, context, dialogue[, gold]}` lines; label null = needs no article."""
    turns = []
    for number, row in _lines(path):
        context = row.get("context") if isinstance(row, dict) else None
        if not isinstance(row, dict) or not isinstance(row.get("query"), str) or "label" not in row \
                or not isinstance(row["label"], (str, type(None))) or not isinstance(context, list) \
                or not all(isinstance(c, dict) and isinstance(c.get("text"), str) for c in context):
            raise EvalDataError(f"{path}:{number}: needs \"query\", \"label\" (null: needs no article) and "
                                "\"context\" (a list of {role, text})")
        turns.append(Turn(row["query"], tuple(c["text"] for c in context), _gold(path, number, row),
                          str(row.get("dialogue", number))))
    return turns


def check_dialogue_files(kb: Path, queries: Path, dev: Path | None) -> None:
    """Parse every input file once, so bad data is reported before any model loads."""
    with tempfile.TemporaryDirectory(prefix="quietdesk-eval-check-") as folder:
        write_kb(kb, Path(folder))
    ids = {slug(row["id"]) for _, row in _lines(kb)}
    turns = load_turns(queries) + (load_turns(dev) if dev else [])
    unknown = sorted({a for t in turns for a, _ in t.gold if a not in ids})
    if unknown:
        raise EvalDataError(f"labels not in the KB: {', '.join(unknown[:5])}")


def split_dialogues(rows: list[dict], seed: int, share: float = 0.5) -> tuple[list[dict], list[dict]]:
    """Split turns by dialogue (a dialogue's turns stay together): (dev, rest), reproducible by seed."""
    dialogues = sorted({str(r.get("dialogue")) for r in rows})
    chosen = set(random.Random(seed).sample(dialogues, round(len(dialogues) * share)))
    inside = [str(r.get("dialogue")) in chosen for r in rows]
    return [r for r, i in zip(rows, inside) if i], [r for r, i in zip(rows, inside) if not i]


def run_turns(answer: AnswerFn, turns: list[Turn]) -> tuple[list[Said], float]:
    """Answer every turn, each dialogue's in its order (an engine may remember what it answered earlier in
    the dialogue, as the widget does); return what was said, in the turns' order, and the seconds it took."""
    said: list[Said | None] = [None] * len(turns)
    started = time.perf_counter()
    for number in sorted(range(len(turns)), key=lambda n: (turns[n].dialogue, len(turns[n].context))):
        reply = answer(turns[number].text, turns[number].context)
        said[number] = Said(reply.article, _norm(reply.section), reply.confidence)
    return said, time.perf_counter() - started


def _hit(said: Said, turn: Turn) -> bool:
    return (said.article, said.section) in turn.gold


def fit_threshold(said: list[Said], turns: list[Turn]) -> float:
    """Pick the threshold that maximises right passages plus right abstentions on these turns."""
    best, best_right = 0.0, -1
    for candidate in sorted({0.0} | {s.confidence for s in said}):
        right = sum((s.confidence >= candidate and _hit(s, t)) or (s.confidence < candidate and not t.gold)
                    for s, t in zip(said, turns))
        if right > best_right:
            best, best_right = candidate, right
    return best


def score(name: str, said: list[Said], turns: list[Turn], seconds: float, threshold: float) -> DialogueScores:
    """Summarise by the README's rules; a turn is answered when its confidence reaches the threshold."""
    answered = [s.confidence >= threshold for s in said]
    labelled = sum(bool(t.gold) for t in turns)
    true_pos = sum(a and bool(t.gold) for a, t in zip(answered, turns))
    hits = sum(a and _hit(s, t) for a, s, t in zip(answered, said, turns))
    articles = sum(a and s.article in {g for g, _ in t.gold} for a, s, t in zip(answered, said, turns))
    ratio = (lambda a, b: a / b if b else 0.0)
    precision, recall = ratio(true_pos, sum(answered)), ratio(true_pos, labelled)
    passage_p, passage_r = ratio(hits, sum(answered)), ratio(hits, labelled)
    return DialogueScores(name, precision, recall, ratio(2 * precision * recall, precision + recall),
                          ratio(articles, labelled), passage_r,
                          ratio(2 * passage_p * passage_r, passage_p + passage_r),
                          ratio(len(turns), seconds), threshold, labelled, len(turns))


def evaluate_dialogues(queries: list[Turn], dev: list[Turn], engines: dict[str, AnswerFn],
                       fixed: float | None = None) -> list[DialogueScores]:
    """Score each engine on the queries at its threshold fitted on dev (0 without dev); with `fixed`,
    add a row for the first engine at that threshold (the product's)."""
    results, first = [], None
    for name, answer in engines.items():
        threshold = fit_threshold(run_turns(answer, dev)[0], dev) if dev else 0.0
        said, seconds = run_turns(answer, queries)
        results.append(score(name, said, queries, seconds, threshold))
        first = first or (said, seconds)
    if fixed is not None and first:
        results.append(score("ours at the product threshold", first[0], queries, first[1], fixed))
    return results


def format_dialogue_table(results: list[DialogueScores]) -> str:
    """Render the results as an aligned text table."""
    lines = [f"{'engine':34} {'det P':>6} {'det R':>6} {'det F1':>6} {'article':>7} {'passage':>7} "
             f"{'R@1':>6} {'turns/s':>7} {'thresh':>6}"]
    for r in results:
        lines.append(f"{r.name:34} {r.precision:6.3f} {r.recall:6.3f} {r.f1:6.3f} {r.article_accuracy:7.3f} "
                     f"{r.passage_accuracy:7.3f} {r.r_at_1:6.3f} {r.turns_per_second:7.1f} "
                     f"{r.threshold:6.3f}")
    first = results[0]
    lines.append(f"({first.turns} turns, {first.labelled} need an article; thresholds fitted on dev only; "
                 "article/passage accuracy over the turns that need one; an abstention is wrong there)")
    return "\n".join(lines)
