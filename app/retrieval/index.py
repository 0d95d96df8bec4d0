"""Build, save and load the search index over the knowledge base.

The index holds only article text (never visitor data): a FAISS inner-product index over the
unit vectors of every entry (passages and listed questions), one vector per passage sentence for
quoting, a linear classifier fitted to the entries, and a BM25 index rebuilt from the entries at
load. Each build goes to a fresh folder; a one-line CURRENT file is swapped in with os.replace,
so readers see the old index or the new one, never half of each.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np

from app.retrieval import classifier
from app.retrieval.articles import Article, Chunk, chunk_article, split_sentences
from app.retrieval.embedder import Embedder
from app.retrieval.lexical import Lexical
from app.retrieval.words import stems

FORMAT = 4  # bump when chunking or the saved layout changes


class IndexLoadError(Exception):
    """The index on disk is missing or unreadable."""


@dataclass(frozen=True, eq=False)
class Index:
    digest: str
    built_at: str
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray  # one unit vector per chunk
    sentences: tuple[tuple[int, str], ...]  # (chunk row, sentence) for passages
    sentence_vectors: np.ndarray
    weights: np.ndarray  # classifier: dimension × articles
    bias: np.ndarray
    faiss_index: faiss.Index
    model: str = ""  # embedding model the vectors came from ("" for indexes saved before this was kept)

    @cached_property
    def article_ids(self) -> tuple[str, ...]:
        """Article slugs in first-seen order; article numbers index into this."""
        return tuple(dict.fromkeys(c.article for c in self.chunks))

    @property
    def articles(self) -> int:
        return len(self.article_ids)

    @cached_property
    def entry_article(self) -> np.ndarray:
        """Article number of each entry."""
        number = {a: i for i, a in enumerate(self.article_ids)}
        return np.array([number[c.article] for c in self.chunks], dtype=np.int64)

    @cached_property
    def article_starts(self) -> np.ndarray | None:
        """Row where each article's entries start, if each article's entries are consecutive (as built).

        Articles are numbered in first-seen order, so their entries are consecutive exactly when the
        numbers never go down."""
        numbers = self.entry_article
        if len(numbers) and np.all(np.diff(numbers) >= 0):
            return np.flatnonzero(np.diff(numbers, prepend=-1))
        return None

    @cached_property
    def first_rows(self) -> np.ndarray:
        """Row of each article's first entry (its title and url)."""
        first: dict[str, int] = {}
        for row, chunk in enumerate(self.chunks):
            first.setdefault(chunk.article, row)
        return np.array([first[a] for a in self.article_ids], dtype=np.int64)

    @cached_property
    def article_numbers(self) -> dict[str, int]:
        """Each article's number by its slug and by its url (the first article to use one keeps it): the
        widget names the last answer's article by its url (`context.article_number`)."""
        numbers: dict[str, int] = {}
        for number, row in enumerate(self.first_rows):
            chunk = self.chunks[row]
            for reference in (chunk.article, chunk.url):
                if reference:
                    numbers.setdefault(reference, number)
        return numbers

    @cached_property
    def lexical(self) -> Lexical:
        """BM25 over one document per article: title, questions and passages."""
        texts: dict[str, list[str]] = {a: [] for a in self.article_ids}
        for chunk in self.chunks:
            if not texts[chunk.article]:
                texts[chunk.article].append(chunk.title)
            texts[chunk.article].append(chunk.text)
        return Lexical([" ".join(parts) for parts in texts.values()])

    @cached_property
    def listed_only(self) -> np.ndarray:
        """Whether each article is only a title and a list of example questions (an intent), with no text
        of its own: its questions are all the words it has (`search.confidence`), and its title labels a
        topic rather than naming a thing (`context.Names`)."""
        text = np.array([chunk.kind == "passage" for chunk in self.chunks], dtype=bool)
        return np.bincount(self.entry_article[text], minlength=len(self.article_ids)) == 0

    @cached_property
    def article_words(self) -> tuple[frozenset[str], ...]:
        """Each article's content words (title, headings, questions, passages), for `search.confidence`.
        Built by `prepare` when some article is only listed questions (0.2 s for 4,318 entries)."""
        words: dict[str, set[str]] = {a: set() for a in self.article_ids}
        for chunk in self.chunks:
            words[chunk.article] |= stems(f"{chunk.title} {chunk.heading} {chunk.text}")
        return tuple(frozenset(w) for w in words.values())

    @cached_property
    def section_headings(self) -> tuple[frozenset[str], ...]:
        """Each article's section headings, case-folded. Articles built alike share them: hotels
        answering the same FAQ questions, the same review slots (`context`'s look-alikes)."""
        headings: dict[str, set[str]] = {a: set() for a in self.article_ids}
        for chunk in self.chunks:
            if chunk.kind == "passage" and chunk.anchor:
                headings[chunk.article].add(chunk.heading.casefold())
        return tuple(frozenset(h) for h in headings.values())

    def prepare(self) -> Index:
        """Build the derived lookups (BM25, article maps) now, so no visitor's request pays for them."""
        # Reading a cached property builds and keeps it.
        _ = (self.lexical, self.entry_article, self.article_starts, self.first_rows, self.article_numbers,
             self._rows_by_article, self._sentences_by_passage, self.section_headings, self.listed_only)
        if self.listed_only.any():
            _ = self.article_words
        return self

    def rows_of(self, article: str, kind: str = "passage") -> list[int]:
        """Return the rows of the article's passages (kind "question": of the questions it lists)."""
        return self._rows_by_article.get((article, kind), [])

    def sentence_rows(self, row: int) -> list[int]:
        """Return the rows of the sentences of the passage at row."""
        return self._sentences_by_passage.get(row, [])

    @cached_property
    def _rows_by_article(self) -> dict[tuple[str, str], list[int]]:
        groups: dict[tuple[str, str], list[int]] = {}
        for row, chunk in enumerate(self.chunks):
            groups.setdefault((chunk.article, chunk.kind), []).append(row)
        return groups

    @cached_property
    def _sentences_by_passage(self) -> dict[int, list[int]]:
        groups: dict[int, list[int]] = {}
        for i, (owner, _) in enumerate(self.sentences):
            groups.setdefault(owner, []).append(i)
        return groups


