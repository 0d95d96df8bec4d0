"""Placeholders and keyed fingerprints of personal data: the light half of scrubbing, no NLP.

A conversation numbers what it masks (`Placeholders`); emails and phone numbers also get a
fingerprint under the long-lived subject key, so a data-subject request can find them without
storing either. Kept apart from app/privacy/scrubber.py (Presidio, spaCy) so that the console, the
handoff desk and the server's master process can use them without loading a language model.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

import phonenumbers


def e164(value: str, region: str = "US") -> str | None:
    """Return the phone number in E.164 form (read in `region` without a country code), or None if
    phonenumbers cannot take it for a possible number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(entity_type: str, value: str, region: str = "US") -> str:
    """Return the canonical form of a detected value, so spelling variants share a fingerprint.

    A phone number without a country code is read as a number of `region` (QUIETDESK_PHONE_REGION).
    """
    if entity_type == "EMAIL_ADDRESS":
        return value.strip().lower().replace("%40", "@")
    if entity_type == "PHONE_NUMBER":
        return e164(value, region) or re.sub(r"\D", "", value)
    return " ".join(value.split()).lower()


def fingerprint(key: bytes, entity_type: str, value: str, region: str = "US") -> str:
    """Return the keyed HMAC-SHA256 (hex) of "ENTITY_TYPE:normalised value"."""
    message = f"{entity_type}:{normalise(entity_type, value, region)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Finding:
    """One masked value: where it was in the original text, never what it was.

    `fingerprint` is the subject-key HMAC for emails and phone numbers (what a data-subject request
    looks up) and None for every other type.
    """

    entity_type: str
    start: int
    end: int
    placeholder: str
    fingerprint: str | None


@dataclass
class Placeholders:
    """One conversation's numbering: HMAC (under the conversation's own random key) → placeholder.

    Mutable on purpose: scrub() adds the labels it hands out, and the caller stores them.
    """

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    labels: dict[str, str] = field(default_factory=dict)


PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*_\d+>")  # what scrub() writes: <PERSON_1>, <EMAIL_ADDRESS_2>
NEUTRAL = "something"
_VALUES = rf"{PLACEHOLDER.pattern}(?:\s*(?:(?:,|and|&|from|at|of|in)\s*)?{PLACEHOLDER.pattern})*"
# Who the visitor is and how to reach them. Not an order or account number: "my order number is …" says
# what the message is about.
_FIELD = r"(?:e-?mail(?:\s+address)?|(?:phone|mobile|cell)(?:\s+(?:number|no\.?))?|contact\s+details|address|name)"
# A clause that only hands over masked values: "this is <PERSON_1>", "my email is <EMAIL_ADDRESS_1>",
# "you can reach me at <PHONE_NUMBER_1>", "<PERSON_1> here", with a greeting or "and" before it.
_HANDED_OVER = re.compile(
    r"(?:(?<=[\s,.;:!?])|^)(?:and\s+|also\s+)?(?:(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening))"
    r"\b[\s,!.]*)?(?:(?:this\s+is|i\s+am|i['’]m|im|my\s+name\s+is|my\s+name['’]s|it['’]s|it\s+is)\s+"
    r"|(?:my|our)\s+(?:[a-z]+\s+)?" + _FIELD + r"\s*(?:is|:|-)\s*"
    r"|(?:you\s+can\s+|please\s+)?(?:reach|contact|call|email|e-mail|text|write|message)\s+(?:me|us)\s+"
    r"(?:at|on|via)\s+)" + _VALUES + r"(?:\s+here)?|(?:(?<=[\s,.;:!?])|^)" + _VALUES + r"\s+here\b",
    re.IGNORECASE)


def for_search(text: str) -> str:
    """Return scrubbed text as the articles are searched with it: each placeholder read as "something",
    and a clause that only hands over masked values taken out.

    A placeholder stands for a value nobody may read, not for its type's word: read as "person" it
    pulled "I want 8712 <PERSON_1> bp monitor" towards talking to a person; taken out, it left "Show
    products for" with nothing to hold on to. "something" keeps the sentence whole and says nothing
    (HINT3 Curekart and CLINC150 queries the scrubber changes: 10 of 12 and 32 of 35 still answered
    right, against 9 and 28 with the placeholders as they are, 7 and 35 with them taken out).
    A visitor who says who they are or how to reach them asks nothing by it, and read as "my email is
    something" it pulled the question towards the articles about email: on the sample articles, "my
    lamp blinks red, you can reach me at <EMAIL_ADDRESS_1>" abstained where "my lamp blinks red" is
    answered, and "I forgot my password, this is <PERSON_1>" got the locked-account section. So
    "this is <PERSON_1>", "my phone number is <PHONE_NUMBER_1>", "reach me at …" are left out of the search
    — unless nothing else is said ("Hi, I'm <PERSON_1>" is read as it stands). An order number is not a
    clause to leave out: "my order number is …" says what the message is about.
    """
    kept = _HANDED_OVER.sub(" ", text)
    if kept != text:
        kept = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s{2,}", " ", kept))
        kept = re.sub(r"([,;:])(?:\s*[,;:.])+", r"\1", kept).strip(" ,;:-")
        kept = kept.lstrip(".!? ") if any(c.isalnum() for c in kept) else text  # "Hi, I'm <PERSON_1>" alone
    return PLACEHOLDER.sub(NEUTRAL, kept)


def asks_with_masked_values(text: str) -> bool:
    """Say whether a masked value stays in what a scrubbed message asks — searched as "something" — and not
    only in a clause that says who the visitor is or how to reach them ("this is <PERSON_1>", left out)."""
    return bool(PLACEHOLDER.search(_HANDED_OVER.sub(" ", text)))


def only_placeholders(text: str) -> bool:
    """Say whether nothing but placeholders, spaces and punctuation is left of a scrubbed text."""
    return bool(PLACEHOLDER.search(text)) and not any(c.isalnum() for c in PLACEHOLDER.sub("", text))


def question_to_search(text: str) -> str:
    """Return a scrubbed message as the articles are searched with it (for_search), or "" when it was
    nothing but masked values (a name, an email): it asks nothing, and the answer is to abstain."""
    return "" if only_placeholders(text) else for_search(text)
