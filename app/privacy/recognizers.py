"""Quietdesk's own Presidio recognizers: addresses, phones, names, dates of birth, credential URLs.

Each recognizer is data (patterns, context words) plus a small class, registered through Presidio's
RecognizerRegistry beside (or instead of) a default one. Patterns use the `regex` module that
Presidio compiles them with; the registry's flags make them case-insensitive, so parts that rely on
capitals say so with `(?-i:...)`. Longer than our usual module on purpose: it is mostly pattern
data, and keeping every recognizer the scrubber adds here sets the registry up from one place.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right

import phonenumbers
import regex
import tldextract
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, NhsRecognizer

from app.privacy import common_words

# Building blocks. CAP is a capitalised word in any script; WORD any word (street names keep
# lower-case particles: "Via Capo le Case 60", "Trg revolucije 12").
CAP = r"(?-i:\p{Lu}[\w'’.-]*)"
CAP2 = r"(?-i:\p{Lu}[\w'’.-]+)"  # two letters at least: "78 X 60" is a size, not a street
WORD = r"(?:[^\W\d_][\w'’.-]*)"
NUM = r"\d{1,6}(?-i:[A-Z])?\b\.?"
# USPS Publication 28 suffixes (common subset) plus UK ones; "St" and "Dr" need a word before them.
SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Boulevard|Blvd|Drive|Dr|Court|Ct|Way|Ways|Place|Pl|"
          r"Terrace|Crescent|Close|Circle|Square|Sq|Parkway|Pkwy|Highway|Hwy|Row|Alley|Bypass|Causeway|"
          r"Creek|Crest|Crossing|Expressway|Extension|Freeway|Gardens?|Grove|Heights|Hills?|Junction|"
          r"Landing|Loop|Mall|Manor|Meadows?|Mews|Parks?|Pass|Path|Pike|Plaza|Point|Ridge|Route|Run|"
          r"Spurs?|Springs?|Station|Summit|Trail|Tunnel|Turnpike|Valley|View|Villas?|Vista|Walk|Wharf|"
          r"Yard|Rise|Quay|Parade|Green|Fort|Forges?|Islands?|Ports?|Shores?|Estates?)\b\.?")
# Street-type words that come first ("Via Galileo Ferraris 91", "ul. Fałata 18", "rue Saint-Charles").
PREFIX = (r"(?-i:Via|Viale|Corso|Piazza|Largo|Rua|R\.?|Avenida|Av\.|Calle|C/|Carrer|Camino|Paseo|Rue|rue|"
          r"Avenue|Boulevard|boulevard|Chemin|Place|Cours|Quai|Impasse|ul\.|al\.|Trg|Travessa|Strada|"
          r"Praça|Alameda|Estrada|Faubourg|Servidão|Quadra)")
# Street-type endings glued to the name ("Zürichstrasse 51", "Birkevej 37", "Hermiankatu 23"), or
# written apart and in lower case ("Rákóczi út 96", "Dronning Åsas vei 192").
MORPH = (r"(?-i:\p{Lu}[\w'-]*(?:strasse|straße|gasse|weg|platz|Platz|allee|damm|ufer|vej|vegen|veien|"
         r"vei|gata|gatan|gate|gade|vägen|väg|stræde|straat|laan|plein|gracht|kade|dreef|singel|tie|"
         r"katu|kuja|polku|utca|út|tér|braut|straeti|stræti|vegur|stígur|hof|vænget|svingen)|"
         r"\p{Lu}[\w'-]*(?:[ ]+\p{Lu}[\w'-]*)?[ ]+(?:út|utca|tér|körút|vei|veien|gate|gata|gatan|vej|"
         r"vegur|straße|strasse|põik|tee|rkp\.))")
HOUSE = r"(?:\d{1,6}[ ]+)?"
# Unambiguous street types, capitalised, for a street named without a house number.
STREET_TYPE = (r"Street|Road|Avenue|Lane|Boulevard|Drive|Courts?|Way|Place|Terrace|Crescent|Close|Squares?|"
               r"Parkway|Highway|Pike|Route|Estates?|Gardens|Grove|Mews|Row|Alley|Walk|Ridge|Trail|Village")
UNIT = r"(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat)[ ]*#?[ ]*\d{1,5}(?-i:[A-Z])?\b"
# Words that end an address rather than continue it ("..., Spain 31708, and 213 Bem rkp. 93").
# Case-insensitive even inside a case-sensitive name pattern: "deb Please use" stops at "Please".
STOP = (r"(?!(?i:i|it|he|she|we|they|you|please|thanks|thank|can|could|would|will|my|the|this|that|"
        r"there|and|but|is|are|was|for|to|from|in|on|at|if|so|also|our|your|or|of|as|by|with|after|"
        r"before|when|then|it's|i'm|i'll|not|all|any|has|had|his|her|its|one|two|how|who|why)\b)")
UK_POSTCODE = r"(?-i:[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2})\b"
PLACE = rf"{STOP}(?!{UK_POSTCODE})(?:{CAP}|\p{{Ll}}{{2,3}}\b)"
# What may follow a street: units, then ", City", "\n City", "Region", "ZIP", up to seven items.
TAIL = (rf"(?:[ ]+{UNIT})*(?:(?:[ ]*,[ ]*|[ ]*\n[ ]*,?[ ]*|[ ]+)"
        rf"(?:{UNIT}|{UK_POSTCODE}|\d{{1,6}}(?:-\d{{3,4}})?\b|\(\p{{Lu}}\w+\)|"
        rf"{PLACE}(?:[ ]+(?:{PLACE}|de|la|del|do|da|di|pri|v|z|y|los|las|kraj)){{0,3}})){{0,7}}")
MILITARY = r"(?:APO|FPO|DPO)[ ]+A[AEP][ ]+\d{5}"
NAMED_AND = rf"(?:{STOP}{CAP}[ ]+and[ ]+)?"  # "Kesira and Zürichstrasse 51": an intersection


def _street(core: str) -> str:
    return rf"\b(?<![:/.]){NAMED_AND}(?:{core}){TAIL}"  # not the "00" of "9:00" or the "1" of "5/1"


ADDRESS_PATTERNS = [
    ("number street suffix",
     _street(rf"{HOUSE}\d{{1,6}}(?-i:[A-Z])?[ ]+(?:{CAP}[ ]+){{0,4}}\b{SUFFIX}"), 0.7),
    ("prefix street number", _street(rf"{HOUSE}{PREFIX}[ ]+{CAP}(?:[ ]+{WORD}){{0,4}}?[ ]+{NUM}"), 0.7),
    ("number prefix street", _street(rf"{HOUSE}\d{{1,6}}[ ]+{PREFIX}[ ]+{WORD}(?:[ ]+{CAP}){{0,3}}"), 0.7),
    ("named street number", _street(rf"{HOUSE}(?:{CAP}[ ]+){{0,2}}{MORPH}[ ]+{NUM}"), 0.7),
    ("house street number", _street(
        rf"{HOUSE}\d{{1,6}}[ ]+(?!(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w*\b){STOP}{CAP2}"
        rf"(?:[ ]+{WORD}){{0,3}}?[ ]+{NUM}"), 0.6),
    ("street number before unit", _street(
        rf"{CAP}(?:[ ]+{WORD}){{0,2}}?[ ]+\d{{1,5}}\b(?=[ ]*(?:,|\n|{UNIT}))"), 0.5),
    # A street named without its number ("lives on Bruce Road"): only with context, like the next one.
    ("street name", rf"\b{STOP}(?:{CAP2}[ ]+){{1,3}}(?-i:{STREET_TYPE})\b\.?", 0.3),
    # Bare "Name 12" is an address only with context ("lives on", "bus station", "address").
    ("street number", rf"\b{STOP}{CAP}(?:[ ]+{STOP}{WORD}){{0,2}}?[ ]+\d{{1,5}}\b\.?", 0.1),
    ("place and postcode", rf"\b{CAP}(?:[ ]+{CAP}){{0,2}}(?:[ ]+\(\p{{Lu}}\w+\))?[ ]+\d{{5}}(?:-\d{{4}})?"
                           rf"(?=[ ]*(?:\n|$))", 0.5),
    ("po box", rf"\b(?:P\.?[ ]?O\.?[ ]?Box|Post[ ]Office[ ]Box|Postbox)[ ]+\d{{1,6}}\b{TAIL}", 0.7),
    ("military box", rf"\b(?:PSC|Unit|CMR)[ ]+\d{{3,5}},?[ ]+Box[ ]+\d{{3,5}}(?:\s+{MILITARY})?", 0.8),
    ("military ship", rf"\b(?:USNS|USNV|USS|USCGC)[ ]+{CAP}(?:[ ]+{CAP})?(?:\s+{MILITARY})?", 0.8),
    ("military post", rf"\b{MILITARY}\b", 0.7),
    ("unit", rf"\b{UNIT}", 0.6),
    ("intersection", rf"\b(?:the[ ]+)?corner[ ]+of[ ]+[\w.'’/-]+(?:[ ]+[\w.'’/-]+){{0,6}}?[ ]+and[ ]+"
                     rf"[\w.'’-]+(?:[ ]+{CAP}){{0,3}}", 0.8),
]
ADDRESS_CONTEXT = ["address", "street", "live", "living", "located", "ship", "shipping", "deliver",
                   "delivery", "move", "billing", "mailing", "postal", "station", "apartment", "house",
                   "home", "side", "road", "avenue"]


def capitalised(text: str) -> str:
    """Capitalise each word of a text whose case says nothing — all lower case, or all capitals ("MY NAME
    IS JOHN SMITH") — so capital-led patterns apply; same length. Other text comes back as it is."""
    if any(c.isupper() for c in text) and any(c.islower() for c in text):
        return text
    if any(c.isupper() for c in text):
        lowered = text.lower()
        if len(lowered) != len(text):
            return text
        text = lowered
    return regex.sub(r"\b\p{Ll}", lambda m: m[0].upper() if len(m[0].upper()) == 1 else m[0], text)


class CaseBlindRecognizer(PatternRecognizer):
    """A pattern recognizer that also reads all-lower-case text, as people often type it."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        """Match on the text, capitalised first if it has no capitals at all."""
        return super().analyze(capitalised(text), entities, nlp_artifacts, regex_flags)


# In text without capitals (or all in capitals) every word looks like a name once capitalised ("what is
# 300 Divided By 42"), so there the shapes not anchored by a street word (a suffix, a prefix, a glued
# ending, a box, a unit) count only beside an address word ("located at 389 167 king alexander").
NUMBER_ONLY_SHAPES = ("house street number", "street number before unit", "street number", "place and postcode")
CONTEXT_ONLY = 0.1


class StreetAddressRecognizer(CaseBlindRecognizer):
    """Find street addresses, PO boxes and military mail; one result per line of a block.

    Two instances: one reads text in mixed case, the other text whose case says nothing — no capitals,
    or nothing but capitals (see capitalised; shapes not anchored by a street word need an address word
    nearby) — so neither changes its patterns while another thread reads.
    """

    def __init__(self, lower_case: bool = False) -> None:
        shapes = [Pattern(n, r, CONTEXT_ONLY if lower_case and n in NUMBER_ONLY_SHAPES else s)
                  for n, r, s in ADDRESS_PATTERNS]
        super().__init__("STREET_ADDRESS", context=ADDRESS_CONTEXT, patterns=shapes,
                         name="LowerCaseStreetAddressRecognizer" if lower_case else "StreetAddressRecognizer")
        self.lower_case = lower_case

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        """Match as Presidio does, then split each match at line breaks so lines stay lines."""
        if (capitalised(text) != text) != self.lower_case:  # the other instance reads this text
            return []
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [piece for result in results for piece in split_lines(text, result)]


def split_lines(text: str, result: RecognizerResult) -> list[RecognizerResult]:
    """Cut a result at newlines, trimming spaces and stray commas from each piece."""
    pieces, start = [], result.start
    for end in [i for i in range(result.start, result.end) if text[i] == "\n"] + [result.end]:
        chunk = text[start:end]
        left = start + len(chunk) - len(chunk.lstrip(" \t,"))
        right = start + len(chunk.rstrip(" \t,"))
        if right > left:
            pieces.append(RecognizerResult(result.entity_type, left, right, result.score,
                                           result.analysis_explanation, result.recognition_metadata))
        start = end + 1
    return pieces


DATE_SHAPE = regex.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
PHONE_PATTERNS = [
    ("international", r"(?<![\w+.-])(?:\+|00(?=[1-9]))\d{1,3}(?:[ .-]?\(0\))?(?:[ .-]?\(?\d{1,5}\)?){2,6}"
                      r"(?![\w-])", 0.6),
    ("north american", r"(?<![\w+.-])(?:\(\d{3}\)[ ]?|\d{3}[.-])\d{3}[.-]\d{4}"
                       r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w-])", 0.6),
    ("grouped digits", r"(?<![\w+.-])\(?\d{2,6}\)?(?:[ .-]\d{2,8}){1,4}(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?"
                       r"(?![\w-])", 0.3),
    ("bare digits", r"(?<![\w+.-])(?:\(\d{3,5}\)[ ]?)?\d{6,12}(?![\w-])", 0.2),
    ("bare international", r"(?<![\w+.-])00[1-9]\d{7,13}(?![\w-])", 0.4),
]
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IT", "ES", "NL", "IE", "CA", "AU", "IN", "BR")
VALID_PHONE_SCORE = 0.5


def _valid_phone(candidate: str) -> bool:
    """Say whether phonenumbers accepts the candidate as a valid number in one of PHONE_REGIONS."""
    for region in PHONE_REGIONS:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


PHONE_CONTEXT = ["phone", "telephone", "tel", "call", "cell", "mobile", "fax", "office", "landline",
                 "whatsapp", "text", "sms", "contact", "reach", "ring", "number"]


class LoosePhoneRecognizer(PatternRecognizer):
    """Find phone numbers in any country's grouping that phonenumbers' strict parse misses."""

    def __init__(self) -> None:
        super().__init__("PHONE_NUMBER", name="LoosePhoneRecognizer", context=PHONE_CONTEXT,
                         patterns=[Pattern(n, r, s) for n, r, s in PHONE_PATTERNS])

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        """Match loosely, then trust weak grouped matches that are valid numbers of a usual region."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            candidate = text[result.start:result.end]
            if result.score < VALID_PHONE_SCORE and not candidate.isdigit() and _valid_phone(candidate):
                result.score = VALID_PHONE_SCORE
        return results

    def invalidate_result(self, pattern_text: str) -> bool:
        """Reject too few or too many digits, ISO dates ("2001-09-05") and the US SSN shape."""
        digits = sum(c.isdigit() for c in pattern_text.split("x")[0])
        return (not 7 <= digits <= 15 or bool(DATE_SHAPE.fullmatch(pattern_text))
                or bool(SSN_SHAPE.fullmatch(pattern_text)))


# 3-2-4 digits with one separator is how a US social security number is written and no numbering
# plan writes a phone number; an SSN taken for a phone would get a long-lived subject key.
SSN_SHAPE = regex.compile(r"\d{3}([- .])\d{2}\1\d{4}")


class SsnShapeRecognizer(PatternRecognizer):
    """Find SSNs in the dashed 3-2-4 shape, the well-known sample numbers included.

    Presidio's own recognizer drops 078-05-1120 and 123-45-6789 as test data; typed in a chat they
    are someone's answer to "what is your SSN?" and must be masked all the same.
    """

    def __init__(self) -> None:
        super().__init__("US_SSN", name="SsnShapeRecognizer", context=["ssn", "social", "security"],
                         patterns=[Pattern("ssn dashed", r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])", 0.5)])

    def invalidate_result(self, pattern_text: str) -> bool:
        """Reject numbers never issued: area 000, 666 or 9xx, group 00, serial 0000."""
        area, group, serial = pattern_text.split("-")
        return area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000"


NHS_CUE = regex.compile(r"\b(?:nhs|health)\b", regex.IGNORECASE)


class NhsNumberRecognizer(NhsRecognizer):
    """Presidio's NHS number check (mod 11), trusted only where the text speaks of the NHS or health.

    One ten-digit number in eleven passes the check by chance: "call me at 555-201-3344" is a US
    phone, and the phone recognizer masks it as one.
    """

    def __init__(self) -> None:
        super().__init__(name="NhsNumberRecognizer")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        """Match only in a text that mentions the NHS or health."""
        if not NHS_CUE.search(text):
            return []
        return super().analyze(text, entities, nlp_artifacts, regex_flags)


# Any 12 to 19 digits, plain or in groups of four (Maestro, JCB, 19-digit Visa and 2-series
# Mastercard are outside Presidio's pattern); the Luhn check still decides.
CARD_PATTERNS = CreditCardRecognizer.PATTERNS + [
    Pattern("card digits", r"\b(?:\d{12,19}|\d{4}(?:[- ]\d{4}){2}[- ]\d{1,7})\b", 0.3),
]

MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
         r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
DATE = (rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|"
        rf"\d{{1,2}}(?:st|nd|rd|th)?[ ]+(?:of[ ]+)?{MONTH},?[ ]+\d{{4}}|"
        rf"{MONTH}[ ]+\d{{1,2}}(?:st|nd|rd|th)?,?[ ]+\d{{4}})")
# A date counts as a date of birth only when a birth cue comes just before it.
DOB_PATTERN = (rf"(?<=\b(?:born|birth|birthdate|birthday|date[ ]of[ ]birth|d\.?o\.?b)\b[^\n?!]{{0,14}}?)"
               rf"\b{DATE}\b")

NAME_WORD = r"\p{Lu}\p{Ll}+(?:['’-]\p{Lu}?\p{Ll}{2,})*"  # "O'Neil", "Jean-Luc", not "Monica's"
NAME = rf"(?-i:{NAME_WORD}(?:[ ]+{STOP}(?:{NAME_WORD}|[A-Z]\.?(?=[ ]+\p{{Lu}}))){{0,3}})"
# Cues strong enough to trust even in all-lower-case text ("my name is jane roe")...
NAME_CUE = (r"(?:name[ ]is|name's|name:|(?:first|last|full|sur)?[ ]?name\?|call[ ]me|calls[ ]me|named"
            r"(?:[ ]him|[ ]her)?|mr\.?|mrs\.?|ms\.?|miss|mx\.?|dr\.?|prof\.?)")
# ...and cues that only point at a name the writer capitalised ("Hi Jane", "I'm Tom", "ask for Ann").
# "my son" is here, not above: in lower-case text a verb follows it as often as a name ("my son dropped it").
GREETING_CUE = (r"(?:i[ ]am|i'm|this[ ]is|speak[ ](?:to|with)|talk[ ]to|ask[ ]for|dear|hi|hello|hey|"
                r"thanks|regards|sincerely|cheers|says|said|asked|told|tell|thank|my[ ](?:wife|husband|son|"
                r"daughter|kid|child|mother|father|mum|mom|dad|brother|sister|partner|friend|boss|manager))")
# The reply to a question about a name ("What's the name on the account? User: Jane Roe").
NAME_ANSWER = r"name\b[^?\n]{0,40}\?[ ]*(?:\n[ ]*)?(?:\w{1,10}:)?"
KIN = (r"(?:kid|kids|son|daughter|wife|husband|mother|father|mum|mom|dad|brother|sister|partner|boyfriend|"
       r"girlfriend|family|child|children|baby|parents)")
RELATIVE_OF = rf"(?-i:{NAME_WORD})(?='s[ ]+{KIN}\b)"  # "Priya's husband"
NOT_A_NAME = (r"(?!(?i:team|support|there|all|everyone|guys|folks|sir|madam|again|sorry|great|fine|good|"
              r"ok|okay|unable|happy|glad|interested|looking|trying|having|new|back|here|just)\b)")


def _name_pattern(cue: str) -> str:
    return rf"(?<=\b{cue}(?:[ ]+|,[ ]*|:[ ]*|[ ]*\n[ ]*)){STOP}{NOT_A_NAME}{NAME}"


# A name said to someone at the start of a sentence ("Eliza, can I please speak to your boss?").
PARTICLE = "van|von|de|der|den|da|di|du|del|la|le"
VOCATIVE = (rf"(?<=(?:^|[.!?\n][ ]*)){NOT_A_NAME}(?-i:{NAME_WORD})(?=,[ ]*(?i:can|could|would|will|please|"
            rf"i|we|do|did|are|is|thanks|thank|have|how|what|when|where|why)\b)")
# A signature or address block (three lines or more) opens with a name alone on its first line.
NAME_LINE = (rf"(?<=(?:^|\n)[ \t]*(?:[^\w\s]{{1,3}}[ \t]+)?)(?:(?:Mr|Mrs|Ms|Dr|Prof)\.?[ ]+)?"
             rf"(?-i:{NAME_WORD}(?:[ ]+(?:[A-Z]\.?|{NAME_WORD}|(?:{PARTICLE}))){{1,3}})"
             rf"(?=[ \t]*\n[^\n]+\n)")


def credential_url_recognizer() -> PatternRecognizer:
    """Find URLs that carry a user name and password (scheme://user:secret@host/...)."""
    return PatternRecognizer("CREDENTIAL_URL", name="CredentialUrlRecognizer", patterns=[Pattern(
        "url with credentials", r"\b[a-z][a-z0-9+.-]{1,15}://[^\s:/@]+:[^\s/@]+@[^\s\"'<>]+", 0.95)])


# An address inside a URL path or query ("/orders/jane@example.com", "?user=jane%40example.com"):
# Presidio's email pattern lets the local part run over "/", "=" and "?", then its domain check
# rejects the whole run, so the address was kept. Here the local part stops at URL delimiters.
EMAIL_LOCAL = r"[a-z0-9!#$'*+^_`{|}~-]+(?:\.[a-z0-9!#$'*+^_`{|}~-]+)*"
EMAIL_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\b"
EMBEDDED_EMAIL = rf"(?<![a-z0-9!#$'*+^_`{{|}}~.-]){EMAIL_LOCAL}(?:@|%40){EMAIL_DOMAIN}"


class EmbeddedEmailRecognizer(PatternRecognizer):
    """Find email addresses glued into URLs and other text, URL-encoded "@" (%40) included."""

    def __init__(self) -> None:
        super().__init__("EMAIL_ADDRESS", name="EmbeddedEmailRecognizer",
                         patterns=[Pattern("email inside a url or text", EMBEDDED_EMAIL, 0.9)])

    def validate_result(self, pattern_text: str) -> bool:
        domain = regex.split(r"@|%40", pattern_text, flags=regex.IGNORECASE)[-1]
        return tldextract.extract(domain).suffix != ""


def date_of_birth_recognizer() -> PatternRecognizer:
    """Find dates written right after "born", "date of birth", "DOB" and the like."""
    return PatternRecognizer("DATE_OF_BIRTH", name="DateOfBirthRecognizer",
                             patterns=[Pattern("date after a birth cue", DOB_PATTERN, 0.85)])


def name_cue_recognizers() -> list[PatternRecognizer]:
    """Find capitalised names after cues such as "my name is", "Mrs.", "my son" or "Hi"."""
    return [CaseBlindRecognizer("PERSON", name="NameCueRecognizer",
                                patterns=[Pattern("name after a cue", _name_pattern(NAME_CUE), 0.9)]),
            CaseBlindRecognizer("PERSON", name="NameAnswerRecognizer", patterns=[
                Pattern("answer to a name question", _name_pattern(NAME_ANSWER) + r"(?![\w:])", 0.7)]),
            PatternRecognizer("PERSON", name="GreetingNameRecognizer",
                              patterns=[Pattern("name after a greeting", _name_pattern(GREETING_CUE), 0.6),
                                        Pattern("name of someone's relative", RELATIVE_OF, 0.6),
                                        Pattern("name addressed", VOCATIVE, 0.6),
                                        Pattern("name heading a block", NAME_LINE, 0.6)]),
            EmailNameRecognizer()]


EMAIL_IN_TEXT = regex.compile(rf"\b({EMAIL_LOCAL})@{EMAIL_DOMAIN}", regex.IGNORECASE)


class EmailNameRecognizer(EntityRecognizer):
    """Find a name written next to the visitor's own email, in any case ("jane roe, jane.roe@x.com").

    The address's local part spells the name; a word of the text equal to a piece of it (three
    letters or more) is that person's name.
    """

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="EmailNameRecognizer")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        """Return PERSON results for words that spell a piece of an email's local part."""
        emails = list(EMAIL_IN_TEXT.finditer(text))
        pieces = {p.lower() for m in emails for p in regex.split(r"[\W\d_]+", m[1]) if len(p) >= 3}
        inside = [(m.start(), m.end()) for m in emails]
        return [RecognizerResult("PERSON", w.start(), w.end(), 0.6)
                for w in regex.finditer(r"\b\p{L}+\b", text)
                if w[0].lower() in pieces and not any(a <= w.start() < b for a, b in inside)]


NOT_NAMES = {"street", "st", "road", "avenue", "inc", "inc.", "ltd", "ltd.", "llc", "plc", "corp", "co",
             "bank", "card", "account", "bot", "user", "customer", "support", "team", "apt", "suite",
             "my", "the"}


class ProperNameRecognizer(EntityRecognizer):
    """Find names spaCy's small model leaves out, from the tags it already made (no second pass).

    Runs of two or more capitalised proper nouns on one line become PERSON ("under Eva Kleist"), a
    PERSON entity grows over the proper nouns beside it, and capitalised proper nouns listed with a
    PERSON ("Fry, Howard and Walker") are people too. A run may end in a one-word place after a given
    name ("Ana Lima": spaCy's city), never begin with one.
    """

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="ProperNameRecognizer")

    def load(self) -> None:
        """Nothing to load: the spaCy doc arrives with each call."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        """Return PERSON results for proper-noun runs and list siblings of PERSON entities."""
        if nlp_artifacts is None or not nlp_artifacts.tokens:
            return []
        doc = nlp_artifacts.tokens
        spans = _propn_runs(doc) + _list_siblings(doc)
        return [RecognizerResult("PERSON", start, end, 0.6) for start, end in spans]


PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "du", "del", "la", "le", "bin", "al"}


def _is_name_token(token) -> bool:
    text = token.text
    return (token.tag_ in ("NNP", "NNPS") and text[:1].isupper() and text.lower() not in NOT_NAMES
            and token.ent_type_ in ("", "PERSON") and not any(c.isdigit() for c in text))


def name_run_possible(doc) -> bool:
    """Say whether _propn_runs could find a run here whatever the tags: two capitalised tokens joined by
    single spaces, with only name particles between them."""
    previous = None  # the last capitalised token still joined to the current one
    for token in doc:
        if previous is not None and doc[token.i - 1].whitespace_ != " ":
            previous = None
        if token.text[:1].isupper():
            if previous is not None:
                return True
            previous = token
        elif token.lower_ not in PARTICLES:
            previous = None
    return False


def _place_surname(token, current: list) -> bool:
    """A one-word place right after a given name is a surname: "Ana Lima", "Tom Paris". spaCy tags the
    second word a city, the scrubber keeps a city named alone, and the name leaked whole. The word before
    must be no ordinary word ("Match Taipei" is a match)."""
    return (any(_is_name_token(t) and not t.ent_type_ and not common_words.is_common_word(t.text)
                for t in current)
            and token.ent_type_ in ("GPE", "LOC") and _whole_entity(token) and token.tag_ in ("NNP", "NNPS")
            and token.text.istitle() and token.text.lower() not in NOT_NAMES)


def _propn_runs(doc) -> list[tuple[int, int]]:
    """Return (start, end) of name-token runs joined by single spaces ("Ancilla van Aken")."""
    runs, current, named = [], [], set()
    for token in doc:
        joins = not current or current[-1].whitespace_ == " "
        if joins and _place_surname(token, current):
            named.add(token.i)
        if joins and (_is_name_token(token) or token.i in named or (current and token.lower_ in PARTICLES)):
            current.append(token)
            continue
        runs.append(current)
        current = [token] if _is_name_token(token) else []
    runs.append(current)
    runs = [r[:max(i for i, t in enumerate(r) if _is_name_token(t) or t.i in named) + 1] for r in runs if r]
    return [(r[0].idx, r[-1].idx + len(r[-1])) for r in runs
            if len(r) >= 2 or any(t.ent_type_ == "PERSON" for t in r)]


def _is_listed_name(token) -> bool:
    """A proper noun listed with people is one of them, whatever place or company spaCy took it for."""
    if token.ent_type_ in ("ORG", "GPE", "LOC", "NORP", "FAC"):
        return token.text.istitle() and _whole_entity(token)
    return (token.tag_ in ("NNP", "NNPS") and token.text[:1].isupper() and token.text.lower() not in NOT_NAMES
            and not token.ent_type_ and not any(c.isdigit() for c in token.text))


def _whole_entity(token) -> bool:
    """Say whether the token is a whole entity ("Selina"), not a piece of one ("Hong" of "Hong Kong")."""
    after = token.doc[token.i + 1] if token.i + 1 < len(token.doc) else None
    return token.ent_iob_ == "B" and (after is None or after.ent_iob_ != "I")


def _list_siblings(doc) -> list[tuple[int, int]]:
    """Return proper nouns listed with a PERSON, or with such a sibling, by ", " or " and "."""
    edges = [(e.start - 1, -1) for e in doc.ents if e.label_ == "PERSON"]
    edges += [(e.end, 1) for e in doc.ents if e.label_ == "PERSON"]
    found: set[int] = set()
    while edges:
        i, step = edges.pop()
        start = i
        while 0 <= i < len(doc) and doc[i].text in (",", "and", "&", "or"):
            i += step
        if i != start and 0 <= i < len(doc) and i not in found and _is_listed_name(doc[i]):
            found.add(i)
            edges.append((i + step, step))
    return [(doc[i].idx, doc[i].idx + len(doc[i])) for i in sorted(found)]


class WindowContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's context enhancer, reading the tokens right around the whole match, stop words too.

    The stock one skips spaCy stop words ("call", "name" and "last" are among them) and counts the
    match's own tokens against its window, so "call me on 735 224 387" found no context and neither
    did "967 29 104 office". Whole-word matching keeps "ring" out of "during".
    """

    def __init__(self, before: int = 6, after: int = 3) -> None:
        super().__init__(context_prefix_count=before, context_suffix_count=after,
                         context_matching_mode="whole_word")

    def _extract_surrounding_words(self, nlp_artifacts, word: str, start: int) -> list[str]:
        doc, indices = nlp_artifacts.tokens, nlp_artifacts.tokens_indices
        if not doc:
            return []
        first = bisect_right(indices, start - 1)
        last = bisect_left(indices, start + len(word))
        window = list(doc[max(0, first - self.context_prefix_count):first])
        window += list(doc[last:last + self.context_suffix_count])
        return [stem for token in window for stem in _stems(token.lower_)]


