"""Knowledge import in real headless Chromium against a real server: an admin uploads a zip of real help
pages, reads the preview, publishes, rebuilds the index, and the bot then answers from an imported
article. The preview's screenshot goes to test-artifacts/import-preview.png and /tmp/import-preview.png."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from app.bench import start_server
from app.config import ROOT
from tests.browser import ARTIFACTS, browser, fits, needs_chromium, shot  # noqa: F401 (browser is a fixture)
from tests.conftest import call

pytestmark = needs_chromium
PASSWORD = "violet-harbour-lantern-42"
HTML = ROOT / "tests" / "fixtures" / "import" / "html"
BASE = "https://docs.nextcloud.com/server/latest/admin_manual/"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("import")
    knowledge = root / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge)  # publishing must not touch the repository's articles
    log = open(root / "server.log", "w")
    settings = {"QUIETDESK_KNOWLEDGE_DIR": str(knowledge)}
    process, base, _ = start_server(root / "instance", log=log, settings=settings)
    created = subprocess.run([sys.executable, "run.py", "admin", "create", "--email", "lead@example.com"],
                             cwd=ROOT, input=PASSWORD + "\n", text=True, capture_output=True,
                             env={"QUIETDESK_INSTANCE": str(root / "instance"), "PATH": "/usr/bin:/bin"})
    assert created.returncode == 0, created.stderr
    yield base, root, knowledge
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


def test_upload_preview_publish_rebuild_and_answer(browser, server, tmp_path):
    base, root, knowledge = server
    before = {p.name: p.read_bytes() for p in knowledge.iterdir()}
    upload = tmp_path / "nextcloud-help.zip"
    with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as archive:
        for page in sorted(HTML.rglob("*.html")):
            archive.write(page, page.relative_to(HTML).as_posix())
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(base + "/admin/login")
    page.get_by_label("Email").fill("lead@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Knowledge base").click()
    page.get_by_label("File to import").set_input_files(str(upload))
    page.get_by_label("Where these pages are published").fill(BASE)
    page.get_by_role("button", name="Preview import").click()

    page.get_by_role("heading", name="Import preview: nextcloud-help.zip").wait_for()
    main = page.locator("main")
    assert ("Nothing is published yet. If it is published: 3 added, 0 updated, 0 unchanged, 0 skipped."
            in main.inner_text())
    backup = page.locator("article", has=page.get_by_role("heading", name="Backup", exact=True))
    assert backup.get_by_role("heading", name="Maintenance mode").count() == 1
    assert backup.get_by_role("listitem").filter(has_text="The config folder").count() == 1
    assert backup.get_by_role("link", name="Enabling MySQL 4-byte support").count() == 1
    assert "Search docs" not in main.inner_text() and "Copyright" not in main.inner_text()
    assert fits(page)
    shot(page, "import-preview")
    page.screenshot(path=str(tmp_path / "import-preview.png"), full_page=True)
    shutil.copy(ARTIFACTS / "import-preview.png", "/tmp/import-preview.png")
    assert {p.name: p.read_bytes() for p in knowledge.iterdir()} == before  # a preview publishes nothing

    page.get_by_role("button", name="Publish 3 article(s)").click()
    page.get_by_text("Published: 3 added, 0 updated, 0 unchanged, 0 skipped.").wait_for()
    assert "changed since the last build" in page.locator(".facts").inner_text()
    imported = {"backup.md", "out-of-office-feature.md", "resetting-a-user-password.md"}
    assert {p.name for p in knowledge.iterdir()} == set(before) | imported
    # The hand-written articles are untouched.
    assert all((knowledge / name).read_bytes() == data for name, data in before.items())
    page.get_by_role("button", name="Rebuild index now").click()
    deadline = time.monotonic() + 240
    while "up to date" not in page.locator(".facts").inner_text():
        assert time.monotonic() < deadline, "the rebuild did not finish"
        time.sleep(2)
        page.reload()
    assert page.get_by_role("link", name="Out-of-office feature").count() == 1
    shot(page, "import-knowledge-after-publish")
    assert problems == []

    _, session = call(base + "/api/v1/sessions", {})
    question = {"text": "How do I turn off the out-of-office feature for all users?"}
    status, reply = call(f"{base}/api/v1/conversations/{session['conversation_id']}/messages", question,
                         session["visitor_token"])
    assert status == 200 and reply["sources"][0]["title"] == "Out-of-office feature"
    context.close()
