"""A message asking two questions gets both answered, each from its own section under its heading (a link
to it), each article cited once; one the articles answer only in part names the question left over and
offers a person; one asking one question, or two that one section answers, is answered as before."""
from __future__ import annotations

import json

import pytest

from app.admin import accounts
from app.chat import transcripts
from app.chat.answer import Answer, Source, combine, compose, not_found
from app.chat.pipeline import Pipeline
from app.db import connect
from app.retrieval.context import Signals
from app.retrieval.live import LiveIndex
from app.retrieval.markdown import Block, Span
from app.retrieval.questions import split_questions
from tests.conftest import ROOT
from tests.test_admin_pages import PASSWORD, Console

FIXTURES = ROOT / "tests" / "fixtures"


@pytest.mark.parametrize("message, questions", [
    ("how do I start a return and how long does the refund take",
     ["how do I start a return", "how long does the refund take"]),
    ("how do I pair my lamp? also what wifi does it need",
     ["how do I pair my lamp?", "what wifi does it need"]),
    ("Do you have parking? And is breakfast included?", ["Do you have parking?", "is breakfast included?"]),
    ("can I return it; can I get my money back?", ["can I return it", "can I get my money back?"]),
    ("where is my order, and when will it arrive?", ["where is my order", "when will it arrive?"]),
])
def test_a_message_is_split_into_the_questions_it_asks(message, questions):
    assert split_questions(message) == questions


@pytest.mark.parametrize("message", [
    "what do E12 and E31 mean",  # one question about two things
    "how do I cancel and get a refund",  # one question, two verbs
    "I bought a lamp last week. It does not connect. What should I do?",  # a story, then one question
    "my lamp is broken and is it covered",  # a statement, then one question
    "how long and how much",  # two questions asking about nothing of their own
    "what is lumen plus and how much is it and can I cancel it and is there a trial",  # more than three
    "Is the warranty 2 years or 1",
    "can you help me .. which lamp should I buy",  # a lead-in, then the question
    "are the lamps dimmable and have a timer?",  # one question going on
])
def test_a_message_asking_one_question_is_not_split(message):
    assert split_questions(message) == []


@pytest.fixture(scope="module")
def pipeline(scrubber, embedder, kb_index):
    return Pipeline(scrubber, embedder, LiveIndex(kb_index), 0.45)


def test_two_questions_get_both_answers_under_their_headings(pipeline):
    """Answered whole, "how do I return something and how long does the refund take" quoted only when the
    money comes back: the visitor never learnt how to start the return."""
    whole = Pipeline(pipeline.scrubber, pipeline.embedder, pipeline.indexes, pipeline.threshold,
                     signals=Signals(questions=False))
    message = "how do I return something and how long does the refund take"
    alone = whole.answer(message)
    assert "Return items" not in alone.text
    answer = pipeline.answer(message)
    assert not answer.handoff_offered and answer.section == alone.section  # what the whole message reads as
    assert [s.url.rsplit("/", 1)[1] for s in answer.sources] == ["refunds#how-to-start-a-return"]  # once
    headings = [(b.spans[0].text, b.spans[0].href.rsplit("#", 1)[1]) for b in answer.blocks
                if b.type == "paragraph" and b.spans[0].strong and b.spans[0].href]
    assert headings == [("How to start a return", "how-to-start-a-return"),  # each a link to its section
                        ("When you get your money back", "when-you-get-your-money-back")]
    assert "Return items" in answer.text and "5–10 business days" in answer.text
    assert answer.text.index("Return items") < answer.text.index("5–10 business days")  # in the order asked


def test_questions_from_two_articles_cite_both(pipeline):
    answer = pipeline.answer("how do I delete my account and can I download my chat data first?")
    assert {s.url.rsplit("/", 1)[1].split("#")[0] for s in answer.sources} == {"accounts", "privacy"}
    assert "Delete account" in answer.text and "Download my data" in answer.text


