"""`run.py bench load`: many visitors at once against the real server, beside the straightforward stack.

Starts `run.py serve` (the serve defaults: gunicorn, 2 workers × 4 threads) on a free loopback port
in a throw-away instance whose knowledge base is written from a JSONL file (default: the three HINT3
bots' intents), and drives it closed-loop: each of N visitors has its own session and sends its next
question as soon as the last is answered, for a fixed time after a short warm-up. Questions come from
real query files (default: HINT3's, real questions to three live support bots), each drawn once before
any repeats unless `--repeat` mixes in a popular few. With `--baseline` the same run measures the
straightforward stack (app/bench/baseline.py) under the same gunicorn settings and prints the ratios.
Both stacks then run side by side and each level is measured in alternating slices (`--rounds`, ours
then theirs), so a slow spell of this shared machine weighs on both alike: run one after the other, the
same code swung 125–171 turns/s at 4 visitors between runs, and a ratio of two such runs carried the
swing of both.
Rate limits are set out of reach (their bookkeeping still runs) and the output says so.
"""
from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from app.bench.serving import ROOT, cpu_seconds, memory_mb, server_processes, start_server

HINT3 = ROOT.parent / "shared" / "eval" / "hint3"
BOTS = ("sofmattress", "curekart", "powerplay11")
OUT_OF_REACH = {"QUIETDESK_RATE_MESSAGES_PER_VISITOR": "100000000", "QUIETDESK_RATE_REQUESTS_PER_ADDRESS": "100000000"}
POPULAR = 30  # with --repeat, that share of turns asks one of this many questions


@dataclass
class Level:
    """What one concurrency level measured on one stack."""

    visitors: int
    turns: int = 0
    errors: int = 0
    turns_per_s: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_ms_per_turn: float = 0.0
    rss_mb: dict[str, float] = field(default_factory=dict)
    pss_mb: dict[str, float] = field(default_factory=dict)
    cpu_share: dict[str, float] = field(default_factory=dict)  # of the server's CPU, per process (balance)
    client_cpu_ms_per_turn: float = 0.0  # the load generator's own CPU, on the same cores


class Questions:
    """Hand out questions: every one once (shuffled) before any comes again; `repeat` of them popular."""

    def __init__(self, questions: list[str], repeat: float, seed: int) -> None:
        self.rng = random.Random(seed)
        self.questions = self.rng.sample(questions, len(questions))
        self.popular = self.questions[:POPULAR]
        self.repeat, self.lock, self.order = repeat, threading.Lock(), itertools.cycle(self.questions)
        self.asked: set[str] = set()
        self.turns = 0

    def next(self) -> str:
        with self.lock:
            question = self.rng.choice(self.popular) if self.rng.random() < self.repeat else next(self.order)
            self.turns += 1
            self.asked.add(question)
            return question


