"""`run.py eval`: answer quality and scrubbing quality on labelled data, printed side by side
with baselines measured in the same run. Figures only; nothing here passes or fails.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import click

from app import config
from app.engines import scrub_patterns


def _settings() -> dict:
    try:
        return config.load(os.environ)
    except config.ConfigError as error:
        raise click.ClickException(str(error)) from None


@click.group("eval")
def eval_cli() -> None:
    """Measure answer quality and PII scrubbing on labelled data (see shared/eval/README.md)."""


@eval_cli.command("retrieval")
@click.option("--kb", "kb", required=True, type=click.Path(path_type=Path),
              help="JSONL, one article per line: {id, title, questions[, body]}.")
@click.option("--queries", required=True, type=click.Path(path_type=Path),
              help="JSONL {query, label}; label null = out of scope. Only scored.")
@click.option("--dev", type=click.Path(path_type=Path), help="JSONL like --queries; thresholds are fitted here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def eval_retrieval(kb: Path, queries: Path, dev: Path | None, as_json: bool) -> None:
    """Score our engine, a dense-only and a BM25-only baseline, and one ablation per mechanism."""
    from app.retrieval.embedder import Embedder, ModelError
    from app.retrieval.evaluate import EvalDataError, check_files, evaluate, format_table

    settings = _settings()
    try:
        check_files(kb, queries, dev)
        embedder = Embedder(settings["EMBEDDING_MODEL"], settings["TORCH_THREADS"])
        results = evaluate(kb, queries, dev, embedder)
    except (EvalDataError, ModelError) as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps({r.name: dataclasses.asdict(r) for r in results}, indent=2))
    else:
        click.echo(format_table(results))


@eval_cli.command("pii")
@click.option("--data", required=True, type=click.Path(path_type=Path),
              help="JSONL {text, spans: [{start, end, type}]}.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with ours and stock.")
def eval_pii(data: Path, as_json: bool) -> None:
    """Score our scrubber and stock Presidio (same spaCy model) in one run."""
    from app.privacy.pii_eval import format_table, run_pii_eval, to_json

    settings = _settings()
    try:
        ours, stock = run_pii_eval(data, settings["SPACY_MODEL"], scrub_patterns(settings["SCRUB_PATTERNS"]))
    except (ValueError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(to_json(ours, stock), indent=2) if as_json else format_table(ours, stock))
