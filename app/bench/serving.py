"""Start and measure a real served Quietdesk for the benchmarks and the served tests.

Starts real `run.py serve` processes on loopback in a throw-away instance folder, so figures
include gunicorn, SQLCipher and the models — nothing is mocked. Traffic goes to 127.0.0.1 only.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

import click

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ("Is shipping free?", "How do I reset my password?", "When will I get my refund?",
             "What does error E31 mean?", "How much is Lumen Plus?", "Can I cancel my order?",
             "Who won the world cup?", "Can I talk to a person?")


def post(url: str, body: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(master: int) -> float:
    """Resident memory of a served master and its workers together, in MB."""
    return sum(memory_mb(pid)[0] for _, pid in server_processes(master))


def server_processes(master: int) -> list[tuple[str, int]]:
    """Return (role, pid) of a served master and its workers: "master", "worker 1", "worker 2"…"""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [("master", master)] + [(f"worker {n}", int(pid)) for n, pid in enumerate(sorted(children, key=int), 1)]


def memory_mb(pid: int) -> tuple[float, float]:
    """Return a process's (RSS, PSS) in MB: PSS shares each shared page among the processes mapping it."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0, 0.0
    fields = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:] if line.endswith("kB")}
    return fields.get("Rss", 0) / 1024, fields.get("Pss", 0) / 1024


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(instance: Path, workers: int = 1, log: IO | None = None,
                 settings: dict[str, str] | None = None,
                 new_session: bool = False, command: list[str] | None = None) -> tuple[subprocess.Popen, str, float]:
    """Start `run.py serve` on a free loopback port and wait until /health is 200.

    Returns the process, its base URL and the seconds it took; the caller terminates it. command replaces
    `run.py serve` (the load benchmark starts its baseline app this way; it takes --port and --workers). With
    new_session the server (master and workers) is a process group of its own, led by the returned
    process, so `os.killpg(process.pid, signal)` reaches every worker.
    """
    port = free_port()
    # Only the exported-model cache passes through (tests share one, so no served test exports again).
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIETDESK_") or k == "QUIETDESK_MODEL_CACHE"}
    env.update({"QUIETDESK_INSTANCE": str(instance), **(settings or {})})
    started = time.perf_counter()
    command = command or [sys.executable, "run.py", "serve"]
    process = subprocess.Popen([*command, "--port", str(port), "--workers", str(workers)], cwd=ROOT, env=env,
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
        status = process.poll()
        raise click.ClickException("the server did not become healthy" if status is None
                                   else f"the server exited with status {status} before it became healthy")
    except BaseException:
        if new_session:  # workers too: none may outlive a failed start
            with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
                os.killpg(process.pid, signal.SIGKILL)
        process.kill()
        raise
