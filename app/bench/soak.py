"""`run.py bench soak`: serve steady mixed traffic for a while and watch memory, errors and latency.

One real server (gunicorn, 2 workers by default) on loopback in a throw-away instance, its retention
purge running every minute. An open-loop client sends R requests a second whatever the latency — a
slow server builds a queue rather than getting a gentler load — mixing what visitors do: sessions,
consent changes, turns (some with an email in them), feedback, polls, exports, erasures, health checks
and a few handoffs. Every minute it prints each process's RSS, the errors so far and that minute's
p95; at the end each process's RSS growth (first minute against last), the errors and the p95s.
Traffic goes to 127.0.0.1 only and stops by itself.
"""
from __future__ import annotations

import json
import random
import re
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click

from app.bench.serving import QUESTIONS, memory_mb, server_processes, start_server

# kind → share of the requests; a kind whose visitor is not to be had becomes a turn or a new session.
MIX = {"turn": 40, "health": 10, "feedback": 8, "session": 8, "consent": 8, "poll": 6, "export": 6,
       "erase": 4, "handoff": 2, "end": 2}
POOL = 40  # visitors kept; past it a "session" resumes one instead of creating another
# One client address sends everything: limits stay on (their writes are part of the cost) but out of reach.
SETTINGS = {"QUIETDESK_PURGE_INTERVAL_MINUTES": "1", "QUIETDESK_RATE_MESSAGES_PER_VISITOR": "1000000",
            "QUIETDESK_RATE_REQUESTS_PER_ADDRESS": "1000000"}
ERROR_LINE = re.compile(r"(?m)^.*(?: ERROR |\[ERROR\]).*$")  # ours, then gunicorn's


@dataclass
class Visitor:
    token: str
    conversation: str
    transcripts: bool = False
    answer: str | None = None  # a stored answer's id, for feedback
    handoff: bool = False


NEEDS: dict[str, Callable[[Visitor], bool]] = {"feedback": lambda v: v.answer is not None,
                                               "end": lambda v: v.handoff}


class Fleet:
    """The visitors the soak acts for, each in one request at a time (so an erasure never races)."""

    def __init__(self) -> None:
        self.lock, self.idle, self.busy = threading.Lock(), [], 0

    def add(self, visitor: Visitor) -> None:
        with self.lock:
            self.idle.append(visitor)

    def take(self, rng: random.Random, kind: str = "") -> Visitor | None:
        """Take an idle visitor fit for this kind of request, or None."""
        with self.lock:
            fitting = [v for v in self.idle if NEEDS.get(kind, lambda v: True)(v)]
            if not fitting:
                return None
            self.idle.remove(chosen := rng.choice(fitting))
            self.busy += 1
            return chosen

    def give_back(self, visitor: Visitor, keep: bool) -> None:
        with self.lock:
            self.busy -= 1
            if keep:
                self.idle.append(visitor)


