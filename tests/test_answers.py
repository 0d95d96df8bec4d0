"""Answers keep the steps (whole sections, structured blocks, links to the section) and read a turn in
its context (follow-ups, names, the last article); the regression set on the sample articles holds."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.chat.answer import DONT_KNOW, SEE_ALSO, compose, section_answer
from app.chat.pipeline import Pipeline
from app.db import connect
from app.retrieval import index as index_store
from app.retrieval.articles import Chunk, parse_article
from app.retrieval.context import Signals, TurnContext, article_number, leans_on_before, names_of
from app.retrieval.live import LiveIndex
from app.retrieval.markdown import Block, Span, parse, plain, text_of
from app.retrieval.search import Hit, Passage, Weights, ranked_passages
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
STEPS = ("---\ntitle: Descaling the kettle\nurl: https://help.example/kettle\n---\n"
         "## Descaling step by step\n" + "Limescale builds up in hard-water areas and slows the kettle down. " * 6 +
         "\n\nTo descale it:\n\n1. Fill the kettle halfway with water and vinegar.\n2. Boil it twice.\n"
         "3. Rinse it **three times** with clean water.\n\n"
         "The warranty does not cover damage from scale; see [our warranty](https://help.example/warranty) page.\n"
         "## Cleaning the outside\nWipe the outside with a damp cloth.\n")


@pytest.fixture(scope="module")
def pipeline(scrubber, embedder, kb_index):
    return Pipeline(scrubber, embedder, LiveIndex(kb_index), 0.45)


def test_markdown_becomes_blocks_with_emphasis_and_safe_links_only():
    blocks = parse("Tap **+ Add device** and read [the guide](https://x.example/g) or [this](ftp://x/y).\n\n"
                   "- one\n- two *now*\n\n1. first\n2. second\n")
    assert [b.type for b in blocks] == ["paragraph", "list", "list"]
    assert Span("+ Add device", strong=True) in blocks[0].spans
    assert [s.href for s in blocks[0].spans if s.href] == ["https://x.example/g"]  # ftp stays plain text
    assert blocks[1].ordered is False and blocks[2].ordered is True
    assert plain(blocks).endswith("- one\n- two now\n\n1. first\n2. second")
    assert plain(blocks).startswith("Tap + Add device and read the guide (https://x.example/g) or this.\n\n")


def test_link_addresses_do_not_count_towards_what_fits_in_the_widget():
    """The widget shows a link's text, not its address: a section of 600 visible characters with three
    long links is still answered whole, and the plain text gives each address after its link."""
    link = "https://help.example/a/very/long/path/" + "x" * 120
    section = "Intro sentence. " * 30 + f"See [the guide]({link}), [the FAQ]({link}) or [the video]({link})."
    chunk = Chunk("a", "A", "https://help.example/a", "Setup", section, "passage", section, "setup")
    text, blocks = section_answer(Passage(chunk, 0.9, ((section, 0.9),)), "https://help.example/a#setup")
    assert len(plain(blocks, addresses=False)) <= 700 < len(text)
    assert [b.type for b in blocks] == ["paragraph"] and "Read more" not in text  # whole, no cut
    assert text.endswith(f"the guide ({link}), the FAQ ({link}) or the video ({link}).")


def test_a_short_section_is_answered_whole_with_its_steps_and_its_anchor(pipeline):
    answer = pipeline.answer("how do I pair the lamp with the app")
    assert answer.section == "Pairing a new lamp"
    assert answer.sources[0].url == "https://help.lumenlamps.example/articles/app-setup#pairing-a-new-lamp"
    for step in ("Install the Lumen app", "+ Add device", "select it in the list", "Enter your Wi-Fi password"):
        assert step in answer.text
    steps = answer.blocks[0]
    assert steps.type == "list" and steps.ordered and len(steps.items) == 5  # the numbered steps, all of them
    assert Span("+ Add device", strong=True) in steps.items[1]
    assert "steady white" in answer.text  # and the paragraph after them


def test_list_items_stay_items(pipeline):
    answer = pipeline.answer("how much is express shipping and how long does it take")
    assert answer.section == "Delivery options and times"
    assert answer.blocks[0].type == "list" and len(answer.blocks[0].items) == 2
    assert "- Express shipping: 1–2 business days, $12.95 on any order." in answer.text.splitlines()


def test_a_long_section_gives_its_relevant_part_whole_steps_and_a_link(embedder):
    index = index_store.build([parse_article("kettle", STEPS)], embedder, 900)
    query = embedder.encode(["how do I descale the kettle with vinegar"])[0]
    passage = ranked_passages(index, query, "kettle", "how do I descale the kettle with vinegar")[0][1]
    answer = compose([Hit("kettle", "Descaling the kettle", "https://help.example/kettle", 0.9)], passage, 0.45, 300)
    numbered = [b for b in answer.blocks if b.type == "list"]
    assert numbered and numbered[0].ordered and len(numbered[0].items) == 3  # the steps, all of them
    assert "Limescale builds up" not in answer.text  # the filler is cut
    link = answer.blocks[-1].spans[-1]
    assert link.href == "https://help.example/kettle#descaling-step-by-step" and link.text == "Descaling step by step"
    assert answer.sources[0].url == "https://help.example/kettle#descaling-step-by-step"


INN = ("---\ntitle: Harbour Inn\nurl: https://stay.example/harbour-inn\n---\n"
       "## Parking\nGuests can park in the garage beside the inn for 12 GBP a night.\n"
       "## Guest review 1 (couples)\nWe loved our stay. The room was spacious, the bed was comfortable and "
       "breakfast was generous.\n"
       "## Guest review 2 (families)\nThe staff were kind to our children. We looked out over the "
       "harbour, and the view at sunset was wonderful.\n"
       "## Guest review 3 (business travelers)\nThe wifi was fast enough for video calls and the desk in "
       "my room was good for working.\n"
       "## Guest review 4 (solo travelers)\nA lovely bright room with a big window; it was quiet and very "
       "clean.\n")


@pytest.fixture(scope="module")
def inn(embedder):
    return index_store.build([parse_article("harbour-inn", INN)], embedder, 900)


@pytest.mark.parametrize("question, section", [
    ("how is the view from the rooms?", "Guest review 2 (families)"),  # not the bright room's review
    ("is the view nice from the rooms", "Guest review 2 (families)"),
    ("is the wifi fast enough to work?", "Guest review 3 (business travelers)"),
    ("Is the breakfast any good?", "Guest review 1 (couples)"),
])
def test_the_section_that_uses_the_questions_rarer_words_answers(inn, embedder, question, section):
    """Look-alike passages (guest reviews): the one mentioning what is asked about ("view") wins
    over one that is merely close in meaning ("a lovely bright room with a big window")."""
    passage = ranked_passages(inn, embedder.encode([question])[0], "harbour-inn", question)[0][1]
    assert passage.chunk.heading == section


LODGE = ("---\ntitle: Millbrook Lodge\nurl: https://stay.example/millbrook-lodge\n---\n"
         "## Parking\nThere is free parking for guests behind the lodge.\n"
         "## Pets\nDogs are welcome in the ground-floor rooms for 10 GBP a night.\n"
         "## Dining\nMillbrook Lodge does not serve halal food.\n"
         "## Portions\nGuests say the plates are generous and nobody leaves hungry.\n")


GIFT_CARDS = ("---\ntitle: Gift cards\nurl: https://stay.example/gift-cards\nquestions:\n"
              "  - Do you sell gift cards?\n---\n## Buying one\nDigital vouchers from 10 to 500 GBP never expire.\n")


@pytest.fixture(scope="module")
def stays(embedder):
    """Two places to stay, each known by its name (neither article gives an address or a phone number),
    and an article whose title names its topic."""
    articles = [parse_article("harbour-inn", INN), parse_article("millbrook-lodge", LODGE),
                parse_article("gift-cards", GIFT_CARDS)]
    return LiveIndex(index_store.build(articles, embedder, 900))


@pytest.mark.parametrize("previous, question, answered", [
    ((), "Does the Harbour Inn have parking?", "Parking"),
    ((), "What is the phone number of the Harbour Inn?", None),
    ((), "I'm looking for a place called Millbrook Lodge.", None),
    (("Tell me about the Harbour Inn",), "is the view nice from the rooms?", "Guest review 2 (families)"),
    (("Tell me about the Harbour Inn",), "What's their address?", None),
    (("I need a room at Millbrook Lodge",), "Can I bring my dog?", "Pets"),
    (("I need a room at Millbrook Lodge",), "could you book it for three nights?", None),
    # The section too is chosen without the name: with it, the sentence repeating the name won (Dining).
    ((), "Does Millbrook Lodge serve generous portions of food?", "Portions"),
    # A title that names the topic: without it nothing is asked ("Do you sell?"); its listed question is.
    ((), "Do you sell gift cards?", "Buying one"),
])
def test_a_named_place_answers_only_what_its_article_says(stays, embedder, previous, question, answered):
    """The name picks the article; whether it answers is how close the question, without the name, comes
    to one of its sentences. Scored by the name, every one of these was answered (0.6-0.8)."""
    answer = Pipeline(None, embedder, stays, 0.45).answer(question, TurnContext(previous))
    by_name = Pipeline(None, embedder, stays, 0.45, signals=Signals(sentence=False)).answer(
        question, TurnContext(previous))
    assert (None if answer.handoff_offered else answer.section) == answered, answer.confidence
    assert not by_name.handoff_offered, by_name.confidence


HOTELS = [("Harbour Inn", "Yes, guests park in the garage beside the inn for 12 GBP a night.", "No dogs."),
          ("Millbrook Lodge", "Yes, parking is free behind the lodge.", "Dogs are welcome for 10 GBP."),
          ("Riverside Hotel", "No, but there is a public car park across the street.", "Small dogs only."),
          ("Castle View Guest House", "Two parking spaces, first come first served.", "No pets, sorry."),
          ("The Old Mill", "Free on-site parking for every room.", "Dogs stay free."),
          ("Station Hotel", "Street parking only; permits from reception.", "Only assistance dogs.")]


def hotel_articles() -> dict[str, str]:
    """Six places built alike, by slug: each answers the same two questions, each its own way."""
    source = ("---\ntitle: {title}\nurl: https://stay.example/{slug}\n---\n"
              "## Is parking available?\n{parking}\n## Can I bring my dog?\n{dogs}\n")
    return {slug: source.format(title=title, slug=slug, parking=parking, dogs=dogs)
            for title, parking, dogs in HOTELS for slug in [title.lower().replace(" ", "-")]}


@pytest.fixture(scope="module")
def hotels(embedder):
    articles = [parse_article(slug, text) for slug, text in hotel_articles().items()]
    return LiveIndex(index_store.build(articles, embedder, 900))


def test_a_question_places_built_alike_all_answer_needs_to_know_which_place(hotels, embedder):
    """"Is parking available?" with nothing saying which place: the best-scoring hotel is only a hair
    ahead of four others answering the same question, so its answer would be a guess about the wrong
    place. The visitor is asked which one (a person still offered). A name, or the last answer's
    place, picks one."""
    pipeline = Pipeline(None, embedder, hotels, 0.45)
    guessing = Pipeline(None, embedder, hotels, 0.45, signals=Signals(look_alikes=False))
    assert not guessing.answer("Is parking available?").handoff_offered  # it would have answered
    asked = pipeline.answer("Is parking available?")
    assert asked.handoff_offered and not asked.article and asked.confidence == 0
    listed = [text_of(item) for block in asked.blocks if block.type == "list" for item in block.items]
    assert asked.text.startswith("That depends on which one you mean") and len(listed) >= 3
    assert listed == [source.title for source in asked.sources] and "Tell me which one" in asked.text
    assert set(listed) < {title for title, _, _ in HOTELS}
    named = pipeline.answer("Is parking available?", TurnContext(("I need a room at Millbrook Lodge",)))
    assert (named.article, named.text) == ("millbrook-lodge", "Yes, parking is free behind the lodge.")
    last = pipeline.answer("Is parking available?", TurnContext((), "https://stay.example/station-hotel"))
    assert last.article == "station-hotel" and "permits" in last.text
    # Nothing above the threshold, nothing to choose from: a plain "I don't know".
    assert pipeline.answer("Can I bring my dog with me?").text == DONT_KNOW


@pytest.mark.parametrize("reply, answer", [
    ("Millbrook Lodge", "Yes, parking is free behind the lodge."),
    ("the station hotel please", "Street parking only; permits from reception."),
])
def test_asked_which_place_a_name_alone_gets_the_answer_to_the_question(hotels, embedder, reply, answer):
    pipeline = Pipeline(None, embedder, hotels, 0.45)
    assert pipeline.answer("Is parking available?").handoff_offered  # "which one do you mean?"
    assert pipeline.answer(reply, TurnContext(("Is parking available?",))).text == answer


@pytest.mark.parametrize("question", ["Can I bring my dog?", "can I take my dog along?"])
def test_a_named_place_answers_its_own_faq(hotels, embedder, question):
    """The question is the section's heading ("## Can I bring my dog?"), the answer's sentence says
    little alone ("Dogs are welcome for 10 GBP."): the whole section counts too (it was 0.37 sure)."""
    context = TurnContext(("Is parking available?", "Millbrook Lodge"))
    answer = Pipeline(None, embedder, hotels, 0.45).answer(question, context)
    assert answer.text == "Dogs are welcome for 10 GBP.", answer.confidence


INTENTS = {  # articles that are only example questions, as intent-style knowledge bases are (HINT3)
    "Mattress sizes": ["What sizes do your mattresses come in?", "Do you have a king size mattress?",
                       "What are the dimensions of the queen mattress?", "Can I get a single bed mattress?",
                       "Is there a custom size option?"],
    "Return policy": ["How do I return my mattress?", "Can I send the mattress back?",
                      "What is the trial period?", "I want to return my order",
                      "Is there a 100 night trial?"],
    "Delivery time": ["When will my mattress be delivered?", "How long does delivery take?",
                      "Do you deliver on weekends?", "Where is my order?", "Has my mattress shipped yet?"],
}


@pytest.fixture(scope="module")
def intents(embedder):
    front = [json.dumps({"title": title, "url": f"kb:{n}", "questions": questions})
             for n, (title, questions) in enumerate(INTENTS.items())]
    articles = [parse_article(f"intent-{n}", f"---\n{meta}\n---\n# {title}\n")
                for n, (meta, title) in enumerate(zip(front, INTENTS))]
    return LiveIndex(index_store.build(articles, embedder, 900))


def test_a_question_in_words_no_listed_question_uses_is_not_answered(intents, embedder):
    """HINT3's own example: nothing of "women" is in the mattress intents; without the cost the sizes
    intent would answer it (0.54), with it (the default) a person is offered."""
    uncosted = Pipeline(None, embedder, intents, 0.45, weights=Weights(unused=0.0))
    assert uncosted.answer("Is this mattress for women also?").sources[0].title == "Mattress sizes"
    assert Pipeline(None, embedder, intents, 0.45).answer("Is this mattress for women also?").handoff_offered


def test_an_intents_title_labels_a_topic_and_names_no_thing(intents, places):
    """"Return policy" is what the operator called an intent, not a place or product a visitor names:
    read as a name it would scope the search and outrank the intent the question's words fit (banking77
    through the chat pipeline: 0.9286 of questions right with intent titles as names, 0.9403 without)."""
    assert names_of(intents.current()).find("what is your return policy?") is None
    assert names_of(places).find("is hobsons house open?") is not None  # an article with text is named


def test_a_question_in_the_listed_questions_words_pays_nothing(intents, embedder):
    default = Pipeline(None, embedder, intents, 0.45).answer("what sizes are there")
    uncosted = Pipeline(None, embedder, intents, 0.45, weights=Weights(unused=0.0))
    assert uncosted.answer("what sizes are there").confidence == default.confidence
    assert default.sources[0].title == "Mattress sizes"


@pytest.mark.parametrize("question", ["can the lamp play music", "my parcel arrived damaged"])
def test_an_article_with_text_of_its_own_pays_no_unused_words_cost(pipeline, embedder, kb_index, question):
    """Prose answers paraphrases its words do not cover; the cost would withhold them (README)."""
    without_cost = Pipeline(None, embedder, LiveIndex(kb_index), 0.45, weights=Weights(unused=0.0))
    uncosted = without_cost.answer(question)
    answer = pipeline.answer(question)
    assert (answer.confidence, answer.section) == (uncosted.confidence, uncosted.section)
    assert not answer.handoff_offered


def test_a_follow_up_is_read_with_the_question_it_follows(pipeline):
    alone = pipeline.answer("and how long is the link valid?")
    assert alone.handoff_offered  # the example: on its own it means nothing
    answer = pipeline.answer("and how long is the link valid?", TurnContext(("I forgot my password",)))
    assert answer.article == "passwords" and "60 minutes" in answer.text


PLACES = ["San Francisco Zoo", "San Francisco Museum of Modern Art", "San Francisco Ballet", "HOBSONS HOUSE",
          "Rin's Thai Restaurant"]


def titled(embedder, titles: list[str]):
    """An index of one short article per title, numbered in order."""
    source = "---\ntitle: \"{title}\"\nurl: kb:{n}\n---\n## About\n{title}.\n"
    articles = [parse_article(f"place-{n}", source.format(title=t, n=n)) for n, t in enumerate(titles)]
    return index_store.build(articles, embedder, 900)


@pytest.fixture(scope="module")
def places(embedder):
    return titled(embedder, PLACES)


@pytest.mark.parametrize("text, named", [
    ("all right, it's called the san francisco zoo", "San Francisco Zoo"),  # its own word is short
    ("I'm looking for a guesthouse called Hobson's House", "HOBSONS HOUSE"),  # an apostrophe joins
    ("is rins thai restaurant open late?", "Rin's Thai Restaurant"),
    ("the museum of modern art please", "San Francisco Museum of Modern Art"),
    ("we loved the zoo", None),  # one short word names nothing
    ("anything in san francisco?", None),  # words three titles share name no one of them
])
def test_things_are_known_by_their_whole_title_or_their_own_words(places, text, named):
    found = names_of(places).find(text)
    assert (None if found is None else PLACES[found]) == named


SIGHTS = ["Orchard Garden Hotel", "Orchard Hotel", "Twin Peaks", "Twin Peaks Hotel", "Garden Court Hotel",
          "Garden Inn", "Palace Of Fine Arts"]


@pytest.fixture(scope="module")
def sights(embedder):
    return titled(embedder, SIGHTS)


@pytest.mark.parametrize("text, named", [
    # "orchard" alone names both hotels ("garden" and "hotel" are shared words); the text says more of one
    ("so the orchard garden is in the 94108 area and the s. w. hotel in 94133", "Orchard Garden Hotel"),
    ("is the orchard hotel close to the park?", "Orchard Hotel"),
    ("yeah there is a park, in fact it's called twin peaks", "Twin Peaks"),  # said whole
    ("can I walk from twin peaks hotel to the summit?", "Twin Peaks Hotel"),
    ("the one rated most highly is called the palace of fine art", "Palace Of Fine Arts"),  # plural or not
])
def test_the_title_a_text_says_most_of_is_the_one_named(sights, text, named):
    found = names_of(sights).find(text)
    assert (None if found is None else SIGHTS[found]) == named


def test_a_word_many_articles_use_is_no_name_on_its_own(embedder):
    source = "---\ntitle: \"{title}\"\nurl: kb:{n}\n---\n## {heading}\n{text}\n"
    hotels = [("Hotel %d" % n, "Check-in", "Check-in time is from 3 pm.") for n in range(10)]
    thai = [(t, "Food", "Curries and noodles.") for t in ("Thai Time", "Thai Garden", "Thai Orchid")]
    articles = [parse_article(f"a-{n}", source.format(title=t, heading=h, text=x, n=n))
                for n, (t, h, x) in enumerate(hotels + thai)]
    names = names_of(index_store.build(articles, embedder, 900))
    assert names.find("what is the check-in time?") is None  # "time" is every hotel's word
    assert names.find("does thai time deliver?") == 10 and names.find("is the orchid open late") == 12


def test_numbers_name_a_place_only_with_its_whole_title(embedder):
    """Spoken zip codes and phone numbers are full of number words: "two two" is no name of its own."""
    source = "---\ntitle: \"{title}\"\nurl: kb:{n}\n---\n## Menu\nSeasonal dishes.\n"
    titles = ["Restaurant Two Two", "Restaurant One Seven", "Restaurant Alimentum"]
    articles = [parse_article(f"r-{n}", source.format(title=t, n=n)) for n, t in enumerate(titles)]
    names = names_of(index_store.build(articles, embedder, 900))
    assert names.find("sure, their zip code is nine four one two two") is None
    assert names.find("a table at restaurant two two tonight") == 0
    assert names.find("is alimentum open on sundays?") == 2  # a title's own word that is no number


def test_a_new_topic_wins_over_the_previous_one(pipeline):
    context = TurnContext(("I forgot my password",), "https://help.lumenlamps.example/articles/reset-password")
    answer = pipeline.answer("how much does express shipping cost?", context)
    assert answer.article == "shipping" and "$12.95" in answer.text


def test_the_last_article_is_a_prior_for_an_ambiguous_turn(pipeline):
    context = TurnContext(("how do I pair the lamp with the app",), "app-setup")
    assert pipeline.answer("it still doesn't work", context).article == "app-setup"


def test_the_last_article_is_found_by_its_slug_or_its_address(pipeline):
    index = pipeline.indexes.current()
    number = list(index.article_ids).index("app-setup")
    url = "https://help.lumenlamps.example/articles/app-setup"
    for reference in ("app-setup", url, f"{url}#factory-reset", f" {url} "):
        assert article_number(index, reference) == number
    for reference in ("", " ", "#factory-reset", "https://help.lumenlamps.example/articles/lamps"):
        assert article_number(index, reference) is None


def test_a_statement_that_leans_on_nothing_is_not_answered_with_the_last_topic(pipeline):
    context = TurnContext(("how do I pair the lamp with the app",), "app-setup")
    before = Pipeline(pipeline.scrubber, pipeline.embedder, pipeline.indexes, pipeline.threshold,
                      signals=Signals(standalone=False))
    assert before.answer("Great, thanks a lot, that's all I needed", context).article == "app-setup"
    assert pipeline.answer("Great, thanks a lot, that's all I needed", context).handoff_offered
    assert pipeline.answer("it still doesn't work", context).article == "app-setup"  # a pronoun leans back


@pytest.mark.parametrize("text, leans", [
    ("at what times?", True), ("and for plus members", True), ("it still doesn't work", True),
    ("What about Canada", True), ("does it cover water damage", True),
    ("Thank you, goodbye!", False), ("I need a hotel with free parking.", False), ("Book a table for 2", False),
])
def test_which_messages_lean_on_what_came_before(text, leans):
    assert leans_on_before(text) is leans


def test_placeholders_are_searched_as_nothing_in_particular(pipeline):
    # Read as the words "street address" it took this for a question about the account's address.
    answer = pipeline.answer("change the delivery address to <STREET_ADDRESS_1>")
    assert answer.article == "orders" and not answer.handoff_offered
    # Read as "person" it drew a signed-in visitor's question to "Locked accounts".
    assert pipeline.answer("<PERSON_1> here, how do I reset my password").section == "Requesting a reset link"
    # Masked values alone ask nothing: an honest "I don't know", not an article picked by the type's word.
    for text in ("<EMAIL_ADDRESS_1>", "<PERSON_1> <PHONE_NUMBER_1>", "<PERSON_1>!"):
        answer = pipeline.answer(text)
        assert answer.handoff_offered and answer.confidence == 0.0 and not answer.sources


@pytest.mark.parametrize("question, introduced", [
    ("I forgot my password", "I forgot my password, this is Jane Roe"),
    ("my lamp blinks red", "my lamp blinks red, you can reach me at jane.roe@example.com"),
    ("can I get a refund", "hello this is Maria Lopez, can I get a refund"),
    ("where is my order?", "Where is my order? My name is Tom Hardy and my phone is +1 415 555 0134"),
])
def test_saying_who_you_are_does_not_change_the_answer(pipeline, question, introduced):
    # Read as "this is something" or "reach me at something", the introduction pulled the question to
    # another section (locked accounts, exchanges), lowered it (0.79 -> 0.56) or made it abstain.
    plain = pipeline.answer(pipeline.scrubber.scrub(question).text)
    said = pipeline.answer(pipeline.scrubber.scrub(introduced).text)
    assert not plain.handoff_offered
    assert (said.article, said.section, said.confidence) == (plain.article, plain.section, plain.confidence)


def _say(visitor, text, context):
    body = {"text": text} if context is None else {"text": text, "context": context}
    return visitor.client.post(f"/api/v1/conversations/{visitor.conversation_id}/messages",
                               json=body, headers=visitor.auth)


def test_api_takes_context_without_transcripts_consent_and_stores_nothing(app, visitor):
    reply = _say(visitor, "and how long is the link valid?",
                 {"previous": ["I forgot my password, my email is quietdesk-canary-ctx@example.com"]})
    assert reply.status_code == 200, reply.json
    assert reply.json["sources"][0]["url"].startswith("https://help.lumenlamps.example/articles/reset-password#")
    assert reply.json["blocks"][0]["type"] == "paragraph" and "60 minutes" in reply.json["answer"]
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    assert b"quietdesk-canary-ctx" not in Path(app.config["DB_PATH"]).read_bytes()


def test_context_the_worker_scrubbed_before_is_not_scrubbed_again_and_nothing_raw_is_kept(app, visitor,
                                                                                          monkeypatch):
    first = "I forgot my password, my email is quietdesk-canary-memo@example.com"
    assert _say(visitor, first, None).status_code == 200
    pipeline = app.extensions["pipeline"]
    scrubbed = []
    original = pipeline.scrubber.scrub
    monkeypatch.setattr(pipeline.scrubber, "scrub",
                        lambda text, *a, **k: scrubbed.append(text) or original(text, *a, **k))
    reply = _say(visitor, "and how long is the link valid?", {"previous": ["Ann Lee here", first]})
    assert "60 minutes" in reply.json["answer"]
    assert scrubbed == ["and how long is the link valid?", "Ann Lee here"]  # the first message came from the memo
    kept = repr(pipeline.memo._entries.items())
    assert "canary-memo" not in kept and "Ann Lee" not in kept and "<EMAIL_ADDRESS" not in kept
    assert "'I forgot my password'" in kept  # searched form: the clause handing over the email left out


@pytest.mark.parametrize("context", [
    "I forgot my password", ["I forgot my password"], {"previous": "I forgot my password"},
    {"previous": [1]}, {"previous": ["a"] * 6}, {"previous": ["x" * 2001]}, {"article": 5},
    {"article": "x" * 501}, {"previous": [], "mood": "angry"},
])
def test_bad_context_is_a_400_invalid_request(visitor, context):
    reply = _say(visitor, "how do I reset my password", context)
    assert reply.status_code == 400 and reply.json["error"] == "invalid_request"
    assert "`context`" in reply.json["message"]


def _lines(name):
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def test_regression_set_passage_accuracy_holds(pipeline):
    """60 customer-worded questions; 0.717 of passages right (0.833 of articles) when written, 0.750 since
    sections weigh the question's rarer words, 0.767 since a close article's unused words cost it rank;
    floor 0.72."""
    questions = _lines("regression_questions.jsonl")
    assert len(questions) >= 60
    right = [(a.article, a.section) == (q["article"], q["section"])
             for q in questions for a in [pipeline.answer(q["query"])]]
    assert sum(right) / len(right) >= 0.72


def test_a_word_only_one_close_article_uses_decides_between_them(pipeline):
    """"how do i factory reset" sat closer to the password article (two listed questions say "reset")
    than to the app article whose section is *Factory reset*; "factory" is a word only the latter uses.
    Likewise "nothing at my door" after "tracking says delivered": the missing-parcels section, not the
    order statuses. The cost only ranks: the answer is as sure as its article reads (above 0.45)."""
    reset = pipeline.answer("how do i factory reset")
    assert (reset.article, reset.section) == ("app-setup", "Factory reset"), (reset.article, reset.section)
    assert "switch it off and on 5 times" in reset.text and not reset.handoff_offered
    missing = pipeline.answer("tracking says delivered but there's nothing at my door")
    assert (missing.article, missing.section) == ("shipping", "Missing or damaged parcels")
    assert pipeline.answer("how do I reset my password").section == "Requesting a reset link"


def _follow_up(pipeline, query: str, *previous: str):
    """Answer the last of the `previous` messages, then `query` with the context the widget sends: the
    visitor's earlier messages and the last answer's section address."""
    before = pipeline.answer(previous[-1])
    return pipeline.answer(query, TurnContext(previous, before.sources[0].url if before.sources else ""))


def test_regression_follow_ups_passage_accuracy_holds(pipeline):
    """88 two-turn follow-ups: the first 22 (two switch topic) 0.82 of passages right with context when
    written (0.91 since sections weigh the question's rarer words), 0.41 without; 66 more, about half
    asking more of the section just quoted, 51 right before the last answer's section was a prior, 53
    after (and the first 22 still 20). Floor 0.80 (0.83 now)."""
    follow_ups = _lines("regression_follow_ups.jsonl")
    assert len(follow_ups) >= 80
    right = [(a.article, a.section) == (turn["article"], turn["section"])
             for turn in follow_ups for a in [_follow_up(pipeline, turn["query"], *turn["previous"])]]
    assert sum(right) / len(right) >= 0.80


def test_a_follow_up_on_the_section_just_quoted_stays_with_it_unless_it_asks_for_another(pipeline):
    """"does that include express?" after the free-shipping section: the section on delivery options
    scores a hair higher alone, the section just quoted is the prior. A question for another section
    still moves, and without the last answer's address (a client sending only messages) there is no prior."""
    assert _follow_up(pipeline, "does that include express?", "is shipping free").section == "Free shipping"
    assert _follow_up(pipeline, "how much is express shipping", "is shipping free").section == \
        "Delivery options and times"
    assert _follow_up(pipeline, "and how do I cancel it?", "how much does lumen plus cost").section == \
        "Cancelling Lumen Plus"
    without = pipeline.answer("does that include express?", TurnContext(("is shipping free",), ""))
    assert without.section == "Delivery options and times"


def _see_also(answer):
    """The "See also" links after an answer: (heading, url) each."""
    last = answer.blocks[-1] if answer.blocks else None
    if last is None or not last.spans or last.spans[0].text != SEE_ALSO:
        return []
    return [(span.text, span.href) for span in last.spans if span.href]


def test_a_section_close_behind_the_answered_one_is_linked_as_see_also(pipeline):
    """"I can't remember my password": *Locked accounts* and *Requesting a reset link* score within a hair
    of each other; whichever is quoted, the other is a link (to its section) after the answer, in the
    blocks and in the plain text. A question one section clearly answers gets no such line."""
    answer = pipeline.answer("I can't remember my password")
    linked = [url for _, url in _see_also(answer)] + [s.url for s in answer.sources]
    assert any(url.endswith("#requesting-a-reset-link") for url in linked), answer.blocks
    assert all(url.startswith("https://help.lumenlamps.example/articles/reset-password#") for url in linked)
    assert answer.text.splitlines()[-1].startswith(SEE_ALSO)
    assert len(answer.sources) == 1  # a link is no source: the answer quotes one section
    assert _see_also(pipeline.answer("how do I pair the lamp with the app")) == []


def test_see_also_links_the_right_section_for_a_share_of_wrong_section_answers(pipeline):
    """On the regression sets (60 questions, 88 follow-ups): of the answers from the right article but the
    wrong section, 6 of 16 link the right one (floor 5); a "See also" line shows under 22 of 139
    answers (ceiling 20 %)."""
    turns = [(q, pipeline.answer(q["query"])) for q in _lines("regression_questions.jsonl")]
    turns += [(t, _follow_up(pipeline, t["query"], *t["previous"]))
              for t in _lines("regression_follow_ups.jsonl")]
    answered = [(gold, a) for gold, a in turns if not a.handoff_offered]
    wrong_section = [(gold, a) for gold, a in answered
                     if a.article == gold["article"] and a.section != gold["section"]]
    linked = [a for gold, a in wrong_section if gold["section"] in [h for h, _ in _see_also(a)]]
    assert len(linked) >= 5
    assert sum(bool(_see_also(a)) for _, a in answered) <= 0.2 * len(answered)


def test_blocks_are_frozen_dataclasses():
    with pytest.raises(Exception):
        Block("paragraph").type = "list"
