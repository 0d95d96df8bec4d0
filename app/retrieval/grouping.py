"""Group questions that ask the same thing, for the console's knowledge-gaps page.

Average-linkage agglomerative clustering over unit sentence vectors: two groups merge while their
mean cosine similarity stays at or above the threshold, so a group is a set of paraphrases rather
than a chain of loosely related questions (which single linkage would give).
"""
from __future__ import annotations

import numpy as np

SIMILARITY = 0.45  # best balance of purity and completeness on banking77 and CLINC150 (`run.py eval gaps`)


def group_similar(vectors: np.ndarray, similarity: float = SIMILARITY) -> list[list[int]]:
    """Return groups of row numbers, largest first; within a group the most central row comes first."""
    if len(vectors) < 2:
        return [[i] for i in range(len(vectors))]
    # Imported here: scikit-learn's clustering pulls in SciPy (~90 MB per worker), needed only when
    # someone opens the knowledge-gaps page.
    from sklearn.cluster import AgglomerativeClustering

    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                     distance_threshold=1 - similarity).fit_predict(vectors)
    groups = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        centre = vectors[rows].mean(axis=0)
        groups.append([int(r) for r in rows[np.argsort(-(vectors[rows] @ centre), kind="stable")]])
    return sorted(groups, key=lambda g: (-len(g), g[0]))
