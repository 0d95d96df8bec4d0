"""The knowledge base's own words, which the scrubber must not mask on a guess.

A visitor who asks "What does error E12 mean?" or about "EMI" or "COD" uses the shop's words; a
name guess over them costs the answer its meaning and identifies nobody. Only guesses give way
(names, organisations, weak address and licence shapes): an email, phone, card, IBAN or SSN is
masked even when the knowledge base happens to quote one.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import regex

WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}'’-]*")


def words(text: str) -> list[str]:
    """Return the text's words, lower-cased, apostrophes and hyphens kept inside words."""
    return [w.lower().rstrip("'’-") for w in WORD.findall(text)]


@dataclass(frozen=True)
class Vocabulary:
    """Words and running text of the knowledge base, lower-cased, for quick look-ups."""

    words: frozenset[str] = frozenset()
    running: str = " "  # every text's words joined by single spaces, padded: " word word "

    @classmethod
    def of(cls, texts: Iterable[str]) -> Vocabulary:
        """Collect the vocabulary of article titles, headings, listed questions and bodies."""
        lines = [t for t in texts if t]
        found = [w for line in lines for w in words(line)]
        running = " " + " | ".join(" ".join(words(line)) for line in lines) + " "
        return cls(frozenset(found), running)

    def __bool__(self) -> bool:
        return bool(self.words)

    def covers(self, phrase: str) -> bool:
        """Say whether the phrase occurs in the knowledge base, or every word of it does.

        A phrase with a digit must occur as a whole ("Error E12" yes, "12 Main Street" no): a number
        joined to known words is how addresses are written.
        """
        found = words(phrase)
        if not found:
            return False
        if f" {' '.join(found)} " in self.running:
            return True
        return not any(c.isdigit() for c in phrase) and all(w in self.words for w in found)
