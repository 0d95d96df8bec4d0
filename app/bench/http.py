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
        # Limits stay on (their database write is part of a turn's cost) but high enough for one visitor.
        process, base, restart = start_server(instance, workers, settings={
            "QUIETDESK_RATE_MESSAGES_PER_VISITOR": "1000000", "QUIETDESK_RATE_REQUESTS_PER_ADDRESS": "1000000"})
        try:
            session = post(base + "/api/v1/sessions", {})
            url = f"{base}/api/v1/conversations/{session['conversation_id']}/messages"
            latencies = []
            for i in range(turns):
                began = time.perf_counter()
                post(url, {"text": QUESTIONS[i % len(QUESTIONS)]}, session["visitor_token"])
                latencies.append((time.perf_counter() - began) * 1000)
            rss = rss_mb(process.pid)
        finally:
            process.terminate(), process.wait(30)
    latencies.sort()
    click.echo(f"cold start to healthy, new instance (builds index): {first:.1f} s")
    click.echo(f"cold start to healthy, restart (index on disk):     {restart:.1f} s")
    click.echo(f"turn latency over HTTP, {turns} turns: median {statistics.median(latencies):.1f} ms, "
               f"p95 {latencies[int(0.95 * (turns - 1))]:.1f} ms, max {latencies[-1]:.1f} ms")
    click.echo(f"server memory ({workers} worker(s) + master): {rss:.0f} MB RSS")
