"""Ordinary English words that are nobody's name: "Heart Care", "Weight Management", "Expire".

spaCy's small model takes a capitalised run of ordinary words for a person or a company, and a support
question is full of them ("Show products for Heart Care"). A guess made only of frequent words that
the dictionary writes in lower case, none of them a common given name or surname, names a thing, not a
person.

The list (`common_words.txt`, ~14,000 words, ~1 MB in memory, 4 ms to read) is made once from three
offline lists, each from a package, by `python -m app.privacy.common_words` (a test checks it is still
what they give):
frequent words are wordfreq's small English list (the ~29,000 words seen at least about once per
million); the dictionary is Webster's Second International (public domain, via english-words), which
writes "heart" in lower case and "Rahul" or "Aaron" capitalised, and leaves out rare names that happen
to be frequent strings; the names are the US Census 1990 lists (via names): every given name (5,163)
and the 5,000 most common surnames ("Mark", "Grace", "Green", "King" stay names). Made, not loaded at
start: loading Webster's 235,000 words left ~27 MB behind in every worker.
"""
from __future__ import annotations

import gzip
import importlib.util
import itertools
from functools import lru_cache
from pathlib import Path

WORD_LIST = Path(__file__).with_name("common_words.txt")
COMMON_SURNAMES = 5000  # the Census list is ordered by frequency
HEADER = """\
# Ordinary English words that are no one's name (app/privacy/common_words.py), one per line.
# Made by `python -m app.privacy.common_words > app/privacy/common_words.txt` from: wordfreq 3.1.1's
# small English list (frequencies CC BY-SA 4.0, Robyn Speer; so is this derived list), lower-case
# entries of Webster's Second International (public domain, via english-words 2.0.2), minus the
# US Census 1990 given names and 5,000 commonest surnames (public domain, via names 0.3.0).
"""


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Return the ordinary words, read once per process."""
    lines = WORD_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def load() -> None:
    """Load the word list now (once per process), not on the first visitor's message."""
    common_words()


def is_common_word(word: str) -> bool:
    """Say whether the word is a frequent lower-case dictionary word and no common name."""
    return word.lower() in common_words()


def only_common_words(phrase: str) -> bool:
    """Say whether every word of the phrase (letters only, split at spaces and hyphens) is a common word."""
    found = [w.strip(".,;:!?'\"()") for w in phrase.replace("-", " ").split()]
    return bool(found) and all(w.isalpha() and is_common_word(w) for w in found)


def _package_file(package: str, *parts: str) -> Path:
    """Return a data file of an installed package without importing it (wordfreq's import costs 15 MB)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed (pip install -e '.[test]')")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def _census(filename: str, limit: int | None = None) -> set[str]:
    """Return the first `limit` names of one of the Census files the names package ships, lower-cased."""
    with _package_file("names", filename).open(encoding="ascii") as lines:
        return {line.split()[0].lower() for line in itertools.islice(lines, limit) if line.strip()}


def _frequent_words() -> list[str]:
    """Return wordfreq's small English list, read from its data file (the documented "cBpack" format:
    a gzipped msgpack list, a header and then one list of words per centibel of frequency)."""
    import msgpack

    data = _package_file("wordfreq", "data", "small_en.msgpack.gz").read_bytes()
    header, *buckets = msgpack.unpackb(gzip.decompress(data), raw=False)
    if header != {"format": "cB", "version": 1}:
        raise ValueError(f"wordfreq's data has an unknown format: {header}")
    return [word for bucket in buckets for word in bucket]


def make_word_list() -> list[str]:
    """Return the ordinary words from the three packages, sorted (what common_words.txt holds)."""
    from english_words import get_english_words_set

    names = (_census("dist.male.first") | _census("dist.female.first")
             | _census("dist.all.last", COMMON_SURNAMES))
    dictionary = get_english_words_set(["web2"])
    return sorted({w for w in _frequent_words() if w in dictionary and w.isalpha() and w not in names})


if __name__ == "__main__":
    print(HEADER + "\n".join(make_word_list()))