class Recorder:
    """Every request's (minute, kind, milliseconds since it was due), and the errors by kind and cause."""

    def __init__(self, began: float) -> None:
        self.began, self.lock = began, threading.Lock()
        self.samples: list[tuple[int, str, float]] = []
        self.errors: Counter[str] = Counter()

    def add(self, due: float, kind: str, error: str | None) -> None:
        with self.lock:
            self.samples.append((int((due - self.began) // 60), kind, (time.perf_counter() - due) * 1000))
            if error:
                self.errors[f"{kind} {error}"] += 1

    def p95(self, minute: int | None = None, kind: str | None = None) -> tuple[int, float]:
        """Return how many requests (of this minute, of this kind) were answered, and their p95 in ms."""
        with self.lock:
            times = sorted(ms for m, k, ms in self.samples if minute in (None, m) and kind in (None, k))
        return len(times), times[int(0.95 * (len(times) - 1))] if times else float("nan")


def choose(fleet: Fleet, rng: random.Random, kind: str) -> tuple[str, Visitor | None]:
    """Return the kind of request to make and the visitor it is for: a kind whose visitor is not to be
    had becomes a turn, then a new session; past POOL visitors a new session resumes one instead."""
    if kind == "health":
        return kind, None
    if kind == "session":
        if len(fleet.idle) + fleet.busy < POOL:  # unlocked: a visitor more or less does not matter
            return kind, None
        visitor = fleet.take(rng)
        return ("resume", visitor) if visitor else ("health", None)
    visitor = fleet.take(rng, kind)
    if visitor is None and kind in NEEDS:
        kind, visitor = "turn", fleet.take(rng)
    return (kind, visitor) if visitor else ("session", None)


def plan(kind: str, visitor: Visitor | None, rng: random.Random) -> tuple[str, str, Any, tuple[int, ...]]:
    """Return the method, path, JSON body and the statuses that mean success of one request."""
    if visitor is None:
        return {"health": ("GET", "/api/v1/health", None, (200,)),
                "session": ("POST", "/api/v1/sessions", {}, (201,))}[kind]
    conversation = f"/api/v1/conversations/{visitor.conversation}"
    text = rng.choice(QUESTIONS)
    if rng.random() < 0.1:  # now and then an email, for the scrubber and the subject keys
        text += f" My email is soak.{rng.randrange(10**6)}@example.com"
    return {"resume": ("POST", "/api/v1/sessions", {}, (200,)),
            "turn": ("POST", conversation + "/messages", {"text": text}, (200,)),
            "consent": ("PUT", "/api/v1/consent", {"transcripts": rng.random() < 0.8,
                                                   "analytics": rng.random() < 0.5}, (200,)),
            "feedback": ("POST", f"/api/v1/messages/{visitor.answer}/feedback",
                         {"rating": rng.choice(("up", "down"))}, (200,)),
            "poll": ("GET", conversation + "/messages", None, (200,)),
            "export": ("GET", "/api/v1/me/export", None, (200,)),
            "erase": ("DELETE", "/api/v1/me", None, (200,)),
            "handoff": ("POST", conversation + "/handoff", {"grant_transcripts": True}, (200, 201)),
            "end": ("POST", conversation + "/handoff/end", {}, (200,))}[kind]


def remember(kind: str, visitor: Visitor | None, sent: Any, answer: dict, fleet: Fleet) -> bool:
    """Follow a successful request's effect on the visitor's state; return False if they are gone."""
    if kind == "session":
        fleet.add(Visitor(answer["visitor_token"], answer["conversation_id"]))
    elif kind == "consent":
        visitor.transcripts = sent["transcripts"]
        visitor.answer = visitor.answer if visitor.transcripts else None
    elif kind == "turn" and visitor.transcripts:
        visitor.answer = answer["message_id"]
    elif kind in ("handoff", "end"):
        visitor.handoff = kind == "handoff"
        visitor.transcripts = visitor.transcripts or kind == "handoff"
    return kind != "erase"


def call(base: str, method: str, path: str, body: Any, token: str | None) -> tuple[int, dict]:
    """Make one request; return the status and the JSON answer ({} for an error status)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data, {"Content-Type": "application/json"}, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def act(base: str, fleet: Fleet, rng: random.Random, wanted: str, due: float, recorder: Recorder) -> None:
    """Make one request of (about) the wanted kind and record how it went."""
    kind, visitor = choose(fleet, rng, wanted)
    keep, error = True, None
    try:
        method, path, body, success = plan(kind, visitor, rng)
        status, answer = call(base, method, path, body, visitor.token if visitor else None)
        if status in success:
            keep = remember(kind, visitor, body, answer, fleet)
        else:
            error = f"HTTP {status}"
    except Exception as failure:  # refused, reset, timed out, unreadable: the server did not answer well
        error = type(failure).__name__
    finally:
        if visitor is not None:
            fleet.give_back(visitor, keep)
    recorder.add(due, kind, error)


def rss_by_process(master: int) -> dict[str, float]:
    """Return the resident memory (MB) of the master and of each of its workers, by name and pid."""
    sizes = {f"{role.split()[0]} {pid}": memory_mb(pid)[0] for role, pid in server_processes(master)}
    return {name: mb for name, mb in sizes.items() if mb}  # a worker that just exited reads as 0


def minute_line(minute: int, recorder: Recorder, memory: dict[str, float]) -> str:
    count, p95 = recorder.p95(minute)
    sizes = ", ".join(f"{name} {mb:.0f} MB" for name, mb in memory.items())
    return (f"minute {minute + 1:>3}: {count:>5} requests, p95 {p95:>6.0f} ms, "
            f"errors so far {sum(recorder.errors.values())}; RSS {sizes}")


def drive(base: str, master: int, minutes: int, rate: float, seed: int) -> tuple[Recorder, list[dict]]:
    """Send the traffic on schedule, a line printed each minute; return the recorder and each minute's RSS."""
    rng, fleet, weights = random.Random(seed), Fleet(), list(MIX.values())
    began = time.perf_counter()
    recorder, memory = Recorder(began), []
    with ThreadPoolExecutor(max_workers=32) as pool:
        for tick in range(int(minutes * 60 * rate)):
            due = began + tick / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            if tick / rate >= 60 * (len(memory) + 1):  # a minute ended (its last requests may still run)
                memory.append(rss_by_process(master))
                click.echo(minute_line(len(memory) - 1, recorder, memory[-1]))
            kind = rng.choices(list(MIX), weights)[0]
            pool.submit(act, base, fleet, random.Random(rng.random()), kind, due, recorder)
    memory.append(rss_by_process(master))
    click.echo(minute_line(len(memory) - 1, recorder, memory[-1]))
    return recorder, memory


def growth(memory: list[dict[str, float]]) -> str:
    """Say how each process's RSS changed from the first minute to the last; name restarted workers."""
    first, last = memory[0], memory[-1]
    return "; ".join(f"{n} {first[n]:.0f} → {last[n]:.0f} MB ({(last[n] / first[n] - 1) * 100:+.1f}%)"
                     if n in first and n in last else f"{n} {'gone' if n in first else 'new'} (restarted)"
                     for n in dict.fromkeys([*first, *last]))


def summary(recorder: Recorder, memory: list[dict[str, float]], seconds: float, server_log: str) -> list[str]:
    count, p95 = recorder.p95()
    kinds = [(kind, *recorder.p95(kind=kind)) for kind in (*MIX, "resume")]
    return [f"RSS growth, minute 1 → minute {len(memory)}: {growth(memory)}",
            f"{count} requests ({count / seconds:.1f}/s), errors {sum(recorder.errors.values())}"
            + "".join(f"; {cause} ×{n}" for cause, n in recorder.errors.most_common()),
            f"p95 {p95:.0f} ms; by kind: " + ", ".join(f"{k} {ms:.0f} ms (n={n})" for k, n, ms in kinds if n),
            f"retention purge ran {server_log.count('retention purge:')} times, failed "
            f"{server_log.count('retention purge failed')} times; server log lines at ERROR: "
            f"{len(ERROR_LINE.findall(server_log))}"]


@click.command("soak")
@click.option("--minutes", default=30, show_default=True, type=click.IntRange(1, 24 * 60))
@click.option("--rate", default=5.0, show_default=True, type=click.FloatRange(0.1, 200),
              help="Requests per second, sent on schedule whatever the latency.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16))
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the traffic mix.")
def bench_soak(minutes: int, rate: float, workers: int, seed: int) -> None:
    """Steady mixed traffic against a real server: RSS per process, errors and p95, minute by minute."""
    with tempfile.TemporaryDirectory(prefix="quietdesk-soak-") as folder:
        log_path = Path(folder) / "server.log"
        with open(log_path, "w") as log:
            process, base, _ = start_server(Path(folder) / "instance", workers, log=log, settings=SETTINGS)
            click.echo(f"soak: {workers} worker(s), {rate:g} requests/s for {minutes} min, retention purge "
                       f"every minute; mix {', '.join(f'{k} {w}%' for k, w in MIX.items())}")
            try:
                recorder, memory = drive(base, process.pid, minutes, rate, seed)
            finally:
                process.terminate(), process.wait(60)
        server_log = log_path.read_text(errors="replace")
    for line in summary(recorder, memory, minutes * 60, server_log):
        click.echo(line)
