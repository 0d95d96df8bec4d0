"""CLI commands through Flask's test runner, and start-up failures as one clear line."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from app import create_app
from app.config import ROOT
from tests.conftest import KNOWLEDGE


def lazy_app(instance, **extra):
    return create_app({"INSTANCE": str(instance), "LAZY": True, **extra})


def test_db_migrate_applies_then_reports_up_to_date(instance):
    runner = lazy_app(instance).test_cli_runner()
    first = runner.invoke(args=["db", "migrate"])
    assert first.exit_code == 0 and "0001_visitors_conversations.sql" in first.output
    second = runner.invoke(args=["db", "migrate"])
    assert second.exit_code == 0 and "up to date" in second.output


def test_db_migrate_with_wrong_key_is_one_clear_line(instance):
    lazy_app(instance, DB_KEY="right").test_cli_runner().invoke(args=["db", "migrate"])
    result = lazy_app(instance, DB_KEY="wrong").test_cli_runner().invoke(args=["db", "migrate"])
    assert result.exit_code != 0
    assert "wrong key" in result.output and "Traceback" not in result.output


def test_index_build_rebuilds_only_when_articles_change(tmp_path, embedder):
    knowledge = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE, knowledge)
    app = create_app({"INSTANCE": str(tmp_path / "i"), "LAZY": True, "KNOWLEDGE_DIR": str(knowledge)})
    app.extensions["embedder"] = embedder
    runner = app.test_cli_runner()
    first = runner.invoke(args=["index", "build"])
    assert first.exit_code == 0 and "10 articles" in first.output
    current = (tmp_path / "i" / "index" / "CURRENT").read_text()
    runner.invoke(args=["index", "build"])
    assert (tmp_path / "i" / "index" / "CURRENT").read_text() == current
    with open(knowledge / "shipping.md", "a") as article:
        article.write("\n## Gift wrapping\nWe can gift-wrap any order for $3.\n")
    changed = runner.invoke(args=["index", "build"])
    assert changed.exit_code == 0 and changed.output.split()[1] != first.output.split()[1]


def test_switching_the_model_precision_rebuilds_the_index_and_a_bad_one_stops_start_up(tmp_path, embedder,
                                                                                     model_cache):
    from app.engines import index_ready
    from app.retrieval.embedder import Embedder

    def build(precision, model):
        app = create_app({"INSTANCE": str(tmp_path / "i"), "LAZY": True, "EMBEDDING_PRECISION": precision})
        app.extensions["embedder"] = model
        result = app.test_cli_runner().invoke(args=["index", "build"])
        assert result.exit_code == 0, result.output
        return (tmp_path / "i" / "index" / "CURRENT").read_text(), index_ready(app)

    floats, ready_as_float = build("float32", Embedder(exports=model_cache))
    eights, ready_as_int8 = build("int8", embedder)
    assert eights != floats and ready_as_float and ready_as_int8  # vectors of another precision: rebuilt
    assert build("int8", embedder)[0] == eights  # and not again
    result = run_cli("db", "migrate", env_extra={"QUIETDESK_INSTANCE": str(tmp_path / "j"),
                                                  "QUIETDESK_EMBEDDING_PRECISION": "int4"})
    assert result.returncode == 2 and "QUIETDESK_EMBEDDING_PRECISION='int4' is not int8 or float32" in result.stderr


def test_index_build_reports_a_broken_article(tmp_path, embedder):
    knowledge = tmp_path / "kb"
    knowledge.mkdir()
    (knowledge / "broken.md").write_text("no front matter here")
    app = create_app({"INSTANCE": str(tmp_path / "i"), "LAZY": True, "KNOWLEDGE_DIR": str(knowledge)})
    result = app.test_cli_runner().invoke(args=["index", "build"])
    assert result.exit_code != 0 and "broken: missing front matter" in result.output


def run_cli(*args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIETDESK_")} | env_extra
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_unknown_setting_stops_the_cli_with_one_line(tmp_path):
    result = run_cli("db", "migrate", env_extra={"QUIETDESK_INSTANCE": str(tmp_path),
                                                  "QUIETDESK_RETENTON_DAYS": "3"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        result.stderr.strip().splitlines()[0]] and "QUIETDESK_RETENTON_DAYS" in result.stderr


def test_serve_with_wrong_key_refuses_to_start_with_one_line(tmp_path):
    assert run_cli("db", "migrate", env_extra={"QUIETDESK_INSTANCE": str(tmp_path),
                                               "QUIETDESK_DB_KEY": "right"}).returncode == 0
    result = run_cli("serve", "--port", "1", env_extra={"QUIETDESK_INSTANCE": str(tmp_path),
                                                       "QUIETDESK_DB_KEY": "wrong"})
    assert result.returncode == 2
    assert "cannot start" in result.stderr and "wrong key" in result.stderr
    assert "Traceback" not in result.stderr and "hmac" not in result.stderr.lower()
