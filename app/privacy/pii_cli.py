"""`run.py eval pii`: our scrubber, stock Presidio and the peers on one labelled file, in one run.

Registered on the `eval` group by run.py. Besides recall and precision it can report, for real
support queries (HINT3, banking77), the share each scrubber changes: what visitors would see masked.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from app.privacy.pii_eval import (
    HALVES,
    Case,
    Scores,
    changed_share,
    load_cases,
    score_side_by_side,
    split_templates,
)

ALL = "all"


def _settings() -> dict:
    from app import config

    try:
        return config.load(os.environ)
    except config.ConfigError as error:
        raise click.ClickException(str(error)) from None


def _queries(path: Path) -> tuple[list[str], list[str]]:
    """Return the queries of a {"query"} JSONL file and the vocabulary of a kb.jsonl beside it."""
    def rows(file: Path) -> list[dict]:
        with open(file, encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]

    try:
        texts = [row["query"] for row in rows(path)]
        kb = path.with_name("kb.jsonl")
        articles = rows(kb) if kb.exists() else []
        words = [t for row in articles
                 for t in (row.get("title", ""), *row.get("questions", []), row.get("body", ""))]
    except (ValueError, KeyError, TypeError) as error:
        raise click.ClickException(f"{path}: not a queries file ({error})") from None
    return texts, words


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@click.command("pii")
@click.option("--data", required=True, type=click.Path(path_type=Path),
              help="JSONL {text, spans: [{start, end, type}][, template_id]}.")
@click.option("--half", type=click.Choice([ALL, *HALVES]), default=ALL, show_default=True,
              help="Score one half of the file's sentence templates (split by --seed): develop on one, "
                   "report the other.")
@click.option("--seed", default=14, show_default=True, help="Seed of the template split.")
@click.option("--peers", is_flag=True, help="Add scrubadub and datafog rows (pip install -e '.[peers]').")
@click.option("--queries", multiple=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="JSONL {query}: also report the share each scrubber changes (ours also with the "
                   "kb.jsonl beside it).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, one section per scrubber.")
def eval_pii(data: Path, half: str, seed: int, peers: bool, queries: tuple[Path, ...], as_json: bool) -> None:
    """Score our scrubber, stock Presidio (same spaCy model) and optionally the peers in one run."""
    from app.engines import scrub_patterns
    from app.privacy.pii_peers import peer_mask_fns
    from app.privacy.scrubber import Scrubber, build_analyzer, build_stock_analyzer, stock_mask_fn

    settings = _settings()
    try:
        cases: list[Case] = load_cases(data)
    except (ValueError, OSError) as error:
        raise click.ClickException(str(error)) from None
    if half != ALL:
        cases = split_templates(cases, seed)[half]
    model = settings["SPACY_MODEL"]
    ours = Scrubber(build_analyzer(model, scrub_patterns(settings["SCRUB_PATTERNS"])), key=b"pii-eval")
    engines = {"ours": ours.mask_spans, "stock": stock_mask_fn(build_stock_analyzer(model))}
    absent: dict[str, str] = {}
    for name, found in (peer_mask_fns(model) if peers else {}).items():
        (absent if isinstance(found, str) else engines)[name] = found
    scores = dict(zip(engines, score_side_by_side(list(engines.values()), cases)))
    changed = {name: {} for name in engines}
    for path in queries:
        texts, words = _queries(path)
        for name, mask_fn in engines.items():
            changed[name][_label(path)] = changed_share(mask_fn, texts)
        ours.keep_terms(words)
        changed["ours"][f"{_label(path)} with KB words"] = changed_share(ours.mask_spans, texts)
        ours.keep_terms([])
    columns: dict[str, Scores | str] = {**scores, **absent}
    title = f"{data.name}: {len(cases)} sentences"
    if half != ALL:
        title += f", {half} half of templates (seed {seed})"
    click.echo(json.dumps(_document(columns, changed), indent=2) if as_json
               else _table(title, columns, changed))


def _document(columns: dict[str, Scores | str], changed: dict[str, dict[str, float]]) -> dict:
    from app.privacy.pii_eval import columns_to_json

    document = columns_to_json(columns)
    for name, shares in changed.items():
        if shares:
            document[name]["changed_share"] = shares
    return document


def _table(title: str, columns: dict[str, Scores | str], changed: dict[str, dict[str, float]]) -> str:
    from app.privacy.pii_eval import format_columns

    lines = [title, format_columns(columns)]
    labels = list(dict.fromkeys(label for shares in changed.values() for label in shares))
    if labels:
        lines.append("\nshare of queries changed by scrubbing:")
        names = list(changed)
        width = max(len(label) for label in labels)
        lines.append(" " * width + "".join(f"  {n:>10}" for n in names))
        for label in labels:
            cells = "".join(f"  {changed[n][label]:>10.3f}" if label in changed[n] else f"  {'-':>10}"
                            for n in names)
            lines.append(f"{label:<{width}}{cells}")
    return "\n".join(lines)
