"""Ordinary English words that are nobody's name: "Heart Care", "Weight Management", "Expire".

spaCy's small model takes a capitalised run of ordinary words for a person or a company, and a support
question is full of them ("Show products for Heart Care"). A guess made only of frequent words that
the dictionary writes in lower case, none of them a common given name or surname, names a thing, not a
person.

Three offline lists, each from a package: frequent words are wordfreq's small English list (the ~29,000
words seen at least about once per million); the dictionary is Webster's Second International (public
domain, via english-words), which writes "heart" in lower case and "Rahul" or "Aaron" capitalised, and
leaves out rare names that happen to be frequent strings; the names are the US Census 1990 lists (via
names): every given name (5,163) and the 5,000 most common surnames ("Mark", "Grace", "Green", "King"
stay names). About 14,000 words, a third of a second to load once per process.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

COMMON_SURNAMES = 5000  # the Census list is ordered by frequency


def _census(filename: str, limit: int | None = None) -> set[str]:
    """Return the first `limit` names of one of the names package's Census files, lower-cased."""
    lines = resources.files("names").joinpath(filename).read_text(encoding="ascii").splitlines()
    return {line.split()[0].lower() for line in lines[:limit] if line.strip()}


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Return the frequent words the dictionary writes in lower case, common names taken out."""
    from english_words import get_english_words_set
    from wordfreq import iter_wordlist

    names = (_census("dist.male.first") | _census("dist.female.first")
             | _census("dist.all.last", COMMON_SURNAMES))
    dictionary = get_english_words_set(["web2"])
    return frozenset(w for w in iter_wordlist("en", wordlist="small")
                     if w in dictionary and w.isalpha() and w not in names)


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
