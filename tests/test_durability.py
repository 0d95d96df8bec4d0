"""Durability and shutdown of the real server: no acknowledged turn is ever lost.

`run.py serve` (gunicorn, one SQLCipher file) takes turns from 4 consenting visitors at once. Killed
with SIGKILL — master and workers, every round — and restarted on the same instance, it still holds
every turn it answered 200. Sent SIGTERM, it lets the turns in flight finish, refuses the rest
cleanly and exits on its own within gunicorn's graceful timeout.

The kill rounds run one worker (its 4 request threads write at once, each on its own connection):
a restart is mostly model loading, and one worker comes back about 3 s sooner than two. The SIGTERM
test runs two, so the master has more than one worker to drain.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import struct
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import click
import pytest

from app.bench import start_server
from app.db import connect, raw_key

QUESTION = "Is shipping free?"
ROUNDS = 10
ROUND_SECONDS = 1.0  # least traffic per round before the kill
WRITERS = 4
GRACEFUL_SECONDS = 30  # gunicorn's graceful_timeout (run.py serve leaves the default)
SETTINGS = {"QUIETDESK_RATE_MESSAGES_PER_VISITOR": "0", "QUIETDESK_RATE_REQUESTS_PER_ADDRESS": "0"}


def request(url: str, body: dict, token: str | None = None, method: str = "POST") -> dict:
    """Send one JSON request; return the JSON answer (urllib raises on anything but 2xx)."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    sent = urllib.request.Request(url, json.dumps(body).encode(), headers, method=method)
    with urllib.request.urlopen(sent, timeout=60) as response:
        return json.loads(response.read())


def clean_refusal(error: Exception) -> bool:
    """Say whether a failed request is what a server that is going away may answer: refused, reset,
    closed before answering, or 503."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code == 503
    if isinstance(error, urllib.error.URLError):
        error = error.reason
    return isinstance(error, (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine))


@dataclass
class Visitor:
    """One consenting visitor; remembers every turn the server acknowledged with 200."""

    number: int
    token: str = ""
    conversation: str = ""
    sent: int = 0
    acknowledged: list[str] = field(default_factory=list)  # the answers' message ids

    def join(self, base: str) -> None:
        session = request(base + "/api/v1/sessions", {})
        self.token, self.conversation = session["visitor_token"], session["conversation_id"]
        consent = request(base + "/api/v1/consent", {"transcripts": True}, self.token, "PUT")
        assert consent["transcripts"] is True

    def say(self, base: str, label: str) -> None:
        """Send one turn; record its answer's id if the server answered 200 (urllib raises otherwise)."""
        self.sent += 1
        text = f"{QUESTION} ({label} w{self.number} t{self.sent})"
        url = f"{base}/api/v1/conversations/{self.conversation}/messages"
        self.acknowledged.append(request(url, {"text": text}, self.token)["message_id"])


class Writer(threading.Thread):
    """Post turns in a loop until a request fails; a failure before `ending` is set is unexpected."""

    def __init__(self, visitor: Visitor, base: str, label: str, ending: threading.Event) -> None:
        super().__init__(daemon=True)
        self.visitor, self.base, self.label, self.ending = visitor, base, label, ending
        self.unexpected: list[str] = []
        self.unclean: list[str] = []
        self.in_flight_at_end = 0  # requests under way when `ending` was set that were answered 200

    def run(self) -> None:
        while True:
            began_before_end = not self.ending.is_set()
            try:
                self.visitor.say(self.base, self.label)
            except Exception as error:  # the loop ends at the first failed request
                if not self.ending.is_set():
                    self.unexpected.append(repr(error))
                elif not clean_refusal(error):
                    self.unclean.append(repr(error))
                return
            if began_before_end and self.ending.is_set():
                self.in_flight_at_end += 1


