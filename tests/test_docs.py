"""The README documents every setting, error code and command, and CI runs its test command."""
from __future__ import annotations

import re

import pytest

from app.config import ROOT, SETTINGS
from app.errors import CODES

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_every_setting_is_documented(name):
    assert f"`QUIETDESK_{name}`" in README


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_error_code_is_documented(code):
    assert re.search(rf"^\| `{code}` \| {CODES[code][0]} \|", README, re.MULTILINE)


@pytest.mark.parametrize("command", ["serve", "db migrate", "index build", "purge", "admin create", "audit verify", "eval retrieval", "eval pii", "bench http"])
def test_every_command_is_documented(command):
    assert f"python run.py {command}" in README


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quick_start, re.DOTALL)[:2]
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    assert "run.py serve" in commands[0]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
