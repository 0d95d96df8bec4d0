"""A message asking for a person starts the handoff; a question that only mentions someone is searched.

Taking a question for a request costs the visitor the answer the articles had, and a team member's time:
"Somebody has stolen my card, I need help please." was taken as a request, as were 44 more of the 37,097
labelled questions of other intents in banking77, CLINC150, HINT3 and DSTC10/11 (`python run.py eval
requests`, README). The real sentences below are quoted from those sets (shared/eval/README.md):
banking77 (PolyAI, CC BY 4.0), CLINC150 (clinc/oos-eval, CC BY 3.0), HINT3 (hellohaptik, ODbL 1.0),
DSTC11 Track 5 (alexa, CDLA-Sharing 1.0).
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.chat.intents import wants_human
from app.evaluation import eval_cli


@pytest.mark.parametrize("text", [
    # asked in words on HINT3's bots (their CHAT_WITH_AGENT intents)
    "need to chat with a representative", "Sir I want to talk to an agent", "I am talk with your agent",
    "Can I talk to your coustmer executive", "I need customer support", "connect me to supervisor",
    "hello, is ther anyone available to assist", "real person available", "human to answer", "Live agent",
    "I ask a number of question to the bot but the query is not answered can you connect to Agent",
    # and as the widget's visitors ask
    "Can I talk to a human please?", "agent", "a human please", "is anyone there?", "I need a human",
    "I want someone to call me back", "I don't want a bot, get me a human", "I want to speak to a manager",
    "Kann ich mit einem Mitarbeiter sprechen?", "Ich möchte mit einem Menschen sprechen", "Mensch bitte",
    "Je voudrais parler à un conseiller",
    # a person by name, as the scrubber leaves it ("can I talk to Kim again?")
    "can I talk to <PERSON_1> again?", "connect me back to <PERSON_2>", "Kann ich mit <PERSON_1> sprechen?",
    # a sentence asks for a person beside one about the bot, or after an account of what went wrong
    "yes, a human please", "ok agent",  # to the offer of one
    "Are you a bot? I want to talk to a human", "are you a real person? if not can I speak to someone",
    "You are a bot. Get me a human please.", "Hi. Agent please", "I've waited 20 minutes.\nIs anybody there?",
    "I've been trying to pair my lamp for an hour, reset it three times, changed my router to 2.4 GHz and it "
    "still fails with E12. This is ridiculous, can I please talk to a real person?",
])
def test_a_request_for_a_person_is_recognised(text):
    assert wants_human(text)


@pytest.mark.parametrize("text", [
    # someone else is what the question is about (banking77, CLINC150)
    "Somebody has stolen my card, I need help please.",
    "i need to report that someone ran off with my td bank card earlier",
    "I want to cancel my card. I think someone else is using it.",
    "What should I do if I want to get another card for someone in my family?",
    "Why can't the person I sent the money transfer to see it?",
    "I made a transfer and the person I transferred the money to didn't receive the right amount? Why did "
    "this happen and how do I get the rest of the money to them?",
    "i want to get an uber for one person to go to the library",
    # a person is wanted, but not in this chat, or not at all
    "my check engine light is on and i need someone to look at it",
    "I want the staff to be very cordial.",  # DSTC11
    "I want to close my account due to poor customer service.",
    # it asks how things are done, or about the bot
    "Do I need to speak to a representative to change my pin?",
    "do i have to talk to someone to close an account or can i in the app",
    "should i contact customer support if i can't edit details",
    "i need to know whether you are a human or are a computer", "are you a human?",
    "How do I add a person to my account?",
    # declined (HINT3, Curekart; then as visitors put it)
    "I do not need chat agent", "I don't want to talk to a human", "I don't want to talk to <PERSON_1>",
    # someone by name who is not asked for
    "I talked to <PERSON_1> yesterday about my refund", "I want to send a gift to <PERSON_1>",
    # no sentence of it asks for one (HINT3, SOFMattress: a call for attention before the question)
    "Is there anybody? I want to purchase this SOF ergo 4ftX6ft. Will you send to Nipani 591237 safely "
    "without damage?", "Do I have to talk to someone to close my account? I'd rather do it myself.",
    "I don't need a person. How do I reset my password?",
    "My neighbour says someone from your company called her. I want to know who has my address?",
])
def test_a_question_that_only_mentions_someone_is_no_request(text):
    assert not wants_human(text)


def test_eval_requests_counts_both_sides_and_names_a_malformed_line(tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text("".join(json.dumps(row) + "\n" for row in [
        {"query": "Chat with an Agent", "label": "CHAT_WITH_AGENT"},
        {"query": "complaint", "label": "CHAT_WITH_AGENT"},
        {"query": "Somebody has stolen my card, I need help please.", "label": "lost_or_stolen_card"},
        {"query": "is there someone i can talk to", "label": None},
        {"query": "hello, can you help me?", "label": "greeting"},  # answered without a search
        {"query": "thanks!", "label": None}]), encoding="utf-8")
    kb = tmp_path / "kb.jsonl"
    kb.write_text(json.dumps({"id": "CHAT_WITH_AGENT", "questions": ["I need customer support"]}) + "\n",
                  encoding="utf-8")
    run = CliRunner().invoke(eval_cli, ["requests", "--queries", str(queries), "--kb", str(kb),
                                        "--label", "CHAT_WITH_AGENT", "--show"])
    assert run.exit_code == 0
    assert "CHAT_WITH_AGENT: 2 of 3 taken" in run.output and "1 of 4 taken (25.00 %)" in run.output
    assert "with an intent taken as small talk: 1 of 5 (opener 1)" in run.output  # "thanks!" has none
    assert "small talk (opener) [greeting] hello, can you help me?" in run.output
    assert "missed [CHAT_WITH_AGENT] complaint" in run.output
    assert "taken  [None] is there someone i can talk to" in run.output
    kb.write_text('{"id": "x", "questions": "not a list"}\n', encoding="utf-8")
    run = CliRunner().invoke(eval_cli, ["requests", "--queries", str(queries), "--kb", str(kb), "--label", "x"])
    assert run.exit_code == 1 and f"{kb}:1: needs" in run.output and "Traceback" not in run.output