def group_members(group: int) -> list[int]:
    """Return the pids of living (not zombie) processes in this process group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def wait_until_gone(group: int, seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := group_members(group)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def stored_turns(instance: Path) -> set[str]:
    """Return the ids of the answers stored with their visitor's message, read straight from the
    SQLCipher file with the instance's key.

    The scrubber may mask a word of a sent text (it took "r1 w3 t113" for a name), so a turn is found by
    its answer's id; its visitor message is the row written just before it in the same transaction.
    """
    path = instance / "quietdesk.db"
    db = connect(path, raw_key(path, (instance / "db.key").read_text().strip()))
    try:
        rows = db.execute("SELECT bot.id FROM messages bot JOIN messages asked "
                          "ON asked.rowid = bot.rowid - 1 AND asked.conversation_id = bot.conversation_id "
                          "WHERE bot.role = 'bot' AND asked.role = 'visitor' AND asked.text LIKE ? || '%'",
                          (QUESTION,))
        return {row["id"] for row in rows}
    finally:
        db.close()


PAGE_BYTES = 4096  # SQLCipher 4's default page size


def keep_files_as_killed(instance: Path) -> None:
    """Copy the database files as the last kill left them (a start's check changes them), so a refused
    start can be explained (encrypted pages; removed with pytest's temporary folder)."""
    kept = instance.parent / "as-killed"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir()
    for path in instance.glob("quietdesk.db*"):
        shutil.copy2(path, kept / path.name)


def where_the_page_is(instance: Path, refusal: str) -> str:
    """Describe the page a refused start named, in the files as the kill left them and as they are now:
    sizes, whether the page is past the end or all zeros, and which write-ahead-log frames hold it (a
    frame's header is plain: page number, database size if it commits, the log generation's salts)."""
    found = re.search(r"page (\d+)", refusal)
    page = int(found.group(1)) if found else 0
    lines = []
    for folder in (instance.parent / "as-killed", instance):
        db, wal = folder / "quietdesk.db", folder / "quietdesk.db-wal"
        size = db.stat().st_size if db.exists() else 0
        line = f"{folder.name}: db {size} bytes ({size / PAGE_BYTES:g} pages)"
        if page and db.exists():
            with db.open("rb") as handle:
                handle.seek((page - 1) * PAGE_BYTES)
                content = handle.read(PAGE_BYTES)
            line += f"; page {page} " + ("past the end" if not content else
                                         "all zeros" if not content.strip(b"\0") else "present")
        if wal.exists() and wal.stat().st_size >= 32:
            data = wal.read_bytes()
            frames = []  # (frame number, page, database pages after it if it commits)
            for number, at in enumerate(range(32, len(data) - 24 - PAGE_BYTES + 1, 24 + PAGE_BYTES), start=1):
                if data[at + 8:at + 16] == data[16:24]:  # this generation's salts
                    frames.append((number, *struct.unpack(">II", data[at:at + 8])))
            commits = [(number, pages) for number, _, pages in frames if pages]
            line += (f"; wal {len(data)} bytes, {len(frames)} frames of its generation, last commit "
                     f"(frame, pages) {commits[-1] if commits else None}, "
                     f"page {page} in frames {[n for n, p, _ in frames if p == page][-5:]}")
        lines.append(line)
    return "\n".join(lines) + "\n"


def traffic(visitors: list[Visitor], base: str, label: str, end: Callable[[], object]) -> list[Writer]:
    """Run one writer per visitor; once ROUND_SECONDS have passed and as many turns as writers were
    acknowledged (the first turns of a fresh worker are slow), call end() — a signal — while they
    write; join them."""
    ending = threading.Event()
    writers = [Writer(visitor, base, label, ending) for visitor in visitors]
    before = sum(len(visitor.acknowledged) for visitor in visitors)
    for writer in writers:
        writer.start()
    began = time.monotonic()
    while time.monotonic() - began < ROUND_SECONDS or (
            sum(len(v.acknowledged) for v in visitors) - before < len(visitors)
            and time.monotonic() - began < 60 and all(w.is_alive() for w in writers)):
        time.sleep(0.05)
    ending.set()
    end()
    for writer in writers:
        writer.join(timeout=GRACEFUL_SECONDS + 30)
        assert not writer.is_alive()
    return writers


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("durable") / "instance"


@pytest.fixture(scope="module")
def visitors() -> list[Visitor]:
    return [Visitor(number) for number in range(WRITERS)]


def test_sigkill_of_the_whole_server_loses_no_acknowledged_turn(instance, visitors):
    per_round, starts = [], []
    for number in range(ROUNDS):
        log_path = instance.parent / f"server-{number}.log"  # scrubbed lines only; read if a start fails
        keep_files_as_killed(instance)
        with log_path.open("ab") as log:
            try:
                process, base, seconds = start_server(instance, workers=1, log=log, settings=SETTINGS,
                                                      new_session=True)
            except click.ClickException as error:
                pytest.fail(f"round {number}: {error.message}\n"
                            f"{where_the_page_is(instance, error.message + log_path.read_text())}"
                            f"{log_path.read_text()[-3000:]}")
        starts.append(seconds)
        try:
            if number == 0:
                for visitor in visitors:
                    visitor.join(base)
            before = sum(len(v.acknowledged) for v in visitors)
            writers = traffic(visitors, base, f"r{number}", lambda: os.killpg(process.pid, signal.SIGKILL))
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        assert wait_until_gone(process.pid) == [], "a worker outlived SIGKILL of its server's process group"
        assert [w.unexpected for w in writers] == [[]] * WRITERS
        per_round.append(sum(len(v.acknowledged) for v in visitors) - before)
    acknowledged = {text for visitor in visitors for text in visitor.acknowledged}
    lost = acknowledged - stored_turns(instance)
    print(f"\nSIGKILL: {ROUNDS} rounds, {len(acknowledged)} acknowledged turns {per_round}, "
          f"{len(lost)} lost, restarts took {sum(starts):.0f} s")
    assert all(count > 0 for count in per_round), per_round
    assert lost == set()


def test_sigterm_finishes_turns_in_flight_and_exits_on_its_own(instance, visitors):
    process, base, _ = start_server(instance, workers=2, settings=SETTINGS, new_session=True)
    if not visitors[0].token:  # run alone, without the SIGKILL test before it
        for visitor in visitors:
            visitor.join(base)
    before = {v.number: len(v.acknowledged) for v in visitors}
    signalled: list[float] = []
    try:
        writers = traffic(visitors, base, "sigterm",
                          lambda: (signalled.append(time.monotonic()), process.send_signal(signal.SIGTERM)))
        process.wait(timeout=GRACEFUL_SECONDS + 10)
        exited_after = time.monotonic() - signalled[0]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert wait_until_gone(process.pid) == []
    acknowledged = {t for v in visitors for t in v.acknowledged[before[v.number]:]}
    lost = acknowledged - stored_turns(instance)
    finished = sum(w.in_flight_at_end for w in writers)
    print(f"\nSIGTERM: {len(acknowledged)} acknowledged, {finished} in flight at the signal answered 200, "
          f"{len(lost)} lost; exited {exited_after:.1f} s after the signal with status {process.returncode}")
    assert [w.unexpected for w in writers] == [[]] * WRITERS
    assert [w.unclean for w in writers] == [[]] * WRITERS
    assert lost == set()
    assert finished > 0, "no turn in flight at SIGTERM was answered: in-flight turns must finish"
    assert exited_after < GRACEFUL_SECONDS and process.returncode == 0
