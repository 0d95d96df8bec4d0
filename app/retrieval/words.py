"""Content words of a text, stemmed: what the lexical checks compare.

Dense vectors judge meaning; these words judge whether an article or a section *uses* what the question
asks about — "phone number", "bitcoin", "view" — which a paraphrase-friendly vector blurs.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer

STOP = frozenset("a an and the of at in on by for to your my our you i me it is are do does did how what "
                 "when where which who can could should would will with from or this that there be am was "
                 "have has get".split())
# Chat filler, pronouns and the like ask about nothing; "something" is how search reads a masked value.
FILLER = frozenset("hi hello hey please pls plz thanks thank thx help tell know need want like just ok okay "
                   "yes no not sure also really much something great perfect awesome cool alright now "
                   "he she him her his we us they them their its "
                   "here any some if so then than as t s don didn doesn isn won".split())
_WORD = re.compile(r"[a-z0-9]+")
_STEMMER = snowballstemmer.stemmer("english")
_STEMMING = threading.Lock()  # a stemmer keeps its word in itself: one at a time across request threads


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    with _STEMMING:
        return _STEMMER.stemWord(word)


def stems(text: str, leave_out: frozenset[str] = STOP) -> set[str]:
    """Content words, stemmed (Snowball English: "parking" and "park", "statuses" and "status" meet)."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in leave_out}


_NOT_ASKED = STOP | FILLER


def asked(text: str) -> set[str]:
    """The words a question asks about: its stems without chat filler."""
    return stems(text, _NOT_ASKED)
