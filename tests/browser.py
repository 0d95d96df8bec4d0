"""Shared pieces of the real-browser tests: Debian's Chromium through Playwright, screenshots."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright import sync_api as playwright

from app.config import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# CI installs Chromium (.ci/run) and must run these; a developer machine without it skips them.
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                    reason="Debian's chromium is not installed (apt-get install chromium)")
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def browser():
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield instance
        instance.close()


def shot(page, name: str) -> None:
    """Save a screenshot of the page under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