def digest_of(articles: list[Article], model: str, chunk_chars: int) -> str:
    """Fingerprint everything a build depends on; equal digests mean no rebuild is needed."""
    parts = [f"format={FORMAT}", f"model={model}", f"chunk={chunk_chars}"]
    parts += sorted(a.digest for a in articles)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# Past this many entries a query no longer scans them all: an HNSW graph finds the nearest CANDIDATES
# entries (recall@5 against exact search measured by `bench index --scale`), and the articles they
# belong to are then scored exactly. Below it, exact search costs well under a millisecond.
APPROXIMATE_FROM = 20_000
CANDIDATES = 256
_HNSW_LINKS, _HNSW_BUILD, _HNSW_SEARCH = 32, 80, 256
# Fitting one class per article grows with articles × entries; past this many articles the classifier is
# left out (its weight in the fused score goes to the other signals).
CLASSIFIER_MAX_ARTICLES = 1_000


def _entries_index(vectors: np.ndarray) -> faiss.Index:
    if len(vectors) < APPROXIMATE_FROM:
        entries = faiss.IndexFlatIP(vectors.shape[1])
    else:
        entries = faiss.IndexHNSWFlat(vectors.shape[1], _HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
        entries.hnsw.efConstruction = _HNSW_BUILD
    entries.add(vectors)
    return entries


def approximate(entries: faiss.Index) -> bool:
    """Say whether an entries index is the approximate (HNSW) kind."""
    return isinstance(entries, faiss.IndexHNSW)


def _entry_text(chunk: Chunk) -> str:
    return f"{chunk.title}. {chunk.heading}. {chunk.text}" if chunk.kind == "passage" else chunk.text


def _known_vectors(previous: Index | None, model: str) -> dict[str, np.ndarray]:
    """Map every text the previous index encoded (with the same model) to its vector."""
    if previous is None or previous.model != model:
        return {}
    known = {_entry_text(c): v for c, v in zip(previous.chunks, previous.vectors)}
    known.update((text, v) for (_, text), v in zip(previous.sentences, previous.sentence_vectors))
    return known


def _encode(embedder: Embedder, texts: list[str], known: dict[str, np.ndarray]) -> np.ndarray:
    """Encode texts, reusing the vectors of those already known."""
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    fresh = dict(zip(missing, embedder.encode(missing)))
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.ascontiguousarray(np.stack([known[t] if t in known else fresh[t] for t in texts]), dtype=np.float32)


def build(articles: list[Article], embedder: Embedder, chunk_chars: int, previous: Index | None = None) -> Index:
    """Chunk and embed every article, and fit the classifier, into a new in-memory index.

    Texts the previous index already encoded with the same model keep their vectors, so a change to
    one article re-encodes that article only (the classifier is refitted: it depends on them all).
    """
    chunks = tuple(c for a in articles for c in chunk_article(a, chunk_chars))
    if not chunks:
        raise IndexLoadError("the knowledge base has no articles to index")
    sentences = tuple((row, s) for row, c in enumerate(chunks) if c.kind == "passage"
                      for s in split_sentences(c.text))
    known = _known_vectors(previous, embedder.identity)
    vectors = _encode(embedder, [_entry_text(c) for c in chunks], known)
    sentence_vectors = _encode(embedder, [s for _, s in sentences], known)
    built_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    index = Index(digest_of(articles, embedder.identity, chunk_chars), built_at, chunks, vectors, sentences,
                  sentence_vectors, np.zeros(0), np.zeros(0), _entries_index(vectors), embedder.identity)
    if index.articles > CLASSIFIER_MAX_ARTICLES:
        return index
    weights, bias = classifier.fit(vectors, index.entry_article, index.articles)
    return dataclasses.replace(index, weights=weights, bias=bias)


def save(index: Index, root: Path) -> Path:
    """Write the index under root in a new folder and atomically make it the current one."""
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{index.digest[:16]}-", dir=root))
    meta = {"format": FORMAT, "digest": index.digest, "built_at": index.built_at, "model": index.model,
            "chunks": [dataclasses.asdict(c) for c in index.chunks], "sentences": index.sentences}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    faiss.write_index(index.faiss_index, str(folder / "entries.faiss"))
    np.save(folder / "sentences.npy", index.sentence_vectors)
    np.savez(folder / "classifier.npz", weights=index.weights, bias=index.bias)
    pointer = root / "CURRENT.tmp"
    pointer.write_text(folder.name)
    os.replace(pointer, root / "CURRENT")
    for old in root.iterdir():
        if old.is_dir() and old.name != folder.name:
            shutil.rmtree(old, ignore_errors=True)
    return folder


def current_digest(root: Path) -> str | None:
    """Return the digest of the index currently saved under root, or None if there is none."""
    try:
        folder = root / (root / "CURRENT").read_text().strip()
        return json.loads((folder / "meta.json").read_text())["digest"]
    except (OSError, ValueError, KeyError):
        return None


def load(root: Path) -> Index:
    """Load the current index saved under root."""
    try:
        folder = root / (root / "CURRENT").read_text().strip()
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        entries = faiss.read_index(str(folder / "entries.faiss"))
        sentence_vectors = np.load(folder / "sentences.npy")
        fitted = np.load(folder / "classifier.npz")
        weights, bias = fitted["weights"], fitted["bias"]
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise IndexLoadError(f"cannot read the index under {root}: {error}") from None
    if meta.get("format") != FORMAT:
        raise IndexLoadError(f"index under {root} has format {meta.get('format')}, expected {FORMAT}")
    chunks = tuple(Chunk(**c) for c in meta["chunks"])
    sentences = tuple((int(row), text) for row, text in meta["sentences"])
    vectors = entries.reconstruct_n(0, entries.ntotal)
    if approximate(entries):
        faiss.downcast_index(entries).hnsw.efSearch = _HNSW_SEARCH
    return Index(meta["digest"], meta["built_at"], chunks, vectors, sentences, sentence_vectors,
                 weights, bias, entries, meta.get("model", ""))
