"""`run.py bench http`: cold start, restart and one visitor's turn latency over HTTP."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import click

from app.bench.serving import QUESTIONS, post, rss_mb, start_server


@click.command("http")
@click.option("--turns", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16))
def bench_http(turns: int, workers: int) -> None:
    """Cold start to healthy (new instance, then restart) and one turn's latency over HTTP."""
    with tempfile.TemporaryDirectory(prefix="quietdesk-bench-") as folder:
        instance = Path(folder) / "instance"
        process, _, first = start_server(instance, workers)
        process.terminate(), process.wait(30)
        # Limits stay on (their database write is part of a turn's cost) but high enough for one visitor;
        # the answer cache is off, so every turn is searched (the questions repeat).
        process, base, restart = start_server(instance, workers, settings={
            "QUIETDESK_RATE_MESSAGES_PER_VISITOR": "1000000", "QUIETDESK_RATE_REQUESTS_PER_ADDRESS": "1000000",
            "QUIETDESK_ANSWER_CACHE": "0"})
        try:
            alone = _latencies(base, turns, with_context=False)
            in_context = _latencies(base, turns, with_context=True)
            rss = rss_mb(process.pid)
        finally:
            process.terminate(), process.wait(30)
    click.echo(f"cold start to healthy, new instance (builds index): {first:.1f} s")
    click.echo(f"cold start to healthy, restart (index on disk):     {restart:.1f} s")
    for label, latencies in (("alone", alone), ("with context", in_context)):
        click.echo(f"turn latency over HTTP, {turns} turns {label}: "
                   f"median {statistics.median(latencies):.1f} ms, "
                   f"p95 {latencies[int(0.95 * (turns - 1))]:.1f} ms, max {latencies[-1]:.1f} ms")
    click.echo(f"context costs a turn {statistics.median(in_context) - statistics.median(alone):+.1f} ms "
               "(median; the widget's last two messages and article)")
    click.echo(f"server memory ({workers} worker(s) + master): {rss:.0f} MB RSS")


def _latencies(base: str, turns: int, with_context: bool) -> list[float]:
    """One visitor's turns over the sample questions, sorted latencies.

    With context, each turn carries what the widget sends: the two messages before it and the article
    the last answer came from."""
    session = post(base + "/api/v1/sessions", {})
    url = f"{base}/api/v1/conversations/{session['conversation_id']}/messages"
    asked: list[str] = []
    article = ""
    latencies = []
    for i in range(turns):
        body: dict = {"text": QUESTIONS[i % len(QUESTIONS)]}
        if with_context and asked:
            body["context"] = {"previous": asked[-2:], "article": article}
        began = time.perf_counter()
        reply = post(url, body, session["visitor_token"])
        latencies.append((time.perf_counter() - began) * 1000)
        asked.append(body["text"])
        if reply.get("asked_which") or reply.get("sources"):  # kept through "I don't know", as the widget
            article = "" if reply.get("asked_which") else reply["sources"][0]["url"]
    return sorted(latencies)
