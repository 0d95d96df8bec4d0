"""Read a Markdown file as an article: its front matter if it has one, else its first `#` heading."""
from __future__ import annotations

import re

import yaml

from app.retrieval.importer.items import Document, SourceError

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)


def read_markdown(document: Document) -> tuple[dict, str]:
    """Return (front matter, body) of a Markdown file; the body is kept as written."""
    try:
        text = document.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{document.name}: not UTF-8 text") from None
    meta: object = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError:
            raise SourceError(f"{document.name}: front matter is not valid YAML") from None
        text = text[match.end():]
    if not isinstance(meta, dict):
        raise SourceError(f"{document.name}: front matter is not a mapping of names to values")
    found = _TITLE.search(text)
    if not meta.get("title") and found:
        meta = {**meta, "title": found.group(1)}
    same_title = found and found.group(1).strip() == str(meta.get("title", "")).strip()
    if same_title and not text[:found.start()].strip():
        text = text[found.end():]
    return meta, text.strip()
