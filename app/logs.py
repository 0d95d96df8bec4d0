"""Logging for the app and the WSGI server: every record passes the PII scrubber first.

One filter, installed on every handler (ours and gunicorn's error and access logs), rewrites each
record before any handler formats it. What a person typed is scrubbed; the server's own words are
kept readable: a format string written in our code (or gunicorn's) stays as it is, its string
arguments are scrubbed unless marked `Trusted` (a route pattern, a known HTTP method), and in a
traceback only the exception messages are scrubbed, not the frames. A third party's record is
scrubbed whole, and below WARNING it is dropped unless LOG_LEVEL is DEBUG. A record's message is
always one line: CR and LF in it (and in an exception's message) are escaped, so text a visitor sent
can never start a line of its own — say, a forged `audit head`. The request log is written by the
app, not the WSGI server, so it names the route pattern, never a path, query string, client address
or body.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Callable

from flask import Flask, Response, g, request
from gunicorn.glogging import Logger as GunicornLogger

FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"  # the pid tells workers apart
requests_log = logging.getLogger("quietdesk.requests")
WITHHELD = "[log record withheld: it was emitted while scrubbing another record]"
OWN_LOGGERS = ("app", "quietdesk", "gunicorn")  # their format strings are our (or the server's) own words
# gunicorn's lifecycle lines: their arguments are the server's own values (bind address, pids, version).
SERVER_LINES = frozenset({
    "Starting gunicorn %s", "Listening at: %s (%s)", "Listening at: %s", "Using worker: %s",
    "Booting worker with pid: %s", "Worker exiting (pid: %s)", "Handling signal: %s", "Shutting down: %s",
    "Worker (pid:%s) exited with code %s.", "Worker (pid:%s) was sent SIGKILL! Perhaps out of memory?",
    "Worker (pid:%s) was sent %s!", "Hang up: %s", "Goodbye"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})


class Trusted(str):
    """A log argument that is the server's own words (a route pattern, a known method): not scrubbed."""


def method_name(method: str) -> Trusted:
    """Return the HTTP method for a log line: a known one as is, anything else as OTHER."""
    return Trusted(method if method in METHODS else "OTHER")


def _own(record: logging.LogRecord) -> bool:
    return record.name.split(".")[0] in OWN_LOGGERS


class ScrubbingFilter(logging.Filter):
    """Replace a record's text with its scrubbed form; one instance per process."""

    def __init__(self) -> None:
        super().__init__()
        self._scrub: Callable[[str], str] | None = None
        self._factory: Callable[[], Callable[[str], str]] | None = None
        self._busy = threading.local()
        self._lock = threading.Lock()
        self.verbose = False  # LOG_LEVEL=DEBUG: keep third parties' INFO and DEBUG records too

    def use(self, scrub: Callable[[str], str]) -> None:
        """Scrub with this (already loaded) function from now on."""
        self._scrub = scrub

    def fallback(self, factory: Callable[[], Callable[[str], str]]) -> None:
        """Unless a scrubber is in use, build one with factory when the first record arrives."""
        if self._scrub is None:
            self._factory = factory

    def _scrubber(self) -> Callable[[str], str]:
        with self._lock:
            if self._scrub is None:
                if self._factory is None:
                    raise RuntimeError("no scrubber configured for logging")
                self._scrub = self._factory()
        return self._scrub

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "scrubbed", False):
            return True
        if record.levelno < logging.WARNING and not self.verbose and not _own(record):
            return False  # a library's chatter ("bm25s: Building index…")
        if getattr(self._busy, "active", False):
            text = WITHHELD
        else:
            self._busy.active = True
            try:
                text = self._render(record)
            finally:
                self._busy.active = False
        record.msg, record.args = text, None
        record.exc_info = record.exc_text = record.stack_info = None
        record.scrubbed = True
        return True

    def _render(self, record: logging.LogRecord) -> str:
        """Return the record as one scrubbed message line plus its (scrubbed) traceback, if any."""
        scrub = self._scrubber()
        text = one_line(self._message(record, scrub))
        if record.exc_info:
            text += "\n" + traceback_text(record.exc_info, scrub)
        if record.stack_info:
            text += "\n" + record.stack_info
        return text

    def _message(self, record: logging.LogRecord, scrub: Callable[[str], str]) -> str:
        """Scrub what a person may have typed: our format's string arguments, or a third party's whole text."""
        args = record.args
        own_format = _own(record) and isinstance(args, tuple)
        try:
            if own_format and record.msg in SERVER_LINES:
                return record.getMessage()
            if own_format:
                return str(record.msg) % tuple(_scrubbed_arg(a, scrub) for a in args)
            return scrub(record.getMessage())
        except (TypeError, ValueError):  # arguments that do not fit the format
            return scrub(f"{record.msg} {record.args}")


