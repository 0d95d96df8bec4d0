"""A damaged database is found by the operator, not by a visitor (issue 11 item 1): `db check`
names the bad page, `serve` refuses to start on it, and /health says so once a request hits it."""
from __future__ import annotations

import subprocess
import sys

from app.config import ROOT
from app.db import connect

PAGE = 4096


def fill(app, visitors: int = 150) -> None:
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    for number in range(visitors):
        db.execute("INSERT INTO visitors (token_hash) VALUES (?)", (f"hash-{number:04d}-" * 8,))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def damage(path, page: int) -> None:
    """Flip three bytes in the middle of a page (1-based page number, as SQLCipher names them)."""
    with open(path, "r+b") as handle:
        handle.seek((page - 1) * PAGE + 1500)
        flipped = bytes(b ^ 0xFF for b in handle.read(3))
        handle.seek((page - 1) * PAGE + 1500)
        handle.write(flipped)


def test_db_check_passes_a_sound_file_and_names_the_damaged_page(app, runner):
    fill(app)
    sound = runner.invoke(args=["db", "check"])
    assert sound.exit_code == 0 and "integrity check ok" in sound.output
    pages = app.config["DB_PATH"].stat().st_size // PAGE
    damage(app.config["DB_PATH"], pages - 2)
    broken = runner.invoke(args=["db", "check"])
    assert broken.exit_code == 1 and f"HMAC verification failed for page {pages - 2}" in broken.output


def test_serve_refuses_a_damaged_file_with_one_line(app, instance):
    fill(app)
    damage(app.config["DB_PATH"], app.config["DB_PATH"].stat().st_size // PAGE - 2)
    env = {"QUIETDESK_INSTANCE": str(instance), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    started = subprocess.run([sys.executable, "run.py", "serve", "--port", "0"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    lines = [line for line in started.stderr.splitlines() if line.strip()]
    assert started.returncode == 2
    assert lines[-1].startswith("quietdesk: cannot start: ") and "damaged (HMAC verification failed" in lines[-1]
    assert "Traceback" not in started.stderr


def test_health_reports_a_database_damaged_while_serving(app, client):
    fill(app, 300)
    assert client.get("/api/v1/health").status_code == 200
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'visitors'").fetchone()[0]
    db.close()
    damage(app.config["DB_PATH"], root)  # every visitor lookup passes through this page
    hit = client.post("/api/v1/sessions")
    assert hit.status_code == 500 and hit.json["error"] == "internal_error"
    assert "lost" not in hit.json["message"]  # no promise the server cannot know
    health = client.get("/api/v1/health")
    assert health.status_code == 503 and health.json["checks"]["database"] == "damaged"


def test_a_checkpoint_cut_short_by_a_crash_is_not_damage(app, tmp_path):
    """Pages whose committed copies are still in the write-ahead log are sound (SQLite reads the log's copy),
    whatever the file holds for them — here six pages of zeros at its end, as a crash mid-checkpoint can
    leave. SQLCipher's page check reads the file alone and called them damage; the log is copied in first
    now, and a damaged page the log does not cover is still found."""
    from app.integrity import problems

    fill(app)
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    db.execute("PRAGMA wal_autocheckpoint = 0")  # the new pages stay in the log, as in a busy server
    for number in range(150):
        db.execute("INSERT INTO visitors (token_hash) VALUES (?)", (f"late-{number:04d}-" * 8,))
    crashed = tmp_path / "crashed.db"  # the files as a SIGKILL leaves them: log and all
    for suffix in ("", "-wal"):
        crashed.with_name(crashed.name + suffix).write_bytes(
            app.config["DB_PATH"].with_name(app.config["DB_PATH"].name + suffix).read_bytes())
    db.close()
    size = crashed.stat().st_size
    with crashed.open("ab") as handle:  # the checkpoint's size hint, then the kill
        handle.write(bytes(6 * PAGE))
    assert problems(crashed, app.extensions["db_key"]) == []
    check = connect(crashed, app.extensions["db_key"])
    assert check.execute("SELECT count(*) FROM visitors").fetchone()[0] == 300  # nothing committed was lost
    check.close()
    damage(crashed, size // PAGE - 2)
    assert problems(crashed, app.extensions["db_key"])  # a page the log does not cover is still damage
