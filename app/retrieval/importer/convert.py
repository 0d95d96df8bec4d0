"""Convert every file of an import source into articles, or say per file why not.

One bad file never stops the others: it becomes a Skipped item with a one-line reason. Only a source
that cannot be read at all (a broken zip, a missing path) raises SourceError.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import quote

from app.retrieval.importer.exports import read_export
from app.retrieval.importer.html import convert_page
from app.retrieval.importer.items import Converted, Document, SourceError, Skipped
from app.retrieval.importer.markdown import read_markdown
from app.retrieval.importer.pdf import read_pdf
from app.retrieval.importer.sections import has_text
from app.retrieval.importer.sources import documents


def _decode(document: Document) -> str:
    try:
        return document.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return document.data.decode("cp1252", errors="replace")  # old help centres; lxml copes with the rest


def _fallback_url(document: Document, base_url: str) -> str:
    """Where a file with no canonical link lives: under base_url if given, else its name in the source."""
    path = quote("/".join(p for p in PurePosixPath(document.name).parts if p not in ("..", ".", "/")))
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def _one(document: Document, base_url: str) -> Converted | Skipped | list[Converted | Skipped]:
    suffix = PurePosixPath(document.name).suffix.lower()
    stem = PurePosixPath(document.name).stem.replace("-", " ").replace("_", " ").strip()
    if suffix == ".json":
        return read_export(document)
    if suffix == ".pdf":
        title, body = read_pdf(document)
        return Converted(document.name, document.name, title, _fallback_url(document, base_url), body,
                         document.modified)
    if suffix in (".md", ".markdown"):
        meta, body = read_markdown(document)
        return Converted(document.name, document.name, str(meta.get("title") or stem),
                         str(meta.get("url") or _fallback_url(document, base_url)), body,
                         str(meta.get("updated") or document.modified))
    page = convert_page(_decode(document), stem, _fallback_url(document, base_url))
    return Converted(document.name, document.name, page.title, page.url, page.body,
                     page.updated or document.modified)


def convert(source: Path, base_url: str = "", label: str | None = None) -> list[Converted | Skipped]:
    """Read a source (file, folder or zip) into converted articles and skipped items, in file order.

    base_url: where the pages are published, for pages without a canonical link. label names the source
    in messages (the console passes the uploaded file's name). Raises SourceError for an unreadable source.
    """
    results: list[Converted | Skipped] = []
    for document in documents(source, label):
        try:
            converted = _one(document, base_url)
        except SourceError as error:
            reason = str(error).removeprefix(f"{document.name}: ")
            results.append(Skipped(document.name, f"unreadable: {reason}"))
            continue
        for item in converted if isinstance(converted, list) else [converted]:
            if isinstance(item, Converted) and not has_text(item.body):
                item = Skipped(item.origin, "empty")
            results.append(item)
    return results