def test_a_later_question_leans_on_the_one_before(pipeline):
    """"how do I cancel it" is read after "how much is lumen plus": the subscription, not an order."""
    answer = pipeline.answer("how much is lumen plus and how do I cancel it")
    assert _headings(answer) == ["Lumen Plus pricing and billing", "Cancelling Lumen Plus"]


@pytest.mark.parametrize("message", [
    "do you ship to canada and how much does it cost",  # one section answers both: one answer, no headings
    "do you have a store in Berlin and how much is shipping",  # one not answered: the other as before
    "is anyone there? how do I pair my lamp?",  # the first asks for a person, not the articles
])
def test_a_message_one_section_answers_is_answered_once(pipeline, message):
    answer = pipeline.answer(message)
    assert len(answer.sources) == 1 and not _headings(answer)


def test_regression_two_questions_hold(pipeline):
    """16 messages asking two things, written as customers write (`regression_two_questions.jsonl`, each
    with both gold sections). Answered whole, none got both answers (15 one of them); now 13 do, and no
    section that answers neither is quoted. Floor 12."""
    lines = (FIXTURES / "regression_two_questions.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    both = quoted_wrong = 0
    for row in rows:
        answer = pipeline.answer(row["query"])
        quoted = _headings(answer) or ([answer.section] if not answer.handoff_offered else [])
        gold = [section for _, section in row["sections"]]
        both += all(section in quoted for section in gold)
        quoted_wrong += sum(section not in gold for section in quoted)
    assert len(rows) == 16 and both >= 12 and quoted_wrong == 0


def _headings(answer) -> list[str]:
    """The sections a reply to several questions quotes: each one's heading, in bold and linked."""
    return [b.spans[0].text for b in answer.blocks
            if b.type == "paragraph" and len(b.spans) == 1 and b.spans[0].strong and b.spans[0].href]


def _said(section: str, anchor: str = "") -> Answer:
    url = "https://help.example/articles/orders" + (f"#{anchor}" if anchor else "")
    return Answer(section, (Source("Orders", url),), 0.7, False, "orders", section,
                  (Block("paragraph", spans=(Span(section),)),))


def test_parts_that_disagree_with_the_whole_message_are_not_combined():
    """Read whole, the message is answered from a third section: its halves misread one question (on
    CLINC150, "what day am i on on vacation and how much do i got left" asks about days off left)."""
    parts = [_said("Changing an order", "changing"), _said("Cancelling an order", "cancelling")]
    assert combine(parts, _said("Order statuses", "statuses")) is None
    whole_as_part = combine(parts, _said("Cancelling an order", "cancelling"))
    assert whole_as_part.section == "Cancelling an order"  # what the whole message reads as…
    assert whole_as_part.text.index("Changing") < whole_as_part.text.index("Cancelling")  # …as asked
    assert len(whole_as_part.sources) == 1  # the article cited once
    introduction = combine(parts, _said("Tracking, changing or cancelling an order"))  # sums up the sections
    assert introduction.section == "Changing an order"


def test_a_question_no_article_answers_is_named_and_a_person_offered(pipeline):
    """Answered whole, "do you ship to the uk and do you have a store in berlin" got the shipping section
    and the store was never mentioned: the visitor could not tell it had been missed."""
    answer = pipeline.answer("do you ship to the uk and do you have a store in berlin")
    assert _headings(answer) == ["International shipping"] and "United Kingdom" in answer.text
    assert answer.blocks[-1].spans[0].text == not_found(["do you have a store in berlin"])
    assert "I couldn't find an answer to “do you have a store in berlin” in our help articles." in answer.text
    assert answer.handoff_offered and not answer.asked_which  # a person offered for the question left over
    assert (answer.article, answer.section) == ("shipping", "International shipping")
    assert [s.title for s in answer.sources] == ["Shipping options, costs and delivery times"]
    masked = pipeline.answer("do you ship to the uk and do you have a store in <LOCATION_1>")
    assert "one of your questions" in masked.text and "something" not in masked.text  # searched so, not said
    introduced = pipeline.answer("Hi, I'm <PERSON_1>. do you ship to the uk and do you have a store in "
                                 "berlin?")
    assert "“do you have a store in berlin”" in introduced.text  # the name is not in what it asks


def test_only_a_question_left_unanswered_is_named():
    changed, unknown = _said("Changing an order", "changing"), compose([], None, 0.45)
    asked = ("can I change my order", "do you have a store in Berlin?")
    partial = combine([changed, unknown], changed, asked)
    assert partial.text.endswith(not_found(["do you have a store in Berlin?"]))
    assert "“do you have a store in Berlin”" in partial.text  # quoted without its question mark
    assert partial.handoff_offered and partial.section == "Changing an order" and partial.confidence == 0.7
    three = combine([changed, unknown, unknown], unknown, (*asked, "are you hiring"))
    assert "“do you have a store in Berlin” or “are you hiring”" in three.text  # both, as asked
    assert combine([unknown, unknown], unknown, asked) is None  # nothing answered: "I don't know", whole
    long = "can I have it delivered " + "on a weekday afternoon between two and four o'clock " * 3 + "please?"
    assert not_found([long]).startswith("I couldn't find an answer to “can I have it delivered on a weekday ")
    assert "four o'clock on a weekday afternoon…” in our help" in not_found([long])  # cut at a word, ≤ 100
    unquoted = combine([changed, unknown], changed, asked, quote=False)  # the message held a masked value
    assert "I couldn't find an answer to one of your questions in our help articles." in unquoted.text
    which = Answer("That depends on which one you mean:", (Source("Orders", "kb:orders"),), 0.0, True,
                   asked_which=True)
    assert combine([changed, which], changed, asked) is None  # "which one?" is no question the articles miss
    assert combine([changed, unknown], _said("Order statuses", "statuses"), asked) is None  # a misread split


def test_an_answer_in_part_is_counted_answered_listed_as_a_gap_and_can_be_rated_down(app, client, visitor):
    visitor.consent(transcripts=True, analytics=True)
    body = visitor.say("do you ship to the uk and do you have a store in berlin").json
    assert body["handoff_offered"] is True and body["asked_which"] is False and len(body["sources"]) == 1
    assert "“do you have a store in berlin”" in body["answer"]
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    outcomes = dict(db.execute("SELECT metric, count FROM analytics_daily WHERE article = ''").fetchall())
    assert outcomes.get("answered") == 1 and "unanswered" not in outcomes  # it did answer from an article
    gaps = transcripts.gap_questions(db, 10)  # the team sees the question the articles miss
    assert [g.text for g in gaps] == ["do you ship to the uk and do you have a store in berlin"]
    visitor.say("that didn't help")  # said in words: the answer in part is rated down, as its thumbs would be
    rating = db.execute("SELECT rating FROM feedback WHERE message_id = ?", (body["message_id"],)).fetchone()
    assert rating is not None and rating["rating"] == "down"
    accounts.create_user(db, "rev@example.com", "reviewer", PASSWORD)
    page = Console(app, "rev@example.com").text(f"/admin/conversations/{visitor.conversation_id}")
    assert page.count("answered in part, offered a human") == 1  # not "unanswered", as "I don't know" is


def test_over_the_api_both_answers_are_sent_and_stored_as_one_reply(client, visitor):
    visitor.consent(transcripts=True)
    body = visitor.say("what payment methods do you accept and can I get an invoice?").json
    linked = [b["spans"][0] for b in body["blocks"] if b["type"] == "paragraph" and b["spans"][0].get("href")
              and b["spans"][0].get("strong")]
    assert [s["text"] for s in linked] == ["Accepted payment methods", "Invoices and receipts"]
    assert body["handoff_offered"] is False and len(body["sources"]) == 1
    stored = client.get("/api/v1/me/export", headers=visitor.auth).json["conversations"][0]["messages"]
    assert [m["role"] for m in stored] == ["visitor", "bot"]
    assert "Apple Pay" in stored[1]["text"] and "Download invoice" in stored[1]["text"]
