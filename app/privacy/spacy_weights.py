"""Make a loaded spaCy pipeline's matrix products cheaper for chat-sized messages: same entities, less CPU.

spaCy's layers (thinc) keep each weight matrix with its outputs first and multiply a message's token
vectors by it transposed (`gemm(X, W, trans2=True)`), through the blis library. For the few tokens of a
chat message that is slow here: a 10 × 288 by 288 × 288 product costs 79 µs through blis and 60 µs through
numpy with W transposed on the fly, but 17 µs through numpy with a copy of W kept the other way round.
`keep_weights_transposed` gives every layer of the pipeline an ops object that keeps such copies (made
once per weight matrix, never updated: the pipeline must not be trained afterwards) and multiplies by
them; any other product goes to thinc as before. Measured on 600 HINT3 questions, scrubbed one at a time:
2.7 → 2.2 ms per message (12 interleaved rounds, every one faster by 0.4–0.8 ms); the masked output is the
same on all 3,427 HINT3 and PII-file texts, and a test compares both ways.
"""
from __future__ import annotations

import numpy as np
from thinc.api import NumpyOps


# numpy's BLAS (OpenBLAS) multiplies through its small-matrix kernels while m·n·k ≤ 10^6, and past that
# packs both matrices first, which for a message's few rows costs twice as much a row (measured, 288 × 288
# weights: 12 rows 18.7 µs, 15 rows 41.7 µs, 20 rows 43.6 µs). Taken in blocks, a row's numbers can differ
# from the one-product result in the last bit (BLAS rounds by kernel); entities, tags and masked text do
# not (compared on 9,619 texts, and by a test against spaCy as shipped).
SMALL_PRODUCT = 1_000_000


def product(x: np.ndarray, transposed: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Return x @ transposed, in blocks of as many rows as BLAS's small-matrix kernels take (the kernels
    are fastest on whole blocks: 13 rows as 12 + 1 cost 26 µs, as 7 + 6 35 µs, as one product 39 µs)."""
    k, n = transposed.shape
    block = max(1, SMALL_PRODUCT // (k * n))
    if x.shape[0] <= block:
        return np.matmul(x, transposed, out=out)
    if out is None:
        out = np.empty((x.shape[0], n), dtype=np.result_type(x, transposed))
    for start in range(0, x.shape[0], block):
        np.matmul(x[start:start + block], transposed, out=out[start:start + block])
    return out


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


class TransposedWeights(NumpyOps):
    """thinc's CPU ops, multiplying by a kept C-ordered transpose of each known weight matrix."""

    def __init__(self, weights: list[np.ndarray]) -> None:
        super().__init__()
        # Holding the weights keeps their memory theirs: an array at one of these addresses is one of
        # them (or a view of one), never a temporary that happens to reuse the memory.
        self._weights = {_address(w): w for w in weights if w.dtype == np.float32 and w.flags.c_contiguous}
        self._transposed: dict[tuple[int, tuple[int, ...]], np.ndarray] = {}

    def gemm(self, x, y, out=None, trans1: bool = False, trans2: bool = False):
        if trans2 and not trans1 and x.dtype == np.float32 and y.ndim == 2 and y.flags.c_contiguous:
            address = _address(y)
            if address in self._weights:
                key = (address, y.shape)
                transposed = self._transposed.get(key)
                if transposed is None:
                    transposed = self._transposed[key] = np.ascontiguousarray(y.T)
                return product(x, transposed, out)
        return super().gemm(x, y, out=out, trans1=trans1, trans2=trans2)

    def forget(self, weights: list[np.ndarray]) -> None:
        """Drop the kept copies of weights no layer multiplies by any more."""
        gone = {_address(w) for w in weights}
        self._weights = {address: w for address, w in self._weights.items() if address not in gone}
        self._transposed = {key: t for key, t in self._transposed.items() if key[0] not in gone}


def keep_weights_transposed(nlp) -> TransposedWeights:
    """Give every layer of nlp's trainable components one TransposedWeights over all their weights."""
    layers = [node for _, pipe in nlp.pipeline if hasattr(pipe, "model") for node in pipe.model.walk()]
    weights = [layer.get_param(name) for layer in layers for name in layer.param_names if layer.has_param(name)]
    ops = TransposedWeights(weights)
    for layer in layers:
        layer.ops = ops
    return ops
