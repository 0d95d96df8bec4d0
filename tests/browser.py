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


def fits(page) -> bool:
    """True if nothing on the page needs horizontal scrolling, measured once its stylesheets have loaded.

    A page's DOM can be read before its stylesheet arrives; measured then, a table laid out without
    the console's narrow-screen rules is wider than the screen (seen in CI on a loaded machine)."""
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shot(page, name: str) -> None:
    """Save a screenshot of the page under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
