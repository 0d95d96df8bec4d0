"""Module boundaries from DESIGN.md §3, as import-linter contracts in setup.cfg."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.config import ROOT


def test_import_contracts_hold():
    # In a subprocess: import-linter's CLI reconfigures logging and would disable this process's loggers.
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--config", "setup.cfg"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
