"""`run.py bench index`: index build and rebuild times for a knowledge base."""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import click


@click.command("index")
@click.option("--kb", "kb", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="JSONL knowledge base ({id, title, questions[, body]}), as for `eval retrieval`.")
@click.option("--scale", help="Instead: synthetic knowledge bases of these many entries, e.g. 1k,10k,100k.")
@click.option("--json", "as_json", is_flag=True, help="With --scale: print one JSON object.")
def bench_index(kb: Path | None, scale: str | None, as_json: bool) -> None:
    """Time a full index build, then a rebuild after one article changed, and a rebuild with none changed;
    or, with --scale, build time, size, memory and query latency as the knowledge base grows."""
    if scale:
        return _scale(scale, as_json)
    if kb is None:
        raise click.UsageError("give --kb FILE or --scale SIZES")
    from app.retrieval import index as index_store
    from app.retrieval.articles import load_articles
    from app.retrieval.embedder import Embedder
    from app.retrieval.evaluate import EvalDataError, write_kb

    embedder = Embedder()
    with tempfile.TemporaryDirectory(prefix="quietdesk-bench-") as folder:
        articles_dir = Path(folder) / "knowledge"
        articles_dir.mkdir()
        try:
            write_kb(kb, articles_dir)
        except EvalDataError as error:
            raise click.ClickException(str(error)) from None
        articles = load_articles(articles_dir)
        began = time.perf_counter()
        first = index_store.build(articles, embedder, 900)
        full = time.perf_counter() - began
        edited = sorted(articles_dir.glob("*.md"))[0]
        edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more sentence about this topic.\n",
                          encoding="utf-8")
        timings = []
        for previous in (None, first):
            began = time.perf_counter()
            index_store.build(load_articles(articles_dir), embedder, 900, previous)
            timings.append(time.perf_counter() - began)
    click.echo(f"{len(articles)} articles, {len(first.chunks)} entries, {len(first.sentences)} sentences")
    click.echo(f"full build: {full:.1f} s")
    click.echo(f"one article changed, everything re-encoded: {timings[0]:.1f} s")
    click.echo(f"one article changed, unchanged texts reused from the previous index: {timings[1]:.1f} s")


def _scale(sizes: str, as_json: bool) -> None:
    import os

    from app import config
    from app.bench.scale import held_out_queries, measure_scale, sentence_pool
    from app.engines import load_embedder
    from app.retrieval.model_files import exports

    try:
        counts = [int(float(n.lower().rstrip("k")) * (1000 if n.lower().endswith("k") else 1)) for n in sizes.split(",")]
    except ValueError:
        raise click.BadParameter("--scale takes sizes like 1k,10k,100k") from None
    settings = config.load(os.environ)
    embedder, pool, queries = load_embedder(settings), sentence_pool(), held_out_queries()
    rows = [measure_scale(n, embedder, exports(settings), pool, queries) for n in counts]
    if as_json:
        click.echo(json.dumps({"embedding_runtime": embedder.runtime, "precision": embedder.precision, "sizes": rows}, indent=2))
        return
    click.echo(f"{len(pool)} distinct eval sentences, {len(queries)} held-out questions; model on {embedder.runtime} ({embedder.precision})")
    click.echo("entries  articles  build s  index MB  process RSS MB  query p50 ms  p95 ms  "
               "with context p50 ms  p95 ms  search       recall@5")
    for row in rows:
        recall = "-" if row["recall_at_5"] is None else f"{row['recall_at_5']:.3f}"
        click.echo(f"{row['entries']:<8} {row['articles']:<9} {row['build_s']:<8} {row['index_mb']:<9} "
                   f"{row['rss_mb']:<15} {row['p50_ms']:<13} {row['p95_ms']:<7} "
                   f"{row['context_p50_ms']:<20} {row['context_p95_ms']:<7} "
                   f"{'approximate' if row['approximate'] else 'exact':<12} {recall}")
