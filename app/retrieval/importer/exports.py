"""Read help-centre exports: Zendesk Guide and Intercom articles JSON.

Zendesk (Help Center API `articles`): objects with title, html_url, body (HTML), updated_at (ISO),
locale, draft — as `{"articles": [...]}` or a bare list. Intercom (Articles API): objects with title, url,
body (HTML), updated_at (unix seconds), state ("published"/"draft") — as `{"data": [...]}`,
`{"articles": [...]}` or a bare list. Drafts are skipped, never published.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from app.retrieval.importer.html import convert_fragment
from app.retrieval.importer.items import Converted, Document, SourceError, Skipped
from app.retrieval.importer.sections import has_text


def _entries(document: Any, name: str) -> list[Any]:
    if isinstance(document, dict):
        for key in ("articles", "data"):
            if isinstance(document.get(key), list):
                return document[key]
    elif isinstance(document, list):
        return document
    raise SourceError(f"{name}: not a Zendesk or Intercom articles export "
                      "(expected a list, or an object with an \"articles\" or \"data\" list)")


def _updated(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value if isinstance(value, str) else ""


def _entry(entry: Any, index: int, name: str) -> Converted | Skipped:
    if not isinstance(entry, dict):
        return Skipped(f"{name} #{index}", "unreadable: not an article object")
    title = str(entry.get("title") or "").strip()
    origin = f"{name}: {title or f'#{index}'}"
    intercom = "state" in entry or "html_url" not in entry
    if entry.get("draft") is True or entry.get("state") == "draft":
        return Skipped(origin, "draft")
    url = str(entry.get("url") or entry.get("html_url") or "").strip()
    body = entry.get("body")
    if not title or not url or not isinstance(body, str):
        return Skipped(origin, "unreadable: needs a title, a url and an HTML body")
    page = convert_fragment(body, title, url)
    if not has_text(page.body):
        return Skipped(origin, "empty")
    identity = entry.get("id")
    source = f"{'intercom' if intercom else 'zendesk'}:{identity}" if identity not in (None, "") else url
    return Converted(origin, source, title, url, page.body, _updated(entry.get("updated_at")))


def read_export(document: Document) -> list[Converted | Skipped]:
    """Convert every article of one export file; raise SourceError if it is not an export at all."""
    try:
        parsed = json.loads(document.data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SourceError(f"{document.name}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise SourceError(f"{document.name}: not valid JSON ({error.msg} at line {error.lineno})") from None
    return [_entry(entry, i, document.name) for i, entry in enumerate(_entries(parsed, document.name), 1)]
