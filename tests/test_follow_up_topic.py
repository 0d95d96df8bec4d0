"""A follow-up is read in the topic of the last answer — the section it quoted, named in the knowledge
base's own words — however many messages back the visitor named it; a message that leaves that topic is
read alone, so a question the articles do not answer is not answered from the last article."""
from __future__ import annotations

import json

import pytest

from app.chat.pipeline import Pipeline
from app.evaluation import _dialogue_engines
from app.retrieval.context import Signals, TurnContext
from app.retrieval.dialogue import Turn, run_turns
from app.retrieval.live import LiveIndex
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def pipeline(scrubber, embedder, kb_index):
    return Pipeline(scrubber, embedder, LiveIndex(kb_index), 0.45)


@pytest.fixture(scope="module")
def without_topic(pipeline):
    return Pipeline(pipeline.scrubber, pipeline.embedder, pipeline.indexes, pipeline.threshold,
                    signals=Signals(topic=False))


def chat(pipeline, *messages: str):
    """Answer each message as the widget sends it: with up to five earlier messages and the address of
    the section the last answer quoted (kept through an "I don't know", none after "which one do you
    mean?"). Returns the last answer."""
    article = ""
    for number, text in enumerate(messages):
        answer = pipeline.answer(text, TurnContext(messages[max(0, number - 5):number], article))
        article = answer.address_after(article)
    return answer


