"""Properties of the PII scrubber over generated input (hypothesis): it never raises, and generated
emails, Luhn-valid card numbers, IBANs with valid check digits and E.164 phone numbers never survive
it, whatever text surrounds them.

The surrounding text is support words and runs of any script's letters, punctuation and symbols,
but never a digit or "@", so once the placeholders are removed any digit or "@" left in the output
is a leak of the value. Examples are derandomized so CI is reproducible; raise max_examples locally
to search further. Known gaps are strict xfails naming their minimal example, so CI stays green and
a fix shows up as an unexpected pass.
"""
from __future__ import annotations

import re
import string

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=200, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
PLACEHOLDER = re.compile(r"<[A-Z_]+_\d+>")

# Surrounding text: words a support message has and runs of any script's letters and punctuation,
# never a digit or "@".
WORDS = ("please", "thanks", "Thanks", "THANKS", "my", "is", "the", "card", "number", "IBAN", "phone",
         "email", "refund", "order", "call", "me", "at", "on", "or", "ok", "OK", "Hi", "URGENT", "ASAP",
         "Danke", "merci", "gracias", "asap", "x", "ext", "BIC", "today", "Jane", "Müller", "Zoë", "tomorrow")
JUNK = st.text(st.characters(categories=("L", "P", "S"), exclude_characters="@"), min_size=1, max_size=8)
SURROUNDING = st.lists(st.one_of(st.sampled_from(WORDS), JUNK), max_size=6).map(" ".join)
SEPARATORS = st.sampled_from([" ", "  ", "\n", ": ", " (", ", ", " - ", "\t", " is "])
CLOSERS = st.sampled_from(["", ".", ",", ")", "!", "?", ";"])


@st.composite
def embedded(draw, values):
    """Return (text, value): the value between random text, set apart by spaces or punctuation."""
    value = draw(values)
    text = draw(SURROUNDING) + draw(SEPARATORS) + value + draw(CLOSERS) + " " + draw(SURROUNDING)
    return text, value


def leftover(text: str) -> str:
    """Return the scrubbed text without its placeholders."""
    return PLACEHOLDER.sub("", text)


