"""Small talk — "hi", "thanks a lot!", "ok bye" — gets a short social reply, not "I couldn't find an
answer… want a human?": no article is searched, nothing is offered, it is no knowledge gap and no
unanswered turn in the analytics. A message that also asks something is a question as before."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.admin import accounts
from app.chat import transcripts
from app.chat.answer import DONT_KNOW, SMALL_TALK
from app.chat.intents import small_talk
from app.db import transaction
from tests.conftest import Visitor
from tests.test_admin_pages import PASSWORD, Console, database
from tests.test_analytics import counters
from tests.test_console_loop import gap_sections


@pytest.mark.parametrize("text, kind", [
    ("hi", "greeting"), ("Hello there!", "greeting"), ("Good morning", "greeting"), ("Hi! 👋", "greeting"),
    ("hi, I'm <PERSON_1>", "greeting"),  # a masked name says nothing more
    ("Thanks!", "thanks"), ("thank you so much", "thanks"), ("Thanks a lot, that helped", "thanks"),
    ("cheers", "thanks"), ("vielen Dank", "thanks"), ("merci beaucoup", "thanks"),
    ("bye", "goodbye"), ("ok thanks bye", "goodbye"), ("Great, thanks a lot, that's all I needed", "goodbye"),
    ("have a nice day!", "goodbye"), ("ok, got it", "acknowledged"), ("perfect", "acknowledged"),
    ("no thanks", "acknowledged"), ("No thank you, that's all", "goodbye"), ("thanks again, team!", "thanks"),
    ("hi there everyone", "greeting"), ("Thanks for all", "thanks"), ("thank you for everything!", "thanks"),
    ("👍", "acknowledged"), ("🙏", "thanks"), ("ok 👌", "acknowledged"), ("👎", "missed"),
    ("Das hat nicht geholfen", "missed"), ("Bist du ein Bot?", "about"), ("ça ne m'a pas aidé", "missed"),
    # turning the offer of a person down: searched, it got the offer again
    ("I don't want to talk to a human", "acknowledged"), ("no, I don't need a person", "acknowledged"),
    ("I do not need chat agent", "acknowledged"),
    # help wanted, not yet with what: the first message of many chats
    ("Hi, I have a question", "opener"), ("hello, can you help me?", "opener"), ("I need help", "opener"),
    ("help please", "opener"), ("quick question", "opener"), ("hi! can I ask you something?", "opener"),
    ("I have an issue", "opener"), ("thank you, I have another question", "opener"),
    ("Help me", "opener"),  # HINT3, Powerplay11's CAPABILITIES
    ("Ich habe eine Frage", "opener"),
    # what the chat is (CLINC150's are_you_a_bot and what_can_i_ask_you, Powerplay11's CAPABILITIES)
    ("are you a robot", "about"), ("am i talking to a real person", "about"), ("what can i ask you", "about"),
    ("What can you do for me", "about"), ("who are you?", "about"), ("what's your name?", "about"),
    ("hello? are you there?", "greeting"),
    # "yes" to "Is there anything else I can help you with?" (the widget takes a yes to a person itself)
    ("yes", "yes"), ("yes please", "yes"), ("sure", "yes"), ("yes, thanks", "thanks"),
    ("ok yes", "acknowledged"),
    # the last answer missed (the first three: CLINC150's "no" intent)
    ("no, that's not right", "missed"), ("that isn't correct", "missed"), ("nope that's not it", "missed"),
    ("that didn't help", "missed"), ("not helpful at all", "missed"),
    ("thanks but that didn't help", "missed"),
    ("this doesn't answer my question", "missed"), ("sorry, that's not what I was looking for", "missed"),
])
def test_small_talk_is_recognised_by_kind(text, kind):
    assert small_talk(text) == kind


@pytest.mark.parametrize("text", [
    "hi, how do I reset my password?", "thanks, and how long is the link valid?",
    "no thanks, I want a refund", "I don't need a person, how do I reset my password?",
    "I don't want a refund",
    "hello? my lamp is broken", "thank you for nothing", "ok but how do I cancel", "nice lamp, what colours?",
    "no",  # it may turn the offer of a person down, or say the answer missed: the pipeline decides
    "<PERSON_1>", "it's <EMAIL_ADDRESS>", "!!!", "", "team", "there", "for all",
    "thanks " * 20,  # longer than small talk runs: searched as before
    "I need help with my order", "can you help me reset my password", "I have a question about shipping",
    "I have a problem with my lamp", "please", "what can you tell me about Lumen Plus?",
    # what the product did, not what the answer did: troubleshooting sections answer these
    "it didn't work", "still not working", "I didn't get the email", "my order did not arrive",
])
def test_a_message_that_asks_or_says_anything_else_is_no_small_talk(text):
    assert small_talk(text) == ""


def test_small_talk_gets_a_social_reply_and_is_neither_a_gap_nor_an_unanswered_turn(app):
    accounts.create_user(database(app), "lead@example.com", "admin", PASSWORD)
    visitor = Visitor(app.test_client())
    visitor.consent(transcripts=True, analytics=True)
    said = ("Hello, I'm Maria Lopez!", "How do I reset my password?", "thanks a lot!",
            "Do you sell gift cards?", "ok bye")
    replies = [visitor.say(text).json for text in said]
    assert [r["answer"] for r in replies[::2]] == [SMALL_TALK[k] for k in ("greeting", "thanks", "goodbye")]
    assert all(not r["handoff_offered"] and not r["sources"] and r["blocks"][0]["type"] == "paragraph"
               for r in replies[::2])
    assert replies[1]["sources"] and replies[3]["answer"] == DONT_KNOW  # questions are searched as before
    gaps = gap_sections(Console(app, "lead@example.com").text("/admin/gaps"))
    assert list(gaps) == ["Do you sell gift cards?"]  # "thanks a lot!" is no knowledge gap
    counted = counters(app)
    assert (counted[("answered", "")], counted[("unanswered", "")]) == (1, 1)  # the two questions only
    exported = visitor.client.get("/api/v1/me/export", headers=visitor.auth).json
    said = [(m["role"], m["text"]) for m in exported["conversations"][0]["messages"]]
    assert said[:2] == [("visitor", "Hello, I'm <PERSON_1>!"), ("bot", SMALL_TALK["greeting"])]  # scrubbed
    assert "Maria" not in json.dumps(exported)
    files = [path for path in Path(app.config["INSTANCE"]).rglob("*") if path.is_file()]
    assert any(path.suffix == ".db" for path in files), files
    for path in files:  # logs, database, index: nothing holds the name
        assert b"Maria" not in path.read_bytes(), path


def test_small_talk_stored_before_it_had_a_reply_is_no_gap_either(app):
    """A version before this one answered "thanks!" with "I don't know… want a human?", and stored it so:
    the gaps page leaves such rows out when it reads them; a real question answered so stays."""
    accounts.create_user(database(app), "lead@example.com", "admin", PASSWORD)
    visitor = Visitor(app.test_client())
    visitor.consent(transcripts=True, analytics=True)
    assert visitor.say("Do you sell gift cards?").json["answer"] == DONT_KNOW
    db = database(app)
    conversation = db.execute("SELECT id FROM conversations").fetchone()["id"]
    with transaction(db):
        for said in ("thanks!", "ok bye"):
            transcripts.append_turn(db, conversation, transcripts.StoredTurn(said, DONT_KNOW, [], 0.17, True),
                                    transcripts.new_id(), {})
    stored = db.execute("SELECT count(*) FROM messages WHERE role = 'bot' AND handoff_offered = 1")
    assert stored.fetchone()[0] == 3
    gaps = gap_sections(Console(app, "lead@example.com").text("/admin/gaps"))
    assert list(gaps) == ["Do you sell gift cards?"]


def test_help_wanted_without_saying_with_what_is_asked_for_the_question(app):
    accounts.create_user(database(app), "lead@example.com", "admin", PASSWORD)
    visitor = Visitor(app.test_client())
    visitor.consent(transcripts=True, analytics=True)
    opener, about, question, thanks, yes = (visitor.say(text).json for text in (
        "Hi, I have a question", "are you a bot?", "How do I reset my password?", "thanks!", "yes"))
    assert opener["answer"] == SMALL_TALK["opener"] and about["answer"] == SMALL_TALK["about"]
    assert thanks["answer"].endswith("Is there anything else I can help you with?")
    assert yes["answer"] == SMALL_TALK["yes"]  # was "I couldn't find an answer to that…"
    assert not any(r["handoff_offered"] or r["sources"] for r in (opener, about, yes))  # no "want a human?"
    assert question["sources"]
    assert gap_sections(Console(app, "lead@example.com").text("/admin/gaps")) == {}
    counted = counters(app)
    assert (counted[("answered", "")], counted.get(("unanswered", ""), 0)) == (1, 0)


def test_a_bare_no_after_the_offer_of_a_person_is_acknowledged_and_after_an_answer_is_searched(app):
    visitor = Visitor(app.test_client())
    visitor.consent(transcripts=True, analytics=True)

    def say(text, **context):
        return visitor.client.post(f"/api/v1/conversations/{visitor.conversation_id}/messages",
                                   json={"text": text, "context": context}, headers=visitor.auth).json

    assert visitor.say("Do you sell gift cards?").json["handoff_offered"]  # "…connect you with someone?"
    declined = say("no", previous=["Do you sell gift cards?"])  # the widget sends no article after it
    assert declined["answer"] == SMALL_TALK["acknowledged"] and not declined["handoff_offered"]
    answered = visitor.say("How do I reset my password?").json
    missed = say("no", previous=["How do I reset my password?"], article=answered["sources"][0]["url"])
    assert missed["answer"] == DONT_KNOW and missed["handoff_offered"]  # the answer missed: a person offered


def test_an_answer_that_missed_gets_a_person_offered_and_counts_as_its_thumbs_down(app):
    accounts.create_user(database(app), "lead@example.com", "admin", PASSWORD)
    visitor = Visitor(app.test_client())
    visitor.consent(transcripts=True, analytics=True)
    said = ("How do I reset my password?", "that didn't help", "How do I pair the lamp with the app?")
    answered, missed, paired = (visitor.say(text).json for text in said)
    assert answered["sources"] and not answered["handoff_offered"]
    assert missed["answer"] == SMALL_TALK["missed"] and missed["handoff_offered"] and not missed["sources"]
    rate = visitor.client.post(f"/api/v1/messages/{paired['message_id']}/feedback", json={"rating": "up"},
                               headers=visitor.auth)
    assert rate.status_code == 200
    assert visitor.say("not helpful").json["answer"] == SMALL_TALK["missed"]  # a rating given stays
    exported = visitor.client.get("/api/v1/me/export", headers=visitor.auth).json
    ratings = [m["feedback"] for m in exported["conversations"][0]["messages"] if m["role"] == "bot"]
    assert ratings.count("down") == 1 and ratings.count("up") == 1  # the reset steps down, the pairing up
    gaps = gap_sections(Console(app, "lead@example.com").text("/admin/gaps"))
    assert list(gaps) == ["How do I reset my password?"]  # the question it missed, not "that didn't help"
    assert "1 thumbs down" in gaps["How do I reset my password?"]
    counted = counters(app)
    assert (counted[("answered", "")], counted.get(("unanswered", ""), 0)) == (2, 0)
    assert counted[("thumbs_down", "")] == 1 and counted[("thumbs_up", "")] == 1
