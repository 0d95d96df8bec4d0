"""`run.py eval`: retrieval quality on a small fixture KB (written for these tests), and clear
errors for bad evaluation files."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from app.chat.pipeline import Pipeline
from app.evaluation import eval_cli, pipeline_answerer
from app.retrieval import index as index_store
from app.retrieval.articles import load_articles
from app.retrieval.evaluate import engine_configs, evaluate
from app.retrieval.live import LiveIndex
from tests.conftest import KNOWLEDGE, ROOT
from tests.test_answers import HOTELS, hotel_articles

FIXTURES = ROOT / "tests" / "fixtures"
KB, DEV, QUERIES = FIXTURES / "eval_kb.jsonl", FIXTURES / "eval_dev.jsonl", FIXTURES / "eval_queries.jsonl"


@pytest.fixture(scope="module")
def results(embedder):
    return {r.name: r for r in evaluate(KB, QUERIES, DEV, embedder, answerer=pipeline_answerer)}


def test_our_engine_answers_every_fixture_question_and_refuses_the_rest(results):
    ours = results["ours"]
    assert (ours.in_scope, ours.out_of_scope) == (4, 2)
    assert ours.accuracy == 1.0 and ours.recall_at_5 == 1.0 and ours.mrr == 1.0
    assert ours.oos_recall == 1.0 and ours.abstention_rate == 0.0
    assert 0 < ours.threshold < 1 and ours.queries_per_second > 0


def test_baselines_and_one_ablation_per_mechanism_are_reported(results):
    assert {"dense-only baseline", "lexical-only baseline (BM25)", "ours without classifier",
            "ours without lexical", "ours without aggregation (top 1)", "ours, margin as confidence"} <= set(results)
    assert results["dense-only baseline"].recall_at_5 == 1.0


def test_without_dev_nothing_abstains(embedder):
    ours = evaluate(KB, QUERIES, None, embedder, answerer=pipeline_answerer)[0]
    assert ours.threshold == 0.0 and ours.oos_recall == 0.0 and ours.accuracy == 1.0


@pytest.mark.parametrize("kb, queries, message", [
    ("missing.jsonl", "eval_queries.jsonl", "cannot read"),
    ("empty.jsonl", "eval_queries.jsonl", "no entries"),
    ("eval_kb.jsonl", "malformed.jsonl", "malformed.jsonl:2: not valid JSON"),
    ("eval_kb.jsonl", "unlabelled.jsonl", "unlabelled.jsonl:1: needs \"query\" and \"label\""),
    ("eval_kb.jsonl", "unknown_label.jsonl", "labels not in the KB: no_such_article"),
    ("bad_kb.jsonl", "eval_queries.jsonl", "bad_kb.jsonl:1: needs id, title"),
])
def test_bad_eval_files_get_a_clear_error(tmp_path, kb, queries, message):
    for name in ("eval_kb.jsonl", "eval_queries.jsonl"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "empty.jsonl").write_text("\n")
    (tmp_path / "malformed.jsonl").write_text('{"query": "a", "label": null}\n{"query": \n')
    (tmp_path / "unlabelled.jsonl").write_text('{"query": "how do I reset my password"}\n')
    (tmp_path / "unknown_label.jsonl").write_text('{"query": "hi", "label": "no_such_article"}\n')
    (tmp_path / "bad_kb.jsonl").write_text('{"title": "no id"}\n')
    result = CliRunner().invoke(eval_cli, ["retrieval", "--kb", str(tmp_path / kb),
                                           "--queries", str(tmp_path / queries)])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_eval_retrieval_cli_prints_one_json_object(results):
    output = CliRunner().invoke(eval_cli, ["retrieval", "--kb", str(KB), "--queries", str(QUERIES),
                                           "--dev", str(DEV), "--json"]).output
    printed = json.loads(output)
    assert printed["ours"]["accuracy"] == results["ours"].accuracy
    assert set(printed["ours"]) >= {"accuracy", "recall_at_5", "mrr", "oos_recall", "abstention_rate",
                                    "queries_per_second", "threshold"}


def test_questions_front_matter_is_honoured_by_the_server(tmp_path, scrubber, embedder):
    knowledge = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE, knowledge)
    (knowledge / "noises.md").write_text(
        "---\ntitle: Sounds your lamp makes\nurl: https://help.example/noises\nquestions:\n"
        "  - my lamp is buzzing\n  - there is a humming sound from the bulb\n---\n"
        "## Normal operation\nA faint sound during dimming is expected from the driver electronics.\n"
        "## When to contact us\nIf it is loud or smells hot, unplug it and contact support.\n")
    index = index_store.build(load_articles(knowledge), embedder, 900)
    answer = Pipeline(scrubber, embedder, LiveIndex(index), 0.45).answer("why is my lamp buzzing?")
    assert [s.url for s in answer.sources] == ["https://help.example/noises#normal-operation"]
    assert "dimming" in answer.text  # the answer quotes the article, not the question


def test_eval_pii_cli_prints_ours_and_stock_side_by_side():
    result = CliRunner().invoke(eval_cli, ["pii", "--data", str(FIXTURES / "pii_small.jsonl"),
                                           "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert set(printed) == {"ours", "stock"}
    assert printed["ours"]["n_sentences"] == printed["stock"]["n_sentences"] == 3
    assert printed["ours"]["per_type_recall"]["EMAIL_ADDRESS"] == 1.0
    assert 0 < printed["ours"]["median_ms"]


def test_eval_pii_reports_a_malformed_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "spans": []}\n{"text": "x", "spans": [{"start": 5, "end": 1}]}\n')
    result = CliRunner().invoke(eval_cli, ["pii", "--data", str(bad)])
    assert result.exit_code == 1 and "line 2" in result.output and "Traceback" not in result.output


def test_fixed_threshold_row_scores_out_of_scope_as_a_class(embedder):
    rows = {r.name: r for r in evaluate(KB, QUERIES, None, embedder, fixed=0.45,
                                        answerer=pipeline_answerer)}
    fixed = rows["ours at the product threshold"]
    assert fixed.threshold == 0.45 and rows["ours"].threshold == 0.0
    assert fixed.oos_recall > rows["ours"].oos_recall == 0.0  # without a threshold nothing abstains
    assert 0 < fixed.overall <= 1


def test_eval_retrieval_decides_as_the_chat_pipeline_does(tmp_path, embedder):
    """The published figures are what the server says: six inns answer "Is parking available?" alike, so
    the chat pipeline asks which one is meant — an abstention in the figures, as it is in the chat — while
    scoring the search's best article alone would count a guess among the inns. Named, it is answered."""
    kb = tmp_path / "inns.jsonl"
    kb.write_text("".join(json.dumps({"id": slug, "title": title, "body": text.split("---\n")[-1]}) + "\n"
                          for (slug, text), (title, _, _) in zip(hotel_articles().items(), HOTELS)))
    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps({"query": "Is parking available?", "label": "millbrook-lodge"}) + "\n"
                       + json.dumps({"query": "Is parking available at the Millbrook Lodge?",
                                     "label": "millbrook-lodge"}) + "\n")
    served = evaluate(kb, queries, None, embedder, fixed=0.45, answerer=pipeline_answerer)[-1]
    assert (served.abstention_rate, served.accuracy) == (0.5, 0.5)  # asked which one; answered the named one
    guessed = evaluate(kb, queries, None, embedder, fixed=0.45)[-1]  # the search's decision from its parts
    assert guessed.abstention_rate == 0.0


