"""`run.py bench handoff`: how fast an agent's reply reaches a polling visitor across workers.

A real server with several gunicorn workers on loopback; a console account made by `run.py admin
create`; a visitor who asks for a person and polls like the widget (every 2 s, `?after=`); an agent
who claims the conversation and replies at random moments. Prints the delivery delay (reply sent →
visitor has it), what a poll costs, and how many workers served each side.
"""
from __future__ import annotations

import http.cookiejar
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import click

from app.bench.serving import ROOT, post, start_server

POLL_SECONDS = 2.0  # what the widget does while a person is answering
AGENT_PASSWORD = "bench-agent-passphrase-91"


class Agent:
    """A console user driving the real console over HTTP: sign in, claim, reply."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def page(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.read().decode()

    def post(self, path: str, form: dict[str, str]) -> str:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.page("/admin/login")).group(1)
        data = urllib.parse.urlencode({**form, "csrf_token": token}).encode()
        with self.opener.open(self.base + path, data=data, timeout=60) as response:
            return response.read().decode()

    def sign_in(self, email: str, password: str) -> None:
        self.post("/admin/login", {"email": email, "password": password})

    def claim(self, conversation_id: str) -> int:
        """Claim the conversation's open handoff; return its id."""
        page = self.page(f"/admin/conversations/{conversation_id}")
        handoff = int(re.search(r"/admin/handoffs/(\d+)/claim", page).group(1))
        self.post(f"/admin/handoffs/{handoff}/claim", {"next": f"/admin/conversations/{conversation_id}"})
        return handoff

    def reply(self, conversation_id: str, text: str) -> None:
        self.post(f"/admin/conversations/{conversation_id}/reply", {"text": text})


def make_account(instance: Path, email: str, alias: str) -> None:
    """Create a console account with `run.py admin create`, the way an operator does."""
    created = subprocess.run([sys.executable, "run.py", "admin", "create", "--email", email, "--alias", alias],
                             cwd=ROOT, input=AGENT_PASSWORD + "\n", text=True, capture_output=True,
                             env={"QUIETDESK_INSTANCE": str(instance), "PATH": "/usr/bin:/bin"})
    if created.returncode != 0:
        raise click.ClickException(created.stderr.strip())


def get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


class Poller(threading.Thread):
    """A visitor's widget: poll every POLL_SECONDS; note when each agent message arrived, in order.

    Matched to the replies by order, not text: the scrubber may mask a word of a reply.
    """

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.after = url, token, ""
        self.arrived: list[float] = []
        self.poll_ms: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(POLL_SECONDS):
            began = time.perf_counter()
            body = get(f"{self.url}?after={self.after}", self.token)
            now = time.perf_counter()
            self.poll_ms.append((now - began) * 1000)
            for message in body["messages"]:
                self.after = message["id"]
                if message["role"] == "agent":
                    self.arrived.append(now)


def measure(base: str, replies: int) -> tuple[list[float], list[float]]:
    """Run the visitor and the agent; return delivery delays (s) and poll latencies (ms)."""
    session = post(base + "/api/v1/sessions", {})
    token, conversation = session["visitor_token"], session["conversation_id"]
    post(f"{base}/api/v1/conversations/{conversation}/handoff", {"grant_transcripts": True}, token)
    agent = Agent(base)
    agent.sign_in("bench.agent@example.com", AGENT_PASSWORD)
    agent.claim(conversation)
    poller = Poller(f"{base}/api/v1/conversations/{conversation}/messages", token)
    poller.start()
    sent: list[float] = []
    for number in range(replies):
        time.sleep(random.uniform(0.5, 2.5))  # replies land at any phase of the polling cycle
        agent.reply(conversation, f"Reply number {number} from the bench.")
        sent.append(time.perf_counter())
    deadline = time.perf_counter() + 10
    while len(poller.arrived) < replies and time.perf_counter() < deadline:
        time.sleep(0.1)
    poller.stop.set()
    return sorted(seen - posted for seen, posted in zip(poller.arrived, sent)), poller.poll_ms


def workers_seen(log: Path, route: str) -> set[str]:
    """Return the pids of the workers whose request log names this route."""
    return set(re.findall(rf"\[(\d+)\] INFO quietdesk\.requests: \"{re.escape(route)}\"", log.read_text()))


@click.command("handoff")
@click.option("--replies", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16))
def bench_handoff(replies: int, workers: int) -> None:
    """Delivery delay of an agent's reply to a polling visitor, across gunicorn workers."""
    with tempfile.TemporaryDirectory(prefix="quietdesk-bench-") as folder:
        instance, log_path = Path(folder) / "instance", Path(folder) / "server.log"
        with open(log_path, "w") as log:
            process, base, _ = start_server(instance, workers, log=log)
            try:
                make_account(instance, "bench.agent@example.com", "Bench")
                delays, polls = measure(base, replies)
            finally:
                process.terminate(), process.wait(30)
        pollers = workers_seen(log_path, "GET /api/v1/conversations/<conversation_id>/messages")
        repliers = workers_seen(log_path, "POST /admin/conversations/<conversation_id>/reply")
    click.echo(f"{len(delays)} of {replies} agent replies reached the visitor, polling every {POLL_SECONDS:.0f} s "
               f"({workers} workers; polls served by {len(pollers)}, replies by {len(repliers)})")
    if delays:
        click.echo(f"delivery delay: median {statistics.median(delays):.2f} s, "
                   f"p90 {delays[int(0.9 * (len(delays) - 1))]:.2f} s, max {delays[-1]:.2f} s")
    click.echo(f"one poll: median {statistics.median(polls):.1f} ms; a waiting visitor costs "
               f"{60 / POLL_SECONDS:.0f} requests/min while the tab is visible")
