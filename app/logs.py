"""Logging for the app and the WSGI server: one format, one level, no raw request data.

Request lines carry method, path (never the query string), status, size and time — no client
address and no body, since both can identify a visitor.
"""
from __future__ import annotations

import logging

from flask import Flask

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_FORMAT = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def configure(level: str) -> None:
    """Configure the root logger once; safe to call again (handlers are not duplicated)."""
    root = logging.getLogger()
    if not any(getattr(h, "quietdesk", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.quietdesk = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("sentence_transformers", "transformers", "huggingface_hub", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    """Route the app's logger through the root configuration."""
    configure(app.config["LOG_LEVEL"])
    app.logger.handlers.clear()
    app.logger.propagate = True
