"""Rate limits for the public API: requests per client address and messages per visitor.

Counts live in the database (table rate_windows, fixed one-minute windows) so the limits hold
across every server worker. A client address is stored only as a keyed hash. Over a limit the API
answers 429 `rate_limited` with Retry-After; /health and the OpenAPI document are never limited.
"""
from __future__ import annotations

import hashlib
import hmac
import time

import sqlcipher3
from flask import Flask, current_app, request

from app.db import get_db, transaction
from app.errors import ApiError

WINDOW_SECONDS = 60
EXEMPT = ("/api/v1/health", "/api/v1/openapi.json")
POLLING = "chat.get_messages"  # counted per visitor instead (charge_poll): visitors behind one NAT all poll


def count(db: sqlcipher3.Connection, bucket: str, now: float | None = None) -> tuple[int, int]:
    """Count one hit for bucket in the current window; return (hits so far, seconds to window end)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    with transaction(db, durable=False):  # a window lost to a power cut only forgives a minute's hits
        hits = db.execute("INSERT INTO rate_windows (bucket, window, hits) VALUES (?, ?, 1) ON CONFLICT "
                          "(bucket, window) DO UPDATE SET hits = hits + 1 RETURNING hits",
                          (bucket, window)).fetchall()[0][0]
        if hits == 1:  # first hit of a new window for this bucket: forget its old windows
            db.execute("DELETE FROM rate_windows WHERE bucket = ? AND window < ?", (bucket, window))
    return hits, int((window + 1) * WINDOW_SECONDS - now) + 1


def forget_before(db: sqlcipher3.Connection, now: float | None = None) -> int:
    """Delete every window that ended before the previous one (buckets that went quiet)."""
    window = int((time.time() if now is None else now) // WINDOW_SECONDS)
    with transaction(db):
        return db.execute("DELETE FROM rate_windows WHERE window < ?", (window - 1,)).rowcount


def charge(bucket: str, limit: int) -> None:
    """Count a hit; raise 429 rate_limited once the bucket is over its limit this minute (0: no limit)."""
    if limit <= 0:
        return
    hits, retry_after = count(get_db(), bucket)
    if hits > limit:
        raise ApiError("rate_limited", f"Too many requests; try again in {retry_after} seconds.",
                       headers={"Retry-After": str(retry_after)})


def charge_visitor(visitor_id: int) -> None:
    """Count one chat message against the visitor's per-minute limit."""
    charge(f"visitor:{visitor_id}", current_app.config["RATE_MESSAGES_PER_VISITOR"])


def keyed_hash(value: str) -> str:
    """Return a keyed hash (HMAC-SHA256 with SUBJECT_KEY, 128 bits) of value, for counting it unstored."""
    key = current_app.config["SUBJECT_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def _address_bucket() -> str:
    return "ip:" + keyed_hash(request.remote_addr or "")


def charge_poll(visitor_id: int) -> None:
    """Count one poll for new messages against the visitor's own per-minute limit."""
    charge(f"poll:{visitor_id}", current_app.config["RATE_POLLS_PER_VISITOR"])


def _limit_address() -> None:
    if request.endpoint == POLLING and request.method == "GET":
        return
    if request.path.startswith("/api/") and request.path not in EXEMPT and request.method != "OPTIONS":
        charge(_address_bucket(), current_app.config["RATE_REQUESTS_PER_ADDRESS"])


def init_app(app: Flask) -> None:
    """Limit API requests per client address; trust X-Forwarded-For only from configured proxies."""
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])
    app.before_request(_limit_address)
