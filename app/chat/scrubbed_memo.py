"""Remember, per worker, how each recent visitor message reads once scrubbed, so the context the widget
sends back with the next message is not scrubbed a second time.

The widget sends the visitor's last few messages with each new one (app/retrieval/context.py); each of
them was scrubbed when it was sent, most often by the same worker (the browser keeps its connection).
Keys are HMAC-SHA256 of the raw text under a random key that lives only in this process's memory, so
nothing here can be turned back into what was typed; values are the scrubbed text as it is searched
(placeholders read as "something"), which holds no personal data. Memory only, bounded, never written.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from app.chat.bounded import Bounded


class ScrubbedMemo:
    """Thread-safe LRU of at most `size` entries: keyed hash of a raw message → its scrubbed text."""

    def __init__(self, size: int = 4096) -> None:
        self._key = secrets.token_bytes(32)
        self._entries: Bounded[str] = Bounded(size)

    def _digest(self, raw: str) -> bytes:
        return hmac.new(self._key, raw.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    def remember(self, raw: str, scrubbed: str) -> None:
        self._entries.put(self._digest(raw), scrubbed)

    def recall(self, raw: str) -> str | None:
        """The scrubbed text of a message seen before in this process, or None."""
        return self._entries.get(self._digest(raw))
