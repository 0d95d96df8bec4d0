"""Logging for the app and the WSGI server: every record passes the PII scrubber first.

One filter, installed on every handler (ours and gunicorn's error and access logs), rewrites each
record's message, arguments, traceback and stack text through the scrubber before any handler
formats it. A record's message is always one line: CR and LF in it (and in an exception's message)
are escaped, so text a visitor sent can never start a line of its own — say, a forged `audit head`. The request log is written by the app, not the WSGI server, so it can name the route
pattern (`/api/v1/conversations/<conversation_id>/messages`) instead of the raw path: no path
segment, query string, client address or body is ever logged.
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


class ScrubbingFilter(logging.Filter):
    """Replace a record's text with its scrubbed form; one instance per process."""

    def __init__(self) -> None:
        super().__init__()
        self._scrub: Callable[[str], str] | None = None
        self._factory: Callable[[], Callable[[str], str]] | None = None
        self._busy = threading.local()
        self._lock = threading.Lock()

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
        try:
            text = one_line(record.getMessage())
        except (TypeError, ValueError):  # arguments that do not fit the format
            text = one_line(f"{record.msg} {record.args}")
        if record.exc_info:
            text += "\n" + traceback_text(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        if getattr(self._busy, "active", False):
            text = WITHHELD
        else:
            self._busy.active = True
            try:
                text = self._scrubber()(text)
            finally:
                self._busy.active = False
        record.msg, record.args = text, None
        record.exc_info = record.exc_text = record.stack_info = None
        record.scrubbed = True
        return True


FILTER = ScrubbingFilter()
# Lines of a formatted traceback that Python writes itself (frames, headers, chain separators);
# everything else in it is an exception's message, which may quote what a visitor sent.
_TRACEBACK_FRAME = ("Traceback (most recent call last):", "  File ", "  [Previous line repeated",
                    "\nThe above exception", "\nDuring handling of the above exception")


def one_line(text: str) -> str:
    """Escape CR and LF so the text cannot start a log line of its own."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def traceback_text(exc_info) -> str:
    """Format a traceback with every exception message kept to one line."""
    chunks = traceback.TracebackException(*exc_info).format()
    return "".join(chunk if chunk.startswith(_TRACEBACK_FRAME) else one_line(chunk.rstrip("\n")) + "\n"
                   for chunk in chunks).rstrip()


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
    for noisy in ("sentence_transformers", "transformers", "huggingface_hub", "faiss", "presidio-analyzer",
                  "presidio-anonymizer"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _log_request(response: Response) -> Response:
    rule = request.url_rule.rule if request.url_rule else "<no route>"
    elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    requests_log.info('"%s %s" %s %s %.0fms', request.method, rule, response.status_code,
                      response.calculate_content_length() or "-", elapsed)
    return response


def init_app(app: Flask, factory: Callable[[], Callable[[str], str]]) -> None:
    """Route the app's logs through the scrubbed root handler and log each request by route."""
    FILTER.fallback(factory)
    configure(app.config["LOG_LEVEL"])
    app.logger.handlers.clear()
    app.logger.propagate = True
    app.before_request(_start_timer)
    app.after_request(_log_request)
