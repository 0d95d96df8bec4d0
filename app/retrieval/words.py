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
# A number glued to the word after it ("5ghz", "2.4GHz", "30days", "10am"); not an ordinal ("1st", "2nd")
_GLUED = re.compile(r"\b(\d+(?:[.,]\d+)?)(?!(?:st|nd|rd|th)\b)([a-z]{2,})\b", re.I)
_STEMMER = snowballstemmer.stemmer("english")
_STEMMING = threading.Lock()  # a stemmer keeps its word in itself: one at a time across request threads


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    with _STEMMING:
        return _STEMMER.stemWord(word)


def stems(text: str, leave_out: frozenset[str] = STOP) -> set[str]:
    """Content words, stemmed (Snowball English: "parking" and "park", "statuses" and "status" meet); a
    number glued to its unit is two words (`unglued`)."""
    return {_stem(w) for w in _WORD.findall(unglued(text).lower()) if w not in leave_out}


_NOT_ASKED = STOP | FILLER


def asked(text: str) -> set[str]:
    """The words a question asks about: its stems without chat filler."""
    return stems(text, _NOT_ASKED)


def unglued(text: str) -> str:
    """The text with a number glued to its unit as two words: "is 5ghz ok?" -> "is 5 ghz ok?". The articles
    write "5 GHz": glued, "5ghz" was a word the article never uses, and "is 5ghz ok?" after the error codes
    was taken for a new topic ("I don't know", 0.41). Only the word checks read it so; the embedding model
    gets the text as typed (split there too, HINT3 Curekart's "1kg", labelled out of scope, was answered)."""
    return _GLUED.sub(r"\1 \2", text)
