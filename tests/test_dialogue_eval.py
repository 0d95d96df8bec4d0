"""`run.py eval dialogue`: passage answering in dialogues (DSTC format) on a tiny KB written for these
tests, through the chat pipeline; names in earlier turns scope the search; bad files get clear errors."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.evaluation import eval_cli
from app.retrieval.dialogue import Said, Turn, fit_threshold, score, split_dialogues

HOTELS = [
    {"id": "hotel-1", "title": "ASHLEY HOTEL", "url": "kb:hotel-1", "body":
        "# ASHLEY HOTEL\n\n## What time is check-in?\nCheck-in at the Ashley Hotel starts at 2 pm.\n\n"
        "## Is there free parking?\nParking at the Ashley Hotel is free.\n\n"
        "## Guest review 1 (Couples)\nThe rooms were very quiet at night and we slept well.\n"},
    {"id": "hotel-2", "title": "GONVILLE HOTEL", "url": "kb:hotel-2", "body":
        "# GONVILLE HOTEL\n\n## What time is check-in?\nCheck-in at the Gonville Hotel starts at 3 pm.\n\n"
        "## Is there free parking?\nParking at the Gonville costs 10 GBP a day.\n\n"
        "## Guest review 1 (Families)\nThe street outside was noisy until midnight.\n"},
]


def _turn(query, label, passage, context, dialogue):
    return {"query": query, "label": label, "passage": passage, "dialogue": dialogue,
            "context": [{"role": role, "text": text} for role, text in context]}


TURNS = [
    _turn("what time can we check in there?", "hotel-2", "What time is check-in?",
          [("user", "I need a hotel in the centre"), ("system", "The Gonville Hotel is a good choice.")], "d1"),
    _turn("Is parking free there?", "hotel-1", "Is there free parking?",
          [("user", "book the ashley hotel please"), ("system", "Done, your reference is X1.")], "d2"),
    _turn("Are the rooms quiet at night?", "hotel-1", "Guest review 1 (Couples)",
          [("system", "How about the Ashley Hotel in the north?")], "d3"),
    _turn("Thank you, that is all.", None, None, [("system", "Anything else?")], "d4"),
]


@pytest.fixture
def files(tmp_path):
    kb, queries = tmp_path / "kb.jsonl", tmp_path / "queries.jsonl"
    kb.write_text("".join(json.dumps(row) + "\n" for row in HOTELS))
    queries.write_text("".join(json.dumps(row) + "\n" for row in TURNS))
    return kb, queries


def test_eval_dialogue_scores_each_row_and_context_finds_the_named_hotel(files):
    kb, queries = files
    result = CliRunner().invoke(eval_cli, ["dialogue", "--kb", str(kb), "--queries", str(queries),
                                           "--dev", str(queries), "--threshold", "0.45", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {"ours", "ours on the turn alone", "dense-only baseline", "ours without names from context",
            "ours without follow-up joining", "ours, statements joined too", "ours at the product threshold",
            "ours, without scrubbing", "ours without the unused-words cost",
            "ours, named turns scored by name", "ours, look-alikes answered"} <= set(rows)
    # Turns are scrubbed as the server does; the hotels' names are the knowledge base's, so nothing is lost.
    assert rows["ours"]["passage_accuracy"] == rows["ours, without scrubbing"]["passage_accuracy"]
    ours = rows["ours"]
    assert ours["labelled"] == 3 and ours["turns"] == 4
    assert ours["passage_accuracy"] == 1.0 and ours["article_accuracy"] == 1.0
    assert rows["ours on the turn alone"]["article_accuracy"] < 1.0  # two hotels answer the same FAQ
    assert set(ours) >= {"precision", "recall", "f1", "r_at_1", "turns_per_second", "threshold"}


def test_scores_follow_the_readme_rules():
    turns = [Turn("a", (), (("h1", "x"),), "1"), Turn("b", (), (("h1", "y"),), "1"), Turn("c", (), (), "2")]
    said = [Said("h1", "x", 0.9), Said("h2", "y", 0.8), Said("h1", "x", 0.7)]
    result = score("t", said, turns, 1.0, 0.75)  # answers a and b, abstains on c
    assert (result.precision, result.recall, result.f1) == (1.0, 1.0, 1.0)
    assert result.article_accuracy == 0.5 and result.passage_accuracy == 0.5 and result.r_at_1 == 0.5
    assert fit_threshold(said, turns) == 0.8  # 2 right either way (a; c abstained): the lower one wins the tie


def test_split_keeps_dialogues_whole_and_is_reproducible():
    rows = [{"dialogue": f"d{i % 10}", "n": i} for i in range(40)]
    dev, rest = split_dialogues(rows, seed=0)
    assert split_dialogues(rows, seed=0) == (dev, rest)
    assert not {r["dialogue"] for r in dev} & {r["dialogue"] for r in rest} and len(dev) + len(rest) == 40


@pytest.mark.parametrize("line, message", [
    ('{"query": "hi", "label": null}', "queries.jsonl:1: needs \"query\", \"label\""),
    ('{"query": "hi", "label": "hotel-1", "context": []}', "queries.jsonl:1: a labelled turn needs \"passage\""),
    ('{"query": "hi", "label": "hotel-9", "passage": "x", "context": []}', "labels not in the KB: hotel-9"),
    ('{"query": ', "queries.jsonl:1: not valid JSON"),
])
def test_bad_dialogue_files_get_a_clear_error(files, line, message):
    kb, queries = files
    queries.write_text(line + "\n")
    result = CliRunner().invoke(eval_cli, ["dialogue", "--kb", str(kb), "--queries", str(queries)])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