def _check_digit(digits: str) -> str:
    """Return the Luhn check digit that completes `digits`."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return _check_digit(number[:-1]) == number[-1]


# (prefix, length, grouping) of the common card brands: Visa, Mastercard, Amex, Discover.
FOURS = (4, 4, 4, 4)
BRANDS = (("4", 16, FOURS), ("51", 16, FOURS), ("55", 16, FOURS), ("2221", 16, FOURS), ("34", 15, (4, 6, 5)),
          ("37", 15, (4, 6, 5)), ("6011", 16, FOURS))


@st.composite
def card_numbers(draw):
    """A Luhn-valid card number of a common brand, written compact, spaced or dashed."""
    prefix, length, grouping = draw(st.sampled_from(BRANDS))
    size = length - len(prefix) - 1
    body = draw(st.text(string.digits, min_size=size, max_size=size))
    number = prefix + body + _check_digit(prefix + body)
    separator = draw(st.sampled_from(["", " ", "-"]))
    groups, start = [], 0
    for size in grouping:
        groups.append(number[start:start + size])
        start += size
    return separator.join(groups)


# BBAN layouts (n: digit, a: capital letter, c: either) of a few SEPA countries.
BBANS = {"DE": "n" * 18, "GB": "aaaa" + "n" * 14, "FR": "n" * 10 + "c" * 11 + "nn", "NL": "aaaa" + "n" * 10,
         "ES": "n" * 20, "IT": "a" + "n" * 10 + "c" * 12, "BE": "n" * 12, "AT": "n" * 16,
         "CH": "n" * 5 + "c" * 12, "PL": "n" * 24}
ALPHABETS = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}


def iban_check_digits(country: str, bban: str) -> str:
    """Return the two ISO 13616 check digits (mod 97) for this country and BBAN."""
    rearranged = bban + country + "00"
    number = int("".join(str(int(char, 36)) for char in rearranged))
    return f"{98 - number % 97:02d}"


@st.composite
def ibans(draw):
    """An IBAN with valid check digits, written compact or in the printed groups of four."""
    country = draw(st.sampled_from(sorted(BBANS)))
    bban = "".join(draw(st.sampled_from(ALPHABETS[kind])) for kind in BBANS[country])
    iban = country + iban_check_digits(country, bban) + bban
    if draw(st.booleans()):
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "BR", "JP", "AU", "ES", "IT", "NL", "CH", "SE", "MX", "ZA",
                 "PL")
PHONE_TYPES = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
PHONE_FORMATS = (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@st.composite
def phone_numbers(draw):
    """A valid number of one of several regions (its example number, last digits varied), in E.164 or
    INTERNATIONAL form."""
    region, kind = draw(st.sampled_from(PHONE_REGIONS)), draw(st.sampled_from(PHONE_TYPES))
    number = phonenumbers.example_number_for_type(region, kind)
    last = draw(st.text(string.digits, min_size=3, max_size=3))
    varied = phonenumbers.PhoneNumber(country_code=number.country_code,
                                      national_number=int(str(number.national_number)[:-3] + last))
    if not phonenumbers.is_valid_number(varied):
        varied = number
    return phonenumbers.format_number(varied, draw(st.sampled_from(PHONE_FORMATS)))


@st.composite
def email_addresses(draw):
    """A plausible address: a dotted, tagged or dashed local part, one or two domain labels, a real TLD."""
    word = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
    local = draw(word) + draw(st.sampled_from(["", ".", "_", "+", "-"])) + draw(word)
    label = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
    labels = draw(st.lists(label, min_size=1, max_size=2))
    tld = draw(st.sampled_from(["com", "org", "net", "de", "co.uk", "io", "fr", "info", "shop"]))
    address = f"{local}@{'.'.join(labels)}.{tld}"
    return address.upper() if draw(st.integers(0, 9)) == 0 else address


def test_generators_make_what_they_claim():
    assert luhn_valid("4111111111111111") and _check_digit("411111111111111") == "1"
    assert iban_check_digits("GB", "WEST12345698765432") == "82"  # GB82 WEST 1234 5698 7654 32
    assert iban_check_digits("DE", "370400440532013000") == "89"  # DE89 3704 0044 0532 0130 00


@PROPERTY
@given(st.text(st.characters(codec="utf-8"), max_size=400))
@example("\x00\x01\u200b\u202e\ufeff\U0001f600 \u0301\u0301 \ufffd")
def test_never_raises_on_any_unicode(scrubber, text):
    scrubbed = scrubber.scrub(text)
    assert isinstance(scrubbed.text, str)
    assert all(0 <= f.start <= f.end <= len(text) for f in scrubbed.entities)


@pytest.mark.xfail(strict=True, raises=UnicodeEncodeError,
                   reason="scrub('\\ud800') raises UnicodeEncodeError in spaCy's tokenizer: a lone surrogate "
                   "(what JSON's \"\\ud800\" escape decodes to) is a Python str but no UTF-8; the API "
                   "refuses such bodies with 400 (app/api.py), the scrubber itself still raises")
def test_never_raises_on_a_lone_surrogate(scrubber):
    scrubber.scrub("\ud800")


@PROPERTY
@given(embedded(email_addresses()))
def test_emails_never_survive(scrubber, case):
    text, address = case
    out = scrubber.scrub(text).text
    assert address.lower() not in out.lower() and "@" not in leftover(out), (text, out)


@pytest.mark.xfail(strict=True, reason="an email followed by a full stop and a word with no space between "
                   "(\"jane.roe@example.com.Thanks!\") survives whole: the domain then ends in \".Thanks\", "
                   "no real TLD, so the email check rejects it and nothing is masked")
def test_an_email_run_into_the_next_sentence_never_survives(scrubber):
    assert "@" not in leftover(scrubber.scrub("My email is jane.roe@example.com.Thanks!").text)


@PROPERTY
@given(embedded(card_numbers()))
def test_luhn_valid_card_numbers_never_survive(scrubber, case):
    text, number = case
    out = scrubber.scrub(text).text
    assert not re.search(r"\d", leftover(out)), (text, out)


def iban_gap(text: str, iban: str) -> bool:
    """Say whether an IBAN falls into the known gap below (xfail): its length is a multiple of 4 under 28
    and a word of 4 or more letters or digits follows it after a space or a dash."""
    length = len(iban.replace(" ", ""))
    after = text[text.index(iban) + len(iban):]
    return length % 4 == 0 and length < 28 and bool(re.match(r"[ -]?[A-Za-z0-9]{4}", after))


@PROPERTY
@given(embedded(ibans()))
def test_ibans_never_survive(scrubber, case):
    text, iban = case
    assume(not iban_gap(text, iban))
    out = scrubber.scrub(text).text
    assert not re.search(r"\d", leftover(out)), (text, out)


@pytest.mark.xfail(strict=True, reason="an IBAN of 16, 20 or 24 characters (BE, AT, ES…) followed by a word "
                   "survives whole: Presidio's IBAN pattern takes the word into a last group of four "
                   "(\"BE68 5390 0754 7034 plea\"), the checksum fails and nothing is masked")
@pytest.mark.parametrize("text", ["My IBAN is BE68539007547034 please refund",
                                  "My IBAN is BE68 5390 0754 7034 thanks",
                                  "My IBAN is AT611904300234573201 today"])
def test_an_iban_followed_by_a_word_never_survives(scrubber, text):
    assert not re.search(r"\d", leftover(scrubber.scrub(text).text))


@PROPERTY
@given(embedded(phone_numbers()))
def test_international_phone_numbers_never_survive(scrubber, case):
    text, phone = case
    out = scrubber.scrub(text).text
    assert not re.search(r"\d", leftover(out)), (text, out)
