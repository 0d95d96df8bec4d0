"""A linear model fitted at build time to the knowledge base's own entries, one class per article.

Nearest-neighbour search trusts each stored phrasing equally; a logistic regression over the same
vectors learns which directions separate one article from its neighbours. It is fitted only on the
knowledge base (never on queries) and applied with plain numpy at query time.
"""
from __future__ import annotations

import numpy as np

_C = 10.0  # weak regularisation: the vectors are already good features


def fit(vectors: np.ndarray, labels: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Fit on (vector, article number) pairs; return weights (dimension × classes) and biases."""
    if classes < 2:
        return np.zeros((vectors.shape[1], classes), np.float32), np.zeros(classes, np.float32)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=_C, max_iter=2000)
    model.fit(vectors, labels)
    weights = np.zeros((vectors.shape[1], classes), np.float32)
    bias = np.full(classes, -1e4, np.float32)  # an article with no entries is never predicted
    if len(model.classes_) == 2:  # sklearn keeps one row for two classes: softmax([0, z]) = sigmoid(z)
        coef = np.vstack([np.zeros_like(model.coef_[0]), model.coef_[0]])
        intercept = np.array([0.0, model.intercept_[0]])
    else:
        coef, intercept = model.coef_, model.intercept_
    weights[:, model.classes_] = coef.T
    bias[model.classes_] = intercept
    return weights, bias


def probabilities(weights: np.ndarray, bias: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Return each article's probability for the query vector."""
    logits = query.reshape(-1) @ weights + bias
    logits -= logits.max()
    exp = np.exp(logits)
    return exp / exp.sum()