class Visitor:
    """One widget: a keep-alive connection (or, with `reconnect`, a new one per question, as a visitor who
    types for longer than the server's 2-s keep-alive), a session, consent if asked, then one question at
    a time."""

    def __init__(self, port: int, consent: bool, reconnect: bool = False) -> None:
        self.reconnect = reconnect
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        session = self.call("POST", "/api/v1/sessions", {})[1]
        self.token, self.conversation = session["visitor_token"], session["conversation_id"]
        if consent:
            self.call("PUT", "/api/v1/consent", {"transcripts": True, "analytics": True})

    def call(self, method: str, path: str, body: dict) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        self.connection.request(method, path, json.dumps(body), headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")

    def ask(self, text: str) -> bool:
        if self.reconnect:
            self.connection.close()  # the next request opens a new connection
        try:
            status, _ = self.call("POST", f"/api/v1/conversations/{self.conversation}/messages", {"text": text})
        except (OSError, http.client.HTTPException, ValueError):
            self.connection.close()  # reconnects on the next request
            return False
        return status == 200


@dataclass
class Slice:
    """One stretch of closed-loop load on one stack: what a level is summed from."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds used per server process
    client_cpu: float = 0.0  # CPU seconds the load generator itself used (it shares the machine's cores)


def _drive(port: int, visitors: int, seconds: float, warmup: float, questions: Questions, consent: bool,
           master: int, reconnect: bool = False) -> Slice:
    """Run closed-loop load: warm up, then record every turn's latency and the server's CPU for `seconds`."""
    clients = [Visitor(port, consent, reconnect) for _ in range(visitors)]
    measured = Slice(seconds)
    lock = threading.Lock()
    start = time.perf_counter() + warmup
    stop = start + seconds

    def loop(client: Visitor) -> None:
        while (now := time.perf_counter()) < stop:
            ok = client.ask(questions.next())
            took = time.perf_counter() - now
            if now >= start:
                with lock:
                    measured.latencies.append(took * 1000) if ok else None
                    measured.errors += not ok

    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, start - time.perf_counter()))
    processes = server_processes(master)
    cpu_before = {role: cpu_seconds(pid) for role, pid in processes}
    client_before = time.process_time()
    for thread in threads:
        thread.join()
    measured.client_cpu = time.process_time() - client_before
    measured.cpu = {role: cpu_seconds(pid) - cpu_before[role] for role, pid in processes}
    for client in clients:
        client.connection.close()
    return measured


def summarize(visitors: int, slices: list[Slice], master: int) -> Level:
    """Sum a level's slices into its figures, and read each server process's memory now."""
    latencies = sorted(ms for piece in slices for ms in piece.latencies)
    used: dict[str, float] = {}
    for piece in slices:
        for role, seconds in piece.cpu.items():
            used[role] = used.get(role, 0.0) + seconds
    cpu = sum(used.values())
    level = Level(visitors, turns=len(latencies), errors=sum(piece.errors for piece in slices))
    if latencies:
        level.turns_per_s = len(latencies) / sum(piece.seconds for piece in slices)
        level.p50_ms = statistics.median(latencies)
        level.p95_ms = latencies[int(0.95 * (len(latencies) - 1))]
        level.p99_ms = latencies[int(0.99 * (len(latencies) - 1))]
        level.cpu_ms_per_turn = cpu * 1000 / len(latencies)
        level.client_cpu_ms_per_turn = sum(piece.client_cpu for piece in slices) * 1000 / len(latencies)
        level.cpu_share = {role: round(seconds_used / max(cpu, 1e-9), 2) for role, seconds_used in used.items()}
    for role, pid in server_processes(master):
        level.rss_mb[role], level.pss_mb[role] = (round(v, 1) for v in memory_mb(pid))
    return level


def read_questions(paths: tuple[Path, ...]) -> list[str]:
    """Read `query` from JSONL files ({"query": …} per line), as `eval retrieval` does."""
    questions = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    questions.append(json.loads(line)["query"])
                except (ValueError, KeyError, TypeError):
                    raise click.ClickException(f"{path}:{number}: needs a \"query\" string") from None
    if not questions:
        raise click.ClickException("no questions in the query files")
    return questions


def write_knowledge(paths: tuple[Path, ...], folder: Path) -> None:
    """Write the KB files' entries as Markdown articles (ids prefixed by file, so bots do not collide)."""
    from app.retrieval.evaluate import EvalDataError, write_kb

    folder.mkdir(parents=True)
    merged = folder.parent / "kb.jsonl"
    with merged.open("w", encoding="utf-8") as out:
        for path in paths:
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    row["id"] = f"{path.parent.name}-{row['id']}"
                    out.write(json.dumps(row) + "\n")
    try:
        write_kb(merged, folder)
    except EvalDataError as error:
        raise click.ClickException(str(error)) from None


@dataclass
class Stack:
    """One running stack under load: its server, the questions it is asked, the slices of each level."""

    name: str
    process: subprocess.Popen
    port: int
    restart: float
    questions: Questions
    levels: list[Level] = field(default_factory=list)

    def measure(self, visitors: int, seconds: float, warmup: float, consent: bool, reconnect: bool) -> Slice:
        return _drive(self.port, visitors, seconds, warmup, self.questions, consent, self.process.pid,
                      reconnect)


def start_stack(name: str, root: Path, knowledge: Path, questions: list[str], repeat: float, workers: int,
                settings: dict[str, str], log) -> Stack:
    """Start one stack once to build its index, stop it, then start it again and time that restart."""
    instance = root / name
    command = [sys.executable, "-m", "app.bench.baseline"] if name == "baseline" else None
    env = {"QUIETDESK_KNOWLEDGE_DIR": str(knowledge), **OUT_OF_REACH, **settings}
    process, _, _ = start_server(instance, workers, log, env, command=command)  # builds the index
    process.terminate(), process.wait(60)
    process, base, restart = start_server(instance, workers, log, env, command=command)
    return Stack(name, process, int(base.rsplit(":", 1)[1]), restart, Questions(questions, repeat, seed=12))


def measure(stacks: list[Stack], levels: list[int], seconds: float, warmup: float, rounds: int, consent: bool,
            reconnect: bool) -> None:
    """Measure every level on every stack: `rounds` slices each, the stacks taking turns slice by slice;
    the first slice of a level warms up for `warmup`, later ones for at most a second."""
    for visitors in levels:
        slices: dict[str, list[Slice]] = {stack.name: [] for stack in stacks}
        for round_number in range(rounds):
            settle = warmup if round_number == 0 else min(warmup, 1.0)
            for stack in stacks:
                slices[stack.name].append(stack.measure(visitors, seconds / rounds, settle, consent, reconnect))
        for stack in stacks:  # memory as the level leaves it
            stack.levels.append(summarize(visitors, slices[stack.name], stack.process.pid))


def _ratios(ours: list[Level], baseline: list[Level]) -> dict[str, dict[str, float]]:
    ratios = {}
    for mine, theirs in zip(ours, baseline):
        ratios[str(mine.visitors)] = {
            "throughput": round(mine.turns_per_s / max(theirs.turns_per_s, 1e-9), 2),
            "p95": round(mine.p95_ms / max(theirs.p95_ms, 1e-9), 2),
            "memory_pss": round(sum(mine.pss_mb.values()) / max(sum(theirs.pss_mb.values()), 1e-9), 2),
            "memory_rss": round(sum(mine.rss_mb.values()) / max(sum(theirs.rss_mb.values()), 1e-9), 2)}
    return ratios


def _table(name: str, levels: list[Level], restart: float) -> list[str]:
    lines = [f"{name} (restart to healthy {restart:.1f} s)",
             "visitors  turns/s  p50 ms  p95 ms  p99 ms  errors  CPU ms/turn  client CPU  CPU % by worker  "
             "memory MB, RSS (PSS) per process"]
    for level in levels:
        memory = ", ".join(f"{role} {level.rss_mb[role]:.0f} ({level.pss_mb[role]:.0f})" for role in level.rss_mb)
        total = f"total {sum(level.rss_mb.values()):.0f} ({sum(level.pss_mb.values()):.0f})"
        shares = "/".join(f"{100 * share:.0f}" for role, share in level.cpu_share.items() if role != "master")
        lines.append(f"{level.visitors:<9} {level.turns_per_s:<8.1f} {level.p50_ms:<7.1f} {level.p95_ms:<7.1f} "
                     f"{level.p99_ms:<7.1f} {level.errors:<7} {level.cpu_ms_per_turn:<12.1f} "
                     f"{level.client_cpu_ms_per_turn:<11.1f} {shares:<16} "
                     f"{memory}; {total}")
    return lines


@click.command("load")
@click.option("--concurrency", default="1,4,16", show_default=True, help="Visitors at once, one level each.")
@click.option("--seconds", default=20.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Measured time per level.")
@click.option("--warmup", default=3.0, show_default=True, type=click.FloatRange(0, 600))
@click.option("--queries", "query_files", multiple=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="JSONL files of {\"query\": …}; default: HINT3's three bots.")
@click.option("--kb", "kb_files", multiple=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="JSONL knowledge bases ({id, title, questions}) to serve; default: HINT3's three bots.")
@click.option("--consent/--no-consent", default=False, help="Visitors consent to transcripts, so turns are stored.")
@click.option("--repeat", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help=f"Share of turns asking one of {POPULAR} popular questions (support traffic repeats itself).")
@click.option("--baseline", is_flag=True, help="Also measure the straightforward stack and print ratios.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16))
@click.option("--reconnect", is_flag=True, help="A new connection for every question (a visitor who types for longer "
              "than the server's keep-alive), so no visitor stays pinned to one worker.")
@click.option("--rounds", default=4, show_default=True, type=click.IntRange(1, 100),
              help="With --baseline: slices per level, the two stacks taking turns (a slow spell hits both).")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="A QUIETDESK_ setting for our server only (e.g. QUIETDESK_TURN_CACHE=0).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def bench_load(concurrency: str, seconds: float, warmup: float, query_files: tuple[Path, ...],
               kb_files: tuple[Path, ...], consent: bool, repeat: float, baseline: bool, workers: int,
               reconnect: bool, rounds: int, settings: tuple[str, ...], as_json: bool) -> None:
    """Closed-loop load from N concurrent visitors: turns/s, latency, CPU per turn, memory per process."""
    try:
        levels = [int(n) for n in concurrency.split(",")]
        extra = dict(s.split("=", 1) for s in settings)
    except ValueError:
        raise click.BadParameter("--concurrency is a list like 1,4,16; --set is NAME=VALUE") from None
    query_files = query_files or tuple(HINT3 / bot / "queries.jsonl" for bot in BOTS)
    kb_files = kb_files or tuple(HINT3 / bot / "kb.jsonl" for bot in BOTS)
    questions = read_questions(query_files)
    rounds = rounds if baseline else 1
    with tempfile.TemporaryDirectory(prefix="quietdesk-load-") as folder, \
            contextlib.ExitStack() as running:
        root = Path(folder)
        write_knowledge(kb_files, root / "knowledge")
        started = []
        for name, own in (("quietdesk", extra), ("baseline", {})) if baseline else (("quietdesk", extra),):
            log = running.enter_context((root / f"{name}.log").open("w"))
            stack = start_stack(name, root, root / "knowledge", questions, repeat, workers, own, log)
            running.callback(lambda process=stack.process: (process.terminate(), process.wait(60)))
            started.append(stack)
        measure(started, levels, seconds, warmup, rounds, consent, reconnect)
        stacks = {stack.name: (stack.levels, stack.restart, len(stack.questions.asked)) for stack in started}
    note = (f"rate limits: out of reach for the run (bookkeeping still runs); {len(questions)} questions, "
            f"repeat share {repeat}; consent {'on (turns stored)' if consent else 'off'}; "
            f"{seconds:g} s per level after {warmup:g} s warm-up"
            f"{f', in {rounds} slices taking turns with the baseline' if rounds > 1 else ''}; "
            f"{workers} workers; "
            f"{'a new connection per question' if reconnect else 'one keep-alive connection per visitor'}")
    if as_json:
        report: dict = {"note": note}
        for name, (results, restart, asked) in stacks.items():
            body = {str(level.visitors): asdict(level) for level in results}
            body.update(restart_s=round(restart, 2), distinct_questions=asked)
            report.update(body) if name == "quietdesk" else report.update({name: body})
        if baseline:
            report["ratios"] = _ratios(stacks["quietdesk"][0], stacks["baseline"][0])
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(note)
    for name, (results, restart, asked) in stacks.items():
        click.echo("\n".join(["", *_table(name, results, restart), f"distinct questions asked: {asked}"]))
    if baseline:
        click.echo("\nratios, Quietdesk ÷ baseline (throughput: higher is better; p95 and memory: lower is better)")
        for visitors, ratio in _ratios(stacks["quietdesk"][0], stacks["baseline"][0]).items():
            click.echo(f"{visitors} visitors: throughput {ratio['throughput']}×, p95 {ratio['p95']}×, "
                       f"memory PSS {ratio['memory_pss']}×, RSS {ratio['memory_rss']}×")
