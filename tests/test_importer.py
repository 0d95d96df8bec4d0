"""Knowledge import on real help pages (Nextcloud's admin manual, CC BY 3.0; see
tests/fixtures/import/SOURCE.md): every source kind, re-imports, hand-written articles, bad input, the CLI,
the console's preview and publish, and a question answered from an imported article."""
from __future__ import annotations

import io
import json
import random
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app
from app.admin import accounts
from app.config import ROOT
from app.db import connect, get_db
from app.retrieval.importer import sources
from app.retrieval.importer.cli import import_command
from app.retrieval.importer.convert import convert
from app.retrieval.importer.items import SourceError
from app.retrieval.importer.writer import plan, publish
from app.retrieval import index as index_store
from app.retrieval.articles import load_articles, sections
from tests.conftest import TEST_SUBJECT_KEY, Visitor

FIXTURES = ROOT / "tests" / "fixtures" / "import"
HTML = FIXTURES / "html"
BASE = "https://docs.nextcloud.com/server/latest/admin_manual/"
PASSWORD = "violet-harbour-lantern-42"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BOILERPLATE = ("Search docs", "Edit on GitHub", "Copyright", "Nextcloud GmbH", "jQuery", "SphinxRtdTheme",
               "Previous", "Release notes", "Windmill Workflows", ".css", "<")


def run_import(source: Path, folder: Path, base_url: str = BASE):
    return publish(plan(convert(source, base_url), folder))


