"""Shape converted Markdown into the article layout the loader reads: `##` sections, tidy spacing.

The loader (app/retrieval/articles.py) splits an article at lines starting `#` or `##`. So the title
heading is dropped (the writer puts `# Title` first), the shallowest remaining heading level becomes
`##`, and a code line that starts with `#` (a shell comment) is indented so it is not read as a heading.
"""
from __future__ import annotations

import re

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _flag_code(lines: list[str]) -> list[bool]:
    inside, flags = False, []
    for line in lines:
        if _FENCE.match(line):
            inside = not inside
            flags.append(True)
        else:
            flags.append(inside)
    return flags


def shape(markdown: str, title: str) -> str:
    """Return the body with headings shifted so sections are `##`, without the title heading."""
    lines = [line.rstrip() for line in markdown.replace("\r\n", "\n").split("\n")]
    code = _flag_code(lines)
    matches = {i: _HEADING.match(line) for i, line in enumerate(lines) if not code[i]}
    headings = {i: m for i, m in matches.items() if m}
    first = min(headings, default=None)
    if first is not None and headings[first].group(2).strip().lower() == title.strip().lower():
        lines[first] = ""
        del headings[first]
    headings = {i: m for i, m in headings.items() if m.group(2).strip()}
    shift = 2 - min((len(m.group(1)) for m in headings.values()), default=2)
    out = []
    for i, line in enumerate(lines):
        if i in headings:
            level = min(6, len(headings[i].group(1)) + shift)
            out.append(f"{'#' * level} {headings[i].group(2).strip()}")
        elif code[i] and line.lstrip().startswith("#"):
            out.append(" " + line)
        elif not code[i] and _HEADING.match(line):
            out.append("")  # an empty heading
        else:
            out.append(line)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
    return text


def has_text(body: str) -> bool:
    """True if the body says anything beyond headings and markup."""
    words = re.sub(r"^#+.*$|[#*_`>\-\[\]()|:]", " ", body, flags=re.M)
    return bool(words.strip())