def _stems(word: str) -> list[str]:
    """Return the word and its crude stems ("lives" → "live", "called" → "call"); no lemmatizer runs."""
    return [word] + [word[:-len(end)] for end in ("s", "es", "ed", "ing") if word.endswith(end)
                     and len(word) - len(end) >= 3]


def custom_recognizers() -> list[EntityRecognizer]:
    """Return a fresh instance of every Quietdesk recognizer."""
    return [StreetAddressRecognizer(), StreetAddressRecognizer(lower_case=True), LoosePhoneRecognizer(),
            ProperNameRecognizer(), *name_cue_recognizers(), date_of_birth_recognizer(), credential_url_recognizer(), EmbeddedEmailRecognizer(),
            CreditCardRecognizer(patterns=CARD_PATTERNS), SsnShapeRecognizer(), NhsNumberRecognizer()]


# Context words Presidio's own recognizers lack ("DL", British "licence"); whole words are matched.
EXTRA_CONTEXT = {"UsLicenseRecognizer": ["dl", "license", "licence", "driver", "driving"],
                 "UsSsnRecognizer": ["ssn", "social", "security"],
                 "IpRecognizer": ["ip", "address", "server", "host"]}


def extend_context(recognizer: EntityRecognizer) -> None:
    """Add EXTRA_CONTEXT words to one of Presidio's default recognizers, in place."""
    extra = EXTRA_CONTEXT.get(recognizer.name, [])
    recognizer.context = list(dict.fromkeys([*(recognizer.context or []), *extra]))


# Default recognizers that ours replace: cards (extended above), dates (only a date of birth is
# personal; order numbers were tagged as dates), plain links (kept so answers can cite them), NHS
# numbers (NhsNumberRecognizer wants an NHS cue) and phones (LoosePhoneRecognizer asks phonenumbers
# only about candidates; Presidio's matcher was the slowest recognizer and missed most non-US groupings).
REPLACED = ("CreditCardRecognizer", "DateRecognizer", "UrlRecognizer", "PhoneRecognizer", "NhsRecognizer")


def operator_recognizer(entity: str, pattern: str) -> PatternRecognizer:
    """Turn one operator-configured NAME → regular expression into a recognizer."""
    return PatternRecognizer(entity.upper(), name=f"Operator{entity.title()}Recognizer",
                             patterns=[Pattern(entity, pattern, 1.0)])
