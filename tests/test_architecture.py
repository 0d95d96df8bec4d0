"""Module boundaries from DESIGN.md §3, as import-linter contracts in setup.cfg."""
from __future__ import annotations

import os

from importlinter.cli import lint_imports

from app.config import ROOT


def test_import_contracts_hold(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=os.path.join(ROOT, "setup.cfg")) == 0
