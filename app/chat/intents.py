"""Recognise a visitor asking for a person ("talk to a human", "agent please", "mit einem Menschen
sprechen") so the chat starts a handoff instead of searching the help articles for it.

Pure engine: text in, bool out. A request needs a word for a person together with a verb of
talking, or a short message that is little more than the person word ("agent", "human please"),
so questions that merely mention people ("how do I add a person to my account?") are not taken.
"""
from __future__ import annotations

import re

_PERSON = (r"(?:human|humans|person|someone|somebody|agent|representative|rep|operator|staff|employee|"
           r"team\s+member|real\s+person|live\s+(?:agent|person|support|chat)|customer\s+service|support\s+team|"
           r"mensch|menschen|mitarbeiter(?:in)?|person|jemand(?:em|en)?|berater(?:in)?|kundenservice|kundendienst|"
           r"personne|quelqu'un|conseiller|agent)")
_TALK = (r"(?:talk|speak|chat|connect|transfer|put\s+me\s+through|get\s+me|need|want|reach|contact|"
         r"sprechen|reden|verbinden|chatten|erreichen|parler|contacter)")
_REQUEST = re.compile(rf"\b{_TALK}\b.{{0,40}}\b{_PERSON}\b|\b{_PERSON}\b.{{0,40}}\b{_TALK}\b", re.I | re.S)
# "agent", "a human please", "Mensch bitte", "real person!" — nothing else in the message.
_BARE = re.compile(rf"^\W*(?:an?\s+|einen?\s+|ein\s+)?{_PERSON}(?:\s+(?:please|pls|now|bitte|s'il vous plaît))?\W*$",
                   re.I)
# "Are you a human?" asks about the bot; "how do I add a person…" is about the product.
_NOT_A_REQUEST = re.compile(r"\b(?:are|r)\s+(?:you|u)\s+(?:a\s+)?(?:human|person|real|bot)\b|"
                            r"\b(?:add|invite|remove|share\s+with|assign)\b", re.I)


def wants_human(text: str) -> bool:
    """Say whether the message asks to talk to a person rather than asking a question."""
    text = " ".join(text.split())
    if len(text) > 160 or _NOT_A_REQUEST.search(text):
        return False
    return bool(_BARE.match(text) or _REQUEST.search(text))