def test_eval_gaps_scores_grouping_against_labels(tmp_path):
    lines = [("a_meaning", "What is the meaning of life?"),
             ("b_store", "Do you have a physical store in Berlin?"), ("b_store", "Can I visit your store in person?"),
             ("c_gift", "Do you sell gift cards?"), ("c_gift", "Can I buy a gift card for a friend?"),
             ("c_gift", "Are gift vouchers available?"), ("oos", "flip a coin")]
    queries = tmp_path / "labelled.jsonl"
    queries.write_text("".join(json.dumps({"query": q, "label": label}) + "\n" for label, q in lines))
    output = CliRunner().invoke(eval_cli, ["gaps", "--queries", str(queries), "--intents", "3"]).output
    assert output.startswith("6 questions from 3 intents")
    product = next(line for line in output.splitlines() if line.endswith("<- product")).split()
    assert product[:3] == ["0.45", "3", "1.000"]  # three groups, exactly the labelled ones


def test_eval_gaps_and_bench_index_name_a_malformed_file_without_a_traceback(tmp_path):
    from app.bench import bench_cli
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "hi", "label": "x"}\nnot json\n')
    for command, args in ((eval_cli, ["gaps", "--queries", str(bad)]), (bench_cli, ["index", "--kb", str(bad)])):
        result = CliRunner().invoke(command, args)
        assert result.exit_code == 1 and "bad.jsonl:2: not valid JSON" in result.output
        assert "Traceback" not in result.output


def test_queries_are_scrubbed_first_and_the_raw_row_shows_what_scrubbing_costs(embedder, scrubber):
    """With the product's scrubber every query is scored as the server would see it; the last row is
    our engine on the raw text. A scrubber that ate the questions would show as lost accuracy."""
    plain = {r.name: r for r in evaluate(KB, QUERIES, DEV, embedder)}
    scrubbed = {r.name: r for r in evaluate(KB, QUERIES, DEV, embedder, scrub=lambda t: scrubber.scrub(t).text)}
    assert scrubbed["ours, without scrubbing"].accuracy == plain["ours"].accuracy
    assert abs(scrubbed["ours"].accuracy - plain["ours"].accuracy) <= 0.05
    eaten = {r.name: r for r in evaluate(KB, QUERIES, DEV, embedder, scrub=lambda t: "<PERSON_1>")}
    assert eaten["ours"].accuracy < eaten["ours, without scrubbing"].accuracy == plain["ours"].accuracy


def test_eval_scores_ours_as_the_server_is_configured_and_switches_the_unused_words_cost():
    off, on = engine_configs(0.0), engine_configs(0.2)
    assert off["ours"][0].unused == 0.0 and off["ours with the unused-words cost 0.2"][0].unused == 0.2
    assert on["ours"][0].unused == 0.2 and on["ours without the unused-words cost"][0].unused == 0.0
    assert on["ours without classifier"][0].unused == 0.2  # each ablation is of ours as configured
    assert on["dense-only baseline"][0].unused == 0.0