def _lines(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def test_a_follow_up_keeps_the_topic_its_message_before_only_pointed_at(pipeline, without_topic):
    """"how long does that take?" after "and to Germany?": the message before names no topic; the section
    just quoted does. Read only with the message before, it was an "I don't know" (0.42)."""
    turns = ("how much does shipping cost", "and to Germany?", "how long does that take?")
    answer = chat(pipeline, *turns)
    assert (answer.article, answer.section) == ("shipping", "International shipping")
    assert "6–12 business days" in answer.text
    assert chat(without_topic, *turns).handoff_offered


def test_only_the_topic_making_a_turn_answerable_keeps_its_section(pipeline, without_topic):
    """"is there a free trial" after the Lumen Plus price: *Cancelling Lumen Plus* also mentions the trial
    and scores a hair higher on the turn's own words; the section just quoted answers it."""
    turns = ("what's lumen plus", "how much is it", "is there a free trial")
    answer = chat(pipeline, *turns)
    assert answer.section == "Lumen Plus pricing and billing" and "14-day free trial" in answer.text
    assert chat(without_topic, *turns).handoff_offered


@pytest.mark.parametrize("previous, turn, section, said", [
    ("the app says error E31", "what is that", "Error codes explained", "firmware update failed"),
    ("how do I factory reset my lamp", "how so", "Factory reset", "switch it off and on 5 times"),
    ("my lamp arrived broken", "what now", "Devices that arrive damaged or dead", "within 14 days"),
])
def test_a_turn_asking_with_no_word_of_its_own_stays_on_the_section_just_quoted(pipeline, previous, turn,
                                                                               section, said):
    """Its section was chosen by its own words, which say nothing: "what is that" after the error codes and
    "how so" after the factory reset were answered with the steps for pairing a new lamp, and "what now"
    after a broken delivery ("now" asked about something) was read as a new topic: "I don't know"."""
    answer = chat(pipeline, previous, turn)
    assert answer.section == section and said in answer.text


def test_a_question_the_articles_do_not_answer_is_not_answered_from_the_last_article(pipeline, without_topic):
    """Joined to "I want to return my lamp", "are you hiring?" looked like a return question (0.54)."""
    assert chat(without_topic, "I want to return my lamp", "are you hiring?").article == "refunds"
    answer = chat(pipeline, "I want to return my lamp", "are you hiring?")
    assert answer.handoff_offered and not answer.sources


@pytest.mark.parametrize("previous, fragment, section", [
    ("when is your support team available", "saturday?", "Support hours"),
    ("do you ship to the EU?", "germany?", "International shipping"),
    ("what payment methods do you take", "klarna?", "Accepted payment methods"),
    ("when is your support team available", "on sundays?", "Support hours"),
])
def test_a_fragment_after_an_answer_asks_about_its_topic(pipeline, previous, fragment, section):
    """Every word of "saturday?" is new to the support article, as every word of "are you hiring?" is to the
    return steps; but a few words asking nothing by themselves ask about the last topic (the first cut of
    the leaving rule read them alone and said "I don't know")."""
    answer = chat(pipeline, previous, fragment)
    assert not answer.handoff_offered and answer.section == section


def test_a_number_glued_to_its_unit_is_read_as_the_articles_write_it(pipeline):
    """The articles say "5 GHz". Glued, "is 5ghz ok?" shared no word with the article just quoted, was
    taken for a new topic and read alone: "I don't know" (0.41)."""
    answer = chat(pipeline, "my lamp keeps disconnecting from wifi", "is 5ghz ok?")
    assert answer.section == "Wi-Fi requirements" and not answer.handoff_offered


def test_a_new_topic_after_a_few_turns_on_another_wins(pipeline):
    answer = chat(pipeline, "where is my parcel", "it's been a week", "what's your phone number?")
    assert (answer.article, answer.section) == ("contact-human", "Phone support")


def test_regression_conversations_hold(pipeline):
    """40 three-message conversations as customers write them (tests/fixtures/regression_conversations.jsonl):
    32 whose last message leans on the topic two messages back, or starts a new one, each with its gold
    section; 8 whose last message no article answers. Before the last answer's topic was read: 9 of 32
    right, 8 of 8 not answered; now 19 and 8. Floors 18 and 7."""
    conversations = _lines("regression_conversations.jsonl")
    answers = [(c, chat(pipeline, *c["turns"])) for c in conversations]
    answerable = [(c, a) for c, a in answers if c["article"]]
    right = sum(not a.handoff_offered and (a.article, a.section) == (c["article"], c["section"])
                for c, a in answerable)
    honest = sum(a.handoff_offered for c, a in answers if not c["article"])
    assert (len(answerable), len(answers)) == (32, 40)
    assert right >= 18 and honest >= 7


def test_questions_no_article_answers_stay_unanswered_after_an_answer_too(pipeline):
    """40 questions a Lumen customer might ask that no sample article answers (a store in Berlin, Alexa,
    the CEO). Asked first, 5 are answered; asked right after an answer, 29 of 36 were, each from the
    article just answered (read joined to the question before it); now 14. Ceilings 6 and 18."""
    questions = [q["query"] for q in _lines("regression_unanswerable.jsonl")]
    assert len(questions) == 40
    assert sum(not pipeline.answer(q).handoff_offered for q in questions) <= 6
    openers = ["how much does shipping cost", "what's lumen plus", "how do I pair my lamp", "my lamp flickers",
               "how do I delete my account", "I want to return my lamp"]
    after = [chat(pipeline, openers[n % len(openers)], q) for n, q in enumerate(questions[:36])]
    assert sum(not a.handoff_offered for a in after) <= 18


def test_eval_dialogue_replays_a_dialogue_with_our_own_last_answers_address(embedder, kb_index):
    """DSTC's earlier replies are a human wizard's, so `eval dialogue` has rows that send our own last
    answer's address, as the widget does: the dialogue's turns are answered in order whatever the file's
    order, and the last one is read in the topic two messages back."""
    asked = ("how much does shipping cost", "and to Germany?", "how long does that take?")
    context: tuple[str, ...] = ()
    turns = []
    for number, text in enumerate(asked):
        turns.append(Turn(text, context, (("shipping", "international shipping"),), "d1"))
        context = (*context, text, f"(the wizard's reply {number})")
    turns.reverse()  # the last turn first: a split file keeps no order
    engines = _dialogue_engines(kb_index, embedder)
    replayed, _ = run_turns(engines["ours, our last answer sent"], turns)
    messages_only, _ = run_turns(engines["ours"], turns)
    assert (replayed[0].article, replayed[0].section) == ("shipping", "international shipping")
    assert replayed[0].confidence >= 0.45 > messages_only[0].confidence
    unread, _ = run_turns(engines["ours, last answer sent, no topic"], turns)
    assert unread[0].confidence < 0.45
