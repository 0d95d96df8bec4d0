"""The index a serving process answers from, swapped for a newer one without a restart.

A rebuild (from the console or `run.py index build`) saves a new folder and atomically rewrites the
one-line CURRENT pointer. Each process checks that pointer when it asks for the index — its file's
identity (inode, modification time, size: one stat call), reading the line only when that changed — and
loads the new folder once, under a lock, while other requests keep the old one; whoever must follow the
articles (the scrubber keeps their words) is told once the new index is in.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Callable

from app.retrieval.index import Index, IndexLoadError, load

log = logging.getLogger(__name__)


class LiveIndex:
    """Hold the current index; with a root folder, follow its CURRENT pointer."""

    def __init__(self, index: Index, root: Path | None = None,
                 on_switch: Callable[[Index], None] | None = None) -> None:
        self._index, self._root, self._on_switch = index, root, on_switch
        self._seen = self._stamp()
        self._folder = self._pointer()
        self._lock = threading.Lock()

    def _stamp(self) -> tuple[int, int, int] | None:
        """The pointer file's identity: a rewrite (atomic rename: a new inode) changes it."""
        try:
            found = os.stat(self._root / "CURRENT") if self._root else None
        except OSError:
            return None
        return (found.st_ino, found.st_mtime_ns, found.st_size) if found else None

    def _pointer(self) -> str | None:
        try:
            return (self._root / "CURRENT").read_text().strip() if self._root else None
        except OSError:
            return None

    def current(self) -> Index:
        """Return the newest saved index, loading it first if another build replaced ours."""
        stamp = self._stamp()
        if stamp == self._seen:  # the pointer file is the one we read (per turn: a stat, not a read)
            return self._index
        folder = self._pointer()
        self._seen = stamp
        if folder is None or folder == self._folder:
            return self._index
        with self._lock:
            if folder != self._folder:
                try:
                    self._index = load(self._root).prepare()
                    log.info("switched to index %s (%d articles)", self._index.digest[:12], self._index.articles)
                    if self._on_switch:
                        self._on_switch(self._index)
                except IndexLoadError as error:
                    log.warning("kept the previous index: %s", error)
                self._folder = folder
        return self._index
