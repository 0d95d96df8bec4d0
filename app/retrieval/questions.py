"""Split a message into the questions it asks: "how do I start a return and how long does the refund
take?" is two questions, each answered from its own section.

A part is a question when it ends with "?" or starts with a question word or verb. A message is split
after each "?", and again where "and", "also", "plus" or ";" starts another question ("…and how long…",
"…, also can I…"); parts that ask nothing ("I bought a lamp last week") are the story around a question,
not one of their own. The joining word is left out of the part: "and how long does the refund take"
leans on the question before it by that word alone, and the reading in context (`context._left_topic`)
would keep it in that question's topic.
"""
from __future__ import annotations

import re

from app.retrieval.words import asked

_QUESTION_WORD = (r"(?:is|are|was|were|do|does|did|can|could|would|will|should|shall|may|"
                  r"what|what's|how|which|where|when|who|why|whose)\b")
# A question starts with a question word or a verb; "have" only at the start: after "and" it is more often
# the same question going on ("are the lamps dimmable and have a timer?").
QUESTION_START = re.compile(rf"(?:{_QUESTION_WORD}|(?:has|have|had)\b)", re.I)
MAX_QUESTIONS = 3  # a message asking more is answered as one question, as before
_SENTENCE_END = re.compile(r"(?<=\?)\s+")  # not after ".": it often only trails off ("can you help me ..")
_JOINER = re.compile(rf"\s*(?:,?\s+(?:and|also|plus)|;|,\s+(?:and\s+)?also)\s+"
                     rf"(?=(?:also\s+)?{_QUESTION_WORD})", re.I)
_OPENING = re.compile(r"(?i)^(?:and|also|plus)\s*,?\s+")


def split_questions(text: str) -> list[str]:
    """Return the questions a message asks, in order, when it asks two or more (at most MAX_QUESTIONS),
    each asking about some word of its own; else [] (answer the message whole)."""
    parts = [_OPENING.sub("", part.strip())
             for sentence in _SENTENCE_END.split(text.strip()) for part in _JOINER.split(sentence)]
    questions = [part for part in parts if part.endswith("?") or QUESTION_START.match(part)]
    if not 2 <= len(questions) <= MAX_QUESTIONS or not all(asked(q) for q in questions):
        return []
    return questions
