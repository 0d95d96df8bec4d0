"""Remember recent answers by scrubbed question, per worker: support traffic asks the same things.

A bounded LRU in memory only (never written anywhere), keyed by the index it was answered from, the
scrubbed text, the scrubbed context and the answer settings; when the index changes every entry
is dropped. It keeps what the search produced (the answer and the question's vector), so a repeated
question costs its scrub and nothing more. Entries are scrubbed text, like everything after the scrubber.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Hashable

from app.chat.bounded import Bounded


class AnswerCache:
    """Thread-safe LRU of at most `size` entries; size 0 keeps nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: Bounded[Any] = Bounded(size)
        self._index = ""
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, index: str, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return the remembered value for key under this index digest, computing it on a miss."""
        if self.size <= 0:
            return compute()
        with self._lock:
            if index != self._index:  # a new index: nothing remembered still holds
                self._entries.clear()
                self._index = index
            found = self._entries.get(key)
            if found is not None:
                self.hits += 1
                return found
            self.misses += 1
        value = compute()  # outside the lock: other threads keep answering meanwhile
        with self._lock:
            if index == self._index:
                self._entries.put(key, value)
        return value
