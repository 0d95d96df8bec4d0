"""Exact-term search: BM25 over one document per article (title, questions and text).

Dense vectors blur product names, error codes and rare words ("E31", "Lumen Plus"); BM25 keeps
them sharp. Built from the index's own entries at load time, so it adds no file to disk.
"""
from __future__ import annotations

import bm25s
import numpy as np


class Lexical:
    """A BM25 index with one document per article, in the index's article order."""

    def __init__(self, documents: list[str]) -> None:
        self._size = len(documents)
        self._bm25 = bm25s.BM25()
        self._bm25.index(bm25s.tokenize(documents, stopwords="en", show_progress=False), show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """Return each article's raw BM25 score for the query (all 0 if no term matches)."""
        tokens = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        if not tokens:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