def _scrubbed_arg(value: object, scrub: Callable[[str], str]) -> object:
    if isinstance(value, (Trusted, int, float)) or value is None:
        return value
    return scrub(str(value))


FILTER = ScrubbingFilter()
# Lines of a formatted traceback that Python writes itself (frames, headers, chain separators);
# everything else in it is an exception's message, which may quote what a visitor sent.
_TRACEBACK_FRAME = ("Traceback (most recent call last):", "  File ", "  [Previous line repeated",
                    "\nThe above exception", "\nDuring handling of the above exception")


def one_line(text: str) -> str:
    """Escape CR and LF so the text cannot start a log line of its own."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def traceback_text(exc_info, scrub: Callable[[str], str] = str) -> str:
    """Format a traceback with every exception message scrubbed and kept to one line; frames (our
    code's file names and lines) stay as they are."""
    chunks = traceback.TracebackException(*exc_info).format()
    return "".join(chunk if chunk.startswith(_TRACEBACK_FRAME) else one_line(_exception_line(chunk, scrub)) + "\n"
                   for chunk in chunks).rstrip()


def _exception_line(chunk: str, scrub: Callable[[str], str]) -> str:
    """Scrub an exception's message but keep its type name ("TypeError: …"): code, not typed data."""
    name, colon, message = chunk.rstrip("\n").partition(": ")
    if colon and name.replace(".", "").replace("_", "").isalnum():
        return f"{name}: {scrub(message)}"
    return scrub(chunk.rstrip("\n"))


class ScrubbedGunicornLogger(GunicornLogger):
    """Gunicorn's logger with the scrubbing filter on its error and access handlers."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers + self.access_log.handlers:
            handler.addFilter(FILTER)


def configure(level: str) -> None:
    """Give the root logger one scrubbed handler; safe to call again."""
    root = logging.getLogger()
    if not any(FILTER in h.filters for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(FILTER)
        root.addHandler(handler)
    for handler in root.handlers:
        if FILTER not in handler.filters:
            handler.addFilter(FILTER)
    root.setLevel(level.upper())
    FILTER.verbose = level.upper() == "DEBUG"
    for noisy in ("sentence_transformers", "transformers", "huggingface_hub", "faiss", "presidio-analyzer",
                  "presidio-anonymizer"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _log_request(response: Response) -> Response:
    rule = request.url_rule.rule if request.url_rule else "<no route>"
    elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    requests_log.info('"%s %s" %s %s %.0fms', method_name(request.method), Trusted(rule), response.status_code,
                      response.calculate_content_length() or 0, elapsed)
    return response


def init_app(app: Flask, factory: Callable[[], Callable[[str], str]]) -> None:
    """Route the app's logs through the scrubbed root handler and log each request by route."""
    FILTER.fallback(factory)
    configure(app.config["LOG_LEVEL"])
    app.logger.handlers.clear()
    app.logger.propagate = True
    app.before_request(_start_timer)
    app.after_request(_log_request)
