"""`bench load --baseline`: both real stacks served at once, each level measured in slices taking turns,
figures per stack and the ratios between them (DESIGN.md §11)."""
from __future__ import annotations

import json

from click.testing import CliRunner

from app.bench import bench_cli

KB = [{"id": "shipping", "title": "Shipping", "questions": ["Is shipping free?", "How long does delivery take?"]},
      {"id": "refunds", "title": "Refunds", "questions": ["When will I get my refund?", "Can I return an item?"]},
      {"id": "password", "title": "Password", "questions": ["How do I reset my password?", "I forgot my login"]}]
QUESTIONS = ["is delivery free", "when does my refund arrive", "reset password please", "how long is shipping",
             "can i send it back", "I cannot log in"]


def test_load_with_baseline_measures_both_stacks_in_turns_and_prints_ratios(tmp_path, model_cache):
    kb, queries = tmp_path / "kb.jsonl", tmp_path / "queries.jsonl"
    kb.write_text("".join(json.dumps(row) + "\n" for row in KB))
    queries.write_text("".join(json.dumps({"query": q}) + "\n" for q in QUESTIONS))
    result = CliRunner().invoke(bench_cli, ["load", "--baseline", "--concurrency", "1,3", "--seconds", "2",
                                            "--warmup", "0.5", "--rounds", "2", "--reconnect", "--kb", str(kb),
                                            "--queries", str(queries), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert "in 2 slices taking turns with the baseline" in report["note"] and "out of reach" in report["note"]
    for stack in (report, report["baseline"]):
        for level in ("1", "3"):
            figures = stack[level]
            assert figures["turns"] > 0 and figures["errors"] == 0
            assert figures["turns_per_s"] == figures["turns"] / 2  # two 1-s slices make the 2 measured seconds
            assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
            assert set(figures["rss_mb"]) == {"master", "worker 1", "worker 2"} and figures["cpu_ms_per_turn"] > 0
        assert stack["distinct_questions"] == len(QUESTIONS)
    ours, theirs = report["3"], report["baseline"]["3"]
    assert report["ratios"]["3"]["throughput"] == round(ours["turns_per_s"] / theirs["turns_per_s"], 2)
    assert report["ratios"]["3"]["memory_rss"] == round(sum(ours["rss_mb"].values())
                                                        / sum(theirs["rss_mb"].values()), 2)
