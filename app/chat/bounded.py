"""A thread-safe, bounded, least-recently-used map in memory: what each worker remembers between turns.

Used for the answer cache and the scrubbed-message memo; nothing in one is ever written
anywhere, and each holds scrubbed text or what was computed from it (or keyed hashes of raw text).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

V = TypeVar("V")


class Bounded(Generic[V]):
    """At most `size` entries, the least recently used dropped first; size 0 keeps nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """Return the value remembered for key (and mark it recently used), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        """Remember a value, dropping the least recently used entries beyond the size."""
        if self.size <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def items(self) -> list[tuple[Hashable, V]]:
        """Return a snapshot of the entries, least recently used first."""
        with self._lock:
            return list(self._entries.items())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
