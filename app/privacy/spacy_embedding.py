"""Run a spaCy pipeline's token embedding as one layer: the same vectors with a fraction of the calls.

The small English model's NER and its shared `tok2vec` embed each token the same way (spaCy's
HashEmbedCNN): hashed features (norm, prefix, suffix, shape…) summed from tables, a maxout layer and a
layer norm, then four residual blocks that each look one token either side (window → maxout → layer
norm), and for NER a linear layer on top. thinc runs that as a tree of some thirty layers, and for a
chat message's dozen tokens the walking costs more than the arithmetic; spaCy also walks the whole
tree again on every message to set dropout to zero. `fuse_embeddings` puts one layer in the tree's
place that does the same operations in the same order with the same weights (thinc's own hashing,
maxout and window kernels; the kept-transpose products of spacy_weights, which the pipeline must
already use), so its output is the same array bit for bit. It checks that on probe messages before it
replaces anything, and leaves an embedding of any other shape, or one that rounds differently, as it
is. Measured on 600 HINT3 questions, one message at a time: NER 1.06 → 0.78 ms and the whole pipeline
2.0 → 1.4 ms a message, a scrub 2.85 → 2.29 ms (medians of 6 interleaved rounds); the same entities
and tags on every one.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import Model

from app.privacy.spacy_weights import TransposedWeights, product

# One message of each shape a probe needs: words, digits, punctuation, capitals, a lone token, spaces.
PROBES = ("How do I reset my password?", "Jane Roe from Berlin called about order 88231 on Monday.",
          "E12", "hi  there,\n\nmy lamp blinks RED -- twice!!", "Kit Marlowe, 12 Baker Street, London NW1 6XE")
EMBED = "ints-getitem>>hashembed"
BLOCK = "residual(expand_window>>maxout>>layernorm>>dropout)"


def expected_name(tables: int, depth: int, linear: bool) -> str:
    """The name thinc gives a HashEmbedCNN tree with this many tables and residual blocks."""
    name = (f"extract_features>>list2ragged>>with_array({'|'.join([EMBED] * tables)})"
            f">>with_array(maxout>>layernorm>>dropout)>>ragged2list>>with_array({'>>'.join([BLOCK] * depth)})")
    return name + ">>list2array>>linear" if linear else name


class Embedding:
    """The arithmetic of one HashEmbedCNN tree, read from its layers once."""

    def __init__(self, model: Model) -> None:
        nodes = list(model.walk())
        by_name = lambda name: [node for node in nodes if node.name == name]  # noqa: E731 — walk order
        features = by_name("extract_features")[0]
        self.columns = features.attrs["columns"]
        self.tables = [(node.get_param("E"), node.attrs["seed"], node.attrs["column"])
                       for node in by_name("hashembed")]
        maxouts, norms = by_name("maxout"), by_name("layernorm")
        self.mix = self._maxout(maxouts[0]), (norms[0].get_param("G"), norms[0].get_param("b"))
        self.blocks = [(self._maxout(m), (n.get_param("G"), n.get_param("b")))
                       for m, n in zip(maxouts[1:], norms[1:])]
        windows = {node.attrs["window_size"] for node in by_name("expand_window")}
        encoders = [node for node in nodes if node.name.startswith("with_array(residual(")]
        self.window, self.pad = windows.pop(), encoders[0].attrs["pad"]
        linear = [node for node in model.layers if node.name == "linear"]
        self.linear = (np.ascontiguousarray(linear[0].get_param("W").T), linear[0].get_param("b")) if linear else None
        self.ops = model.ops

    @staticmethod
    def _maxout(node: Model) -> tuple[np.ndarray, np.ndarray, int, int]:
        weights = node.get_param("W")
        n_out, pieces, n_in = weights.shape
        return (np.ascontiguousarray(weights.reshape(n_out * pieces, n_in).T),
                node.get_param("b").reshape(n_out * pieces), n_out, pieces)

    def _maxout_norm(self, x: np.ndarray, maxout, norm) -> np.ndarray:
        transposed, bias, n_out, pieces = maxout
        y = product(x, transposed)
        y += bias
        best, _ = self.ops.maxout(y.reshape(y.shape[0], n_out, pieces))
        mean = best.mean(axis=1, keepdims=True)
        variance = best.var(axis=1, keepdims=True) + 1e-08
        scaled = (best - mean) * variance ** (-1.0 / 2.0) * norm[0]
        scaled += norm[1]
        return scaled

    def token_vectors(self, doc: Doc) -> np.ndarray:
        """One doc's token vectors before the linear layer (thinc's order of operations throughout)."""
        ids = self.ops.asarray2i(doc.to_array(self.columns), dtype="uint64")
        if ids.ndim == 1:
            ids = ids.reshape((ids.shape[0], 1))
        embedded = [self.ops.gather_add(table, self.ops.hash(np.ascontiguousarray(ids[:, column]), seed)
                                        % table.shape[0]) for table, seed, column in self.tables]
        x = self._maxout_norm(np.hstack(embedded), *self.mix)
        padding = np.zeros((self.pad, x.shape[1]), dtype=x.dtype)
        x = np.concatenate((padding, x, padding))
        for maxout, norm in self.blocks:
            x = x + self._maxout_norm(self.ops.seq2col(x, self.window), maxout, norm)
        return x[self.pad:x.shape[0] - self.pad]

    def __call__(self, docs: list[Doc]):
        vectors = [self.token_vectors(doc) if len(doc) else None for doc in docs]
        if self.linear is None:
            width = self.blocks[-1][0][2]
            return [v if v is not None else np.zeros((0, width), dtype=np.float32) for v in vectors]
        rows = [v for v in vectors if v is not None]
        weights, bias = self.linear
        if not rows:
            return np.zeros((0, weights.shape[1]), dtype=np.float32)
        out = product(np.concatenate(rows) if len(rows) > 1 else rows[0], weights)
        out += bias
        return out


def _forward(model: Model, docs: list[Doc], is_train: bool):
    if is_train:
        raise RuntimeError("a fused embedding only predicts: train the original pipeline")
    return model.attrs["embedding"](docs), None


def fused(model: Model) -> Model | None:
    """A one-layer replacement for model if it is a HashEmbedCNN tree this module knows, else None."""
    nodes = list(model.walk())
    tables = sum(node.name == "hashembed" for node in nodes)
    depth = sum(node.name == BLOCK for node in nodes)
    linear = model.layers[-1].name == "linear" if model.layers else False
    if not tables or not depth or model.name != expected_name(tables, depth, linear):
        return None
    embedding = Embedding(model)
    if embedding.pad < depth * embedding.window:  # then thinc's batches let one message reach into the next
        return None
    layer = Model(f"fused({model.name})", _forward, dims={"nO": model.maybe_get_dim("nO")},
                  attrs={"embedding": embedding})
    layer.ops = model.ops
    return layer


def _same(original: Model, replacement: Model, docs: list[Doc]) -> bool:
    """Whether both give each probe message the same array bit for bit. (The scrubber reads one message
    at a time; in a batch thinc multiplies all messages' rows at once, which can round the last bit of a
    vector differently, by ≤ 3e-6, so batches are compared within 1e-4.)"""
    for doc in docs:
        want, got = original.predict([doc]), replacement.predict([doc])
        want, got = (want[0], got[0]) if isinstance(want, list) else (want, got)
        if want.shape != got.shape or not np.array_equal(want, got):
            return False
    want, got = original.predict(docs), replacement.predict(docs)
    if isinstance(want, list):
        return len(want) == len(got) and all(np.allclose(a, b, atol=1e-4) for a, b in zip(want, got))
    return want.shape == got.shape and np.allclose(want, got, atol=1e-4)


def _embeddings(nlp: Language) -> Iterable[tuple[object, Model]]:
    """Each active component's embedding tree: the component's own model, or its model's tok2vec."""
    for _, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        if model is None:
            continue
        if model.name.startswith("extract_features>>"):
            yield pipe, model
        elif model.has_ref("tok2vec") and model.get_ref("tok2vec").name.startswith("extract_features>>"):
            yield pipe, model.get_ref("tok2vec")


def fuse_embeddings(nlp: Language) -> list[str]:
    """Replace each embedding tree in nlp that fuses to the same output; return the components changed."""
    docs = [nlp.make_doc(text) for text in PROBES]
    changed = []
    for pipe, tree in list(_embeddings(nlp)):
        replacement = fused(tree)
        if replacement is None or not _same(tree, replacement, docs):
            continue
        if pipe.model is tree:
            pipe.model = replacement
        else:
            pipe.model.replace_node(tree, replacement)
        if isinstance(tree.ops, TransposedWeights):  # the check above made copies only the old tree reads
            tree.ops.forget([node.get_param(name) for node in tree.walk() for name in node.param_names
                             if node.has_param(name)])
        changed.append(pipe.name)
    return changed
