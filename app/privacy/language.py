"""Tell English visitor text from text in another language written in Latin letters, fast and offline.

The scrubber's name guesses come from an English spaCy model: over German or French it takes
capitalised nouns for people ("Kann ich die Lampe zurückgeben?" lost "Kann" and "Lampe"). A
sentence that reads as another language gets pattern recognizers only. The check counts function
words from spaCy's own stop-word lists (no model, no download): a sentence is English unless
another language's distinctive function words outnumber the English ones.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import regex

# Languages visitors of a European shop write in besides English (spaCy ships their stop words).
OTHER_LANGUAGES = ("de", "fr", "es", "it", "nl", "pt", "sv", "da", "nb", "pl", "hi-Latn")
WORDS = regex.compile(r"[\p{L}']+")
MIN_FOREIGN = 2  # one shared-looking word ("die", "son", "dans") proves nothing
# Running text is a third function words or more; a list of names and places ("Mie Skov, SUESS SE")
# can hold two foreign-looking ones by chance.
MIN_SHARE = 0.25


# Hindi written in Latin letters (Hinglish), common in Indian support chats; spaCy's Hindi list is
# in Devanagari. Pronouns, postpositions, auxiliaries and negations, in their usual spellings.
HINGLISH = frozenset("""hai hain h ho hota hoti hote hua hui hue tha thi the raha rahi rahe rha rhi rhe nahi
nahin nhi nai mat ka ki ke ko se me mein mai main mera meri mere mujhe mujhko hum ham hamara hamare hamen
humko tum
tumhara aap apna apne apni yeh ye yah woh wo vah kya kyu kyo kyon kaise kaisa kab kahan kitna kitne kitni
kuch koi sab abhi tak bhi aur par pe liye karna karke kar kiya kiye gaya gayi gaye gya diya dijiye
jata jati jaate lekin agar toh to""".split())


@lru_cache(maxsize=None)
def _stop_words(code: str) -> frozenset[str]:
    if code == "hi-Latn":
        return HINGLISH
    # Run spaCy's stop-word file alone (a set literal, no imports): importing it as `spacy.lang.fr.stop_words`
    # first runs the language package, whose tokenizer rules cost each server worker ~5 s at start (French).
    path = Path(importlib.util.find_spec("spacy").origin).parent / "lang" / code / "stop_words.py"
    spec = importlib.util.spec_from_file_location(f"quietdesk_stop_words_{code}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(word.lower() for word in module.STOP_WORDS)


@lru_cache(maxsize=None)
def _distinctive() -> dict[str, frozenset[str]]:
    """Return each other language's stop words that are not also English (or English-looking)."""
    english = _stop_words("en")
    return {code: _stop_words(code) - english for code in OTHER_LANGUAGES}


def is_english(text: str) -> bool:
    """Say whether the text reads as English (True for text with no function words at all)."""
    words = [w.lower() for w in WORDS.findall(text)]
    english = sum(w in _stop_words("en") for w in words)
    foreign = max(sum(w in stop for w in words) for stop in _distinctive().values())
    return not (foreign >= MIN_FOREIGN and foreign > english and foreign >= MIN_SHARE * len(words))