def article(folder: Path, slug: str) -> str:
    return (folder / f"{slug}.md").read_text(encoding="utf-8")


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def zip_of_pages(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for page in sorted(HTML.rglob("*.html")):
            archive.write(page, page.relative_to(HTML).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def test_html_pages_keep_headings_lists_links_and_drop_the_site_around_them(tmp_path):
    planned = run_import(HTML, tmp_path)
    assert planned.summary == "3 added, 0 updated, 0 unchanged, 0 skipped"
    text = article(tmp_path, "backup")
    assert text.startswith("---\ntitle: Backup\nurl: https://docs.nextcloud.com/server/latest/admin_manual/"
                           "maintenance/backup.html\nsource: maintenance/backup.html\nupdated: ")
    headings = [h for h, _ in sections(load_articles(tmp_path)[0].body)]
    assert headings == ["Backup", "Maintenance mode", "Backup folders", "Backup database"]
    assert "### MySQL/MariaDB" in text and "### PostgreSQL" in text
    assert "1. The config folder\n2. The data folder\n3. The theme folder\n4. The database" in text
    assert f"[Restoring backup]({BASE}maintenance/restore.html)" in text
    assert "```\n$ sudo -u www-data php occ maintenance:mode --on\n```" in text
    assert "`maintenance:mode` locks the sessions" in text
    assert "**Wrong password. Reset it?**" in article(tmp_path, "resetting-a-user-password")  # emphasis kept
    for slug in ("backup", "out-of-office-feature", "resetting-a-user-password"):
        body = article(tmp_path, slug).split("---\n", 2)[2]
        assert [b for b in BOILERPLATE if b in body.replace("<?php", "")] == []


def test_zendesk_and_intercom_exports_skip_drafts(tmp_path):
    for export, source in (("zendesk-articles.json", "zendesk:360000101"),
                           ("intercom-articles.json", "intercom:9101")):
        folder = tmp_path / export
        planned = run_import(FIXTURES / export, folder)
        assert planned.summary == "3 added, 0 updated, 0 unchanged, 1 skipped"
        (skipped,) = [c for c in planned.changes if c.action == "skipped"]
        assert (skipped.origin, skipped.reason) == (f"{export}: Restoring backup", "draft")
        assert not (folder / "restoring-backup.md").exists()
        text = article(folder, "backup")
        assert f"source: {source}\n" in text and "## Backup database" in text
        assert "1. The config folder" in text
    assert "updated: '2025-03-14T09:30:00Z'" in article(tmp_path / "zendesk-articles.json", "backup")
    assert "updated: '2024-03-21T05:46:40Z'" in article(tmp_path / "intercom-articles.json", "backup")


def test_a_bare_list_export_is_accepted(tmp_path):
    entries = json.loads((FIXTURES / "zendesk-articles.json").read_text())["articles"]
    (tmp_path / "bare.json").write_text(json.dumps(entries))
    planned = run_import(tmp_path / "bare.json", tmp_path / "kb")
    assert planned.summary == "3 added, 0 updated, 0 unchanged, 1 skipped"


def test_pdf_sections_come_from_its_outline(tmp_path):
    run_import(FIXTURES / "backup.pdf", tmp_path)
    (loaded,) = load_articles(tmp_path)
    assert loaded.title == "Backup" and loaded.url == BASE + "backup.pdf"
    headings = [h for h, _ in sections(loaded.body)]
    assert headings[1:4] == ["Maintenance mode", "Backup folders", "Backup database"]
    assert "1. The config folder" in loaded.body


def test_markdown_is_imported_as_is(tmp_path):
    source = tmp_path / "faq.md"
    source.write_text("# Resetting a password\n\nUse **Forgot password** on the [sign-in page]"
                      "(https://x.example/).\n\n## When the email does not arrive\n\n"
                      "- check spam\n- wait ten minutes\n")
    run_import(source, tmp_path / "kb", base_url="https://help.example.com")
    (loaded,) = load_articles(tmp_path / "kb")
    assert (loaded.title, loaded.url) == ("Resetting a password", "https://help.example.com/faq.md")
    assert "## When the email does not arrive\n\n- check spam" in loaded.body


def test_a_zip_is_read_safely_and_duplicates_are_reported(tmp_path):
    page = (HTML / "maintenance" / "backup.html").read_bytes()
    evil = b"<html><title>Escape</title><main><h1>../../outside</h1><p>Nothing gets out.</p></main></html>"
    source = zip_of_pages(tmp_path / "help.zip", {"copy/backup.html": page, "../../outside.html": evil,
                                                  "_static/theme.css": b"body{}"})
    folder = tmp_path / "deep" / "kb"
    planned = run_import(source, folder)
    assert planned.summary == "4 added, 0 updated, 0 unchanged, 1 skipped"
    assert [c.reason for c in planned.changes if c.action == "skipped"] == ["duplicate of copy/backup.html"]
    assert sorted(files(tmp_path)) == ["deep/kb/backup.md", "deep/kb/out-of-office-feature.md",
                                       "deep/kb/outside.md", "deep/kb/resetting-a-user-password.md",
                                       "help.zip"]


def test_a_zip_bomb_is_refused_before_it_fills_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_TOTAL_BYTES", 1_000_000)
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("page.html", b"<p>" + b"a" * 5_000_000 + b"</p>")
    assert (tmp_path / "bomb.zip").stat().st_size < 50_000
    with pytest.raises(SourceError, match="unpacks to more than"):
        convert(tmp_path / "bomb.zip")


def test_reimport_is_idempotent_and_reports_what_changed(tmp_path):
    pages = tmp_path / "pages"
    shutil.copytree(HTML, pages)
    folder = tmp_path / "kb"
    run_import(pages, folder)
    # Phrasings added to an imported article later (console: closing the loop) survive its updates.
    text = article(folder, "backup")
    text = text.replace("---\n# Backup", "questions:\n- How do I back up?\n---\n# Backup", 1)
    (folder / "backup.md").write_text(text)
    assert run_import(pages, folder).summary == "0 added, 0 updated, 3 unchanged, 0 skipped"
    page = pages / "maintenance" / "backup.html"
    page.write_text(page.read_text().replace("four main things", "four essential things"))
    planned = run_import(pages, folder)
    assert planned.summary == "0 added, 1 updated, 2 unchanged, 0 skipped"
    assert [(c.action, c.slug) for c in planned.changes if c.action != "unchanged"] == [("updated", "backup")]
    assert "four essential things" in article(folder, "backup")
    assert load_articles(folder)[0].questions == ("How do I back up?",)
    assert sorted(p.name for p in folder.iterdir()) == ["backup.md", "out-of-office-feature.md",
                                                         "resetting-a-user-password.md"]


def test_a_hand_written_article_is_never_touched(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    mine = "---\ntitle: Backup\nurl: https://help.example.com/backup\n---\n# Backup\n\nOur own words.\n"
    (folder / "backup.md").write_text(mine)
    for summary in ("2 added, 0 updated, 0 unchanged, 1 skipped",
                    "0 added, 0 updated, 2 unchanged, 1 skipped"):
        planned = run_import(HTML, folder)
        assert planned.summary == summary
        (skipped,) = [c for c in planned.changes if c.action == "skipped"]
        assert skipped.reason == "a hand-written article backup.md has this name; it is left alone"
        assert (folder / "backup.md").read_text() == mine


@pytest.mark.parametrize("source, message", [
    ("broken.zip", "broken.zip: not a readable zip file"),
    ("scanned.pdf", "scanned.pdf: unreadable: the PDF has no text layer (a scan or images only)"),
])
def test_broken_input_gives_one_clear_line_and_writes_nothing(tmp_path, source, message):
    folder = tmp_path / "kb"
    folder.mkdir()
    command = [sys.executable, "run.py", "knowledge", "import", str(FIXTURES / source), "--into", str(folder)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list(folder.iterdir()) == []


def test_cli_prints_a_line_per_article_and_a_summary(tmp_path):
    runner = CliRunner()
    folder = tmp_path / "kb"
    first = runner.invoke(import_command, [str(FIXTURES / "zendesk-articles.json"), "--into", str(folder)])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[:4] == [
        "added      backup.md  (zendesk-articles.json: Backup)",
        "added      out-of-office-feature.md  (zendesk-articles.json: Out-of-office feature)",
        "added      resetting-a-user-password.md  (zendesk-articles.json: Resetting a user password)",
        "skipped    zendesk-articles.json: Restoring backup: draft"]
    assert lines[4] == f"3 added, 0 updated, 0 unchanged, 1 skipped — {folder}"
    again = runner.invoke(import_command, [str(FIXTURES / "zendesk-articles.json"), "--into", str(folder)])
    assert again.exit_code == 0 and "0 added, 0 updated, 3 unchanged, 1 skipped" in again.output
    dry = runner.invoke(import_command, [str(HTML), "--into", str(tmp_path / "dry"), "--dry-run"])
    assert dry.exit_code == 0 and "3 added" in dry.output and not (tmp_path / "dry").exists()


def test_imported_articles_answer_a_question(tmp_path, embedder, scrubber, monkeypatch):
    folder = tmp_path / "kb"
    run_import(HTML, folder)
    articles = load_articles(folder)
    assert [a.title for a in articles] == ["Backup", "Out-of-office feature", "Resetting a user password"]
    for name in [k for k in __import__("os").environ if k.startswith("QUIETDESK_")]:
        monkeypatch.delenv(name)
    app = create_app({"INSTANCE": str(tmp_path / "instance"), "TESTING": True, "SCRUBBER": scrubber,
                      "EMBEDDER": embedder, "INDEX": index_store.build(articles, embedder, 900),
                      "KNOWLEDGE_DIR": str(folder), "SUBJECT_KEY": TEST_SUBJECT_KEY})
    reply = Visitor(app.test_client()).say("How do I turn off the out-of-office feature for all users?")
    assert reply.status_code == 200, reply.json
    assert reply.json["sources"][0]["title"] == "Out-of-office feature"
    assert "hide_absence_settings" in reply.json["answer"]


# The console: admins upload, preview and publish; the same writer as the CLI.

@pytest.fixture
def console(app, tmp_path):
    app.config["KNOWLEDGE_DIR"] = str(tmp_path / "kb")
    (tmp_path / "kb").mkdir()
    db = connect(app.config["DB_PATH"], app.extensions["db_key"])
    accounts.create_user(db, "lead@example.com", "admin", PASSWORD)
    accounts.create_user(db, "rev@example.com", "reviewer", PASSWORD)
    return app.test_client()


def sign_in(client, email="lead@example.com") -> str:
    token = CSRF.search(client.get("/admin/login").get_data(as_text=True))[1]
    signed_in = client.post("/admin/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    return CSRF.search(client.get("/admin/").get_data(as_text=True))[1]


def upload(client, token, name, data):
    form = {"csrf_token": token, "file": (io.BytesIO(data), name)}
    return client.post("/admin/knowledge/import", data=form, content_type="multipart/form-data")


def test_console_previews_then_publishes_and_audits(console, app, tmp_path):
    token = sign_in(console)
    source = zip_of_pages(tmp_path / "pages.zip", {
        "notes.md": b"# Note\n\n<script>alert(1)</script> [x](javascript:alert(1))\n",
        "_static/logo.png": random.Random(7).randbytes(80_000)})  # an asset: passed over
    assert source.stat().st_size > app.config["MAX_REQUEST_BYTES"]  # the form's own, larger limit applies
    response = upload(console, token, "pages.zip", source.read_bytes())
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = console.get(preview_url).get_data(as_text=True)
    assert "4 added, 0 updated, 0 unchanged, 0 skipped" in page and "Nothing is published yet" in page
    assert "<h3>Maintenance mode</h3>" in page and "<li>The config folder</li>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    assert list((tmp_path / "kb").iterdir()) == []  # nothing published by a preview
    published = console.post(preview_url + "/publish", data={"csrf_token": token})
    assert published.status_code == 302
    assert sorted(p.name for p in (tmp_path / "kb").iterdir()) == [
        "backup.md", "note.md", "out-of-office-feature.md", "resetting-a-user-password.md"]
    knowledge_page = console.get("/admin/knowledge").get_data(as_text=True)
    assert "Published: 4 added, 0 updated, 0 unchanged, 0 skipped" in knowledge_page
    assert "Rebuild index now" in knowledge_page
    assert console.get(preview_url).status_code == 404  # the pending upload is gone
    assert list((Path(app.instance_path) / "imports").iterdir()) == []
    with app.app_context():
        rows = get_db().execute("SELECT action, detail FROM audit_log")
        actions = [(row["action"], row["detail"]) for row in rows]
    assert ("preview_import", "4 added, 0 updated, 0 unchanged, 0 skipped") in actions
    assert ("publish_import", "4 added, 0 updated, 0 unchanged, 0 skipped") in actions


def test_console_explains_an_unreadable_upload(console, tmp_path):
    token = sign_in(console)
    response = upload(console, token, "help.zip", (FIXTURES / "broken.zip").read_bytes())
    page = console.get(response.headers["Location"])
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Nothing can be imported from this file: help.zip: not a readable zip file" in text
    assert "Publish" not in text
    wrong = upload(console, token, "notes.docx", b"PK")
    after = console.get(wrong.headers["Location"]).get_data(as_text=True)
    assert "Not imported: notes.docx: choose an HTML page" in after


def test_console_import_is_for_admins_and_size_limited(console, app):
    token = sign_in(console, "rev@example.com")
    assert upload(console, token, "pages.html", b"<h1>x</h1><p>y</p>").status_code == 403
    assert "Import articles" not in console.get("/admin/knowledge").get_data(as_text=True)
    console.post("/admin/logout", data={"csrf_token": token})
    token = sign_in(console)
    app.config["IMPORT_MAX_BYTES"] = 100_000
    assert upload(console, token, "big.html", b"<p>" + b"a" * 200_000 + b"</p>").status_code == 413
