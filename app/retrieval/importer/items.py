"""The values that cross the importer's modules: a converted article, a skipped item, a source error."""
from __future__ import annotations

from dataclasses import dataclass


class SourceError(ValueError):
    """A source or one file in it cannot be read; the message is one line naming it and the problem."""


@dataclass(frozen=True)
class Document:
    """One file read from a source. name is its path inside the source: a label and an identity only,
    never a path on this machine's disk."""

    name: str
    data: bytes
    modified: str = ""  # ISO 8601, "" if unknown


@dataclass(frozen=True)
class Converted:
    origin: str  # where it came from, for the report: "maintenance/backup.html", "articles.json: Backup"
    source: str  # stable identity, written as `source:` front matter; marks the file as imported
    title: str
    url: str
    body: str  # Markdown: `##` sections from the original headings
    updated: str = ""  # ISO 8601 from the source, "" if it gives none


@dataclass(frozen=True)
class Skipped:
    origin: str
    reason: str  # "draft", "empty", "duplicate of …", "unreadable: …", "hand-written article …"
