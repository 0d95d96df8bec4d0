"""`run.py bench`: measure the served product the way a visitor meets it, and print the figures.

Starts real `run.py serve` processes on loopback in a throw-away instance folder, so figures
include gunicorn, SQLCipher and the models — nothing is mocked. Traffic goes to 127.0.0.1 only.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO

import click

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ("Is shipping free?", "How do I reset my password?", "When will I get my refund?",
             "What does error E31 mean?", "How much is Lumen Plus?", "Can I cancel my order?",
             "Who won the world cup?", "Can I talk to a person?")


def _post(url: str, body: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    pids, total = [pid], 0
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        pids += [int(c) for c in children]
    return total / 1024


def start_server(instance: Path, workers: int = 1, log: IO | None = None,
                 settings: dict[str, str] | None = None,
                 new_session: bool = False) -> tuple[subprocess.Popen, str, float]:
    """Start `run.py serve` on a free loopback port and wait until /health is 200.

    Returns the process, its base URL and the seconds it took; the caller terminates it. With
    new_session the server (master and workers) is a process group of its own, led by the returned
    process, so `os.killpg(process.pid, signal)` reaches every worker.
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIETDESK_")}
    env.update({"QUIETDESK_INSTANCE": str(instance), **(settings or {})})
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "run.py", "serve", "--port", str(port),
                                "--workers", str(workers)], cwd=ROOT, env=env,
                               stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=new_session)
    base = f"http://127.0.0.1:{port}"
    try:
        while process.poll() is None and time.perf_counter() - started < 600:
            try:
                with urllib.request.urlopen(base + "/api/v1/health", timeout=5) as response:
                    if response.status == 200:
                        return process, base, time.perf_counter() - started
            except OSError:  # not listening yet, or the worker is still loading
                time.sleep(0.2)
        raise click.ClickException("the server did not become healthy")
    except BaseException:
        if new_session:  # workers too: none may outlive a failed start
            os.killpg(process.pid, signal.SIGKILL)
        process.kill()
        raise


@click.group("bench")
def bench_cli() -> None:
    """Benchmarks that print figures (never pass/fail)."""


@bench_cli.command("http")
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
            session = _post(base + "/api/v1/sessions", {})
            url = f"{base}/api/v1/conversations/{session['conversation_id']}/messages"
            latencies = []
            for i in range(turns):
                began = time.perf_counter()
                _post(url, {"text": QUESTIONS[i % len(QUESTIONS)]}, session["visitor_token"])
                latencies.append((time.perf_counter() - began) * 1000)
            rss = _rss_mb(process.pid)
        finally:
            process.terminate(), process.wait(30)
    latencies.sort()
    click.echo(f"cold start to healthy, new instance (builds index): {first:.1f} s")
    click.echo(f"cold start to healthy, restart (index on disk):     {restart:.1f} s")
    click.echo(f"turn latency over HTTP, {turns} turns: median {statistics.median(latencies):.1f} ms, "
               f"p95 {latencies[int(0.95 * (turns - 1))]:.1f} ms, max {latencies[-1]:.1f} ms")
    click.echo(f"server memory ({workers} worker(s) + master): {rss:.0f} MB RSS")


@bench_cli.command("index")
@click.option("--kb", "kb", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="JSONL knowledge base ({id, title, questions[, body]}), as for `eval retrieval`.")
def bench_index(kb: Path) -> None:
    """Time a full index build, then a rebuild after one article changed, and a rebuild with none changed."""
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
