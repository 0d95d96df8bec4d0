"""Read a PDF's text layer with pypdf and lay it out as an article.

The PDF's outline (bookmarks), when it has one, gives the section headings; lines are joined back into
paragraphs and bullet characters become list items. A PDF without a text layer (a scan, images only)
cannot be answered from: it is refused with a clear line rather than imported empty.
"""
from __future__ import annotations

import io
import logging
import re

from pypdf import PdfReader

from app.retrieval.importer.items import Document, SourceError

_BULLET = re.compile(r"^\s*[•◦▪●‣∙·\-–*]\s+")
_NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s+")
_SENTENCE_END = re.compile(r"[.!?:]\s*$")
logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns on every odd-but-readable file


def _outline_titles(reader: PdfReader) -> set[str]:
    titles: set[str] = set()
    stack = list(reader.outline)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif getattr(item, "title", None):
            titles.add(" ".join(str(item.title).split()))
    return titles


def _layout(lines: list[str], headings: set[str]) -> str:
    out: list[str] = []
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            out.append("")
        elif line in headings:
            out += ["", f"## {line}", ""]
        elif _BULLET.match(line) or _NUMBERED.match(line):
            out.append(_BULLET.sub("- ", line))
        elif out and out[-1] and not out[-1].startswith("#") and not _SENTENCE_END.search(out[-1]):
            out[-1] += " " + line  # a line the page layout broke, not the author
        else:
            out += (["", line] if out and out[-1] else [line])
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def read_pdf(document: Document) -> tuple[str, str]:
    """Return (title, Markdown body) of a PDF; raise SourceError if it is unreadable or has no text."""
    try:
        reader = PdfReader(io.BytesIO(document.data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SourceError(f"{document.name}: the PDF is password-protected; export it without a password")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        headings = _outline_titles(reader)
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except SourceError:
        raise
    except Exception as error:  # pypdf raises many error types on malformed files; all mean "unreadable"
        raise SourceError(f"{document.name}: not a readable PDF ({type(error).__name__})") from None
    if not text.strip():
        raise SourceError(f"{document.name}: the PDF has no text layer (a scan or images only); "
                          "run OCR on it or import the original document")
    lines = text.splitlines()
    if not title:
        title = next(" ".join(line.split()) for line in lines if line.strip())
    if lines and " ".join(lines[0].split()) == title:
        lines = lines[1:]
    return title, _layout(lines, headings - {title})
