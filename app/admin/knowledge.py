"""Knowledge-base status, rebuilds and imports from the console.

A rebuild runs in a background thread of the worker that received the click, with the worker's
already-loaded embedder; it saves a new index and swaps the CURRENT pointer, and every worker
switches to it on its next question (app/retrieval/live.py). The click is audited as a settings
change.

An import is staged (the upload waits in instance/imports/), previewed (converted and compared with the
folder, nothing written) and then published with the same writer as `run.py knowledge import`. Preview
and publish are both audited; the articles are help content, never customer data.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from markdown_it import MarkdownIt

from app.admin import audit, builds
from app.admin.accounts import User
from app.db import get_db
from app.engines import ensure_index
from app.retrieval.importer import pending
from app.retrieval.importer.items import SourceError
from app.retrieval.importer.writer import Plan, plan, publish
from app.retrieval import index as index_store
from app.retrieval.articles import ArticleError, load_articles, sections
from app.retrieval.embedder import ModelError
from app.retrieval.index import IndexLoadError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleStatus:
    slug: str
    title: str
    url: str
    passages: int
    questions: int


@dataclass(frozen=True)
class Status:
    digest: str
    built_at: str
    entries: int
    articles: tuple[ArticleStatus, ...]
    folder_state: str  # "up to date", "changed since the last build", or why the folder cannot be read
    builds: tuple[builds.Build, ...]


def _folder_state(app: Flask, digest: str) -> str:
    try:
        articles = load_articles(Path(app.config["KNOWLEDGE_DIR"]))
    except ArticleError as error:
        return f"cannot be read: {error}"
    current = index_store.digest_of(articles, app.extensions["embedder"].identity, app.config["CHUNK_CHARS"])
    return "up to date" if current == digest else "changed since the last build"


def status() -> Status:
    """Return what the serving index holds, whether the folder changed since, and recent builds."""
    index = current_app.extensions["pipeline"].indexes.current()
    counts: dict[str, list[int]] = {}
    for chunk in index.chunks:
        counts.setdefault(chunk.article, [0, 0])[chunk.kind == "question"] += 1
    first = {index.chunks[row].article: index.chunks[row] for row in index.first_rows}
    articles = tuple(ArticleStatus(slug, first[slug].title, first[slug].url, *counts[slug])
                     for slug in index.article_ids)
    return Status(index.digest, index.built_at, len(index.chunks), articles,
                  _folder_state(current_app, index.digest), tuple(builds.recent(get_db())))


def _build(app: Flask, build_id: int) -> None:
    with app.app_context():
        db = get_db()
        try:
            built = ensure_index(app, app.extensions["embedder"], force=True)
            builds.finish(db, build_id, True, f"{built.articles} articles, {len(built.chunks)} entries")
        except (ArticleError, IndexLoadError, ModelError) as error:
            builds.finish(db, build_id, False, str(error))
        except Exception:  # the thread must record the failure; the details go to the (scrubbed) log
            log.exception("index rebuild %d failed", build_id)
            builds.finish(db, build_id, False, "unexpected error; see the server log")


def rebuild(user: User) -> threading.Thread | None:
    """Start rebuilding the index in the background and audit it; None if a build is running."""
    db = get_db()
    build_id = builds.start(db, user.id)
    if build_id is None:
        return None
    audit.record(db, f"user:{user.id}", "rebuild_index", f"build:{build_id}")
    worker = threading.Thread(target=_build, args=(current_app._get_current_object(), build_id),
                              name=f"index-build-{build_id}", daemon=True)
    worker.start()
    return worker


# Raw HTML in an article is shown as text, and markdown-it drops javascript:/data: links: the preview
# is safe to insert into the page as it renders.
_PREVIEW = MarkdownIt("commonmark", {"html": False}).disable("image")


@dataclass(frozen=True)
class PreviewItem:
    action: str  # added, updated, unchanged, skipped
    origin: str
    file: str  # file name in the knowledge folder, "" if skipped before one was chosen
    reason: str
    title: str
    url: str
    sections: tuple[tuple[str, str], ...]  # (heading, rendered HTML); the introduction's heading is ""


@dataclass(frozen=True)
class ImportPreview:
    id: str
    filename: str
    summary: str
    items: tuple[PreviewItem, ...]
    error: str = ""  # the upload as a whole could not be read

    @property
    def publishable(self) -> bool:
        return any(item.action in ("added", "updated") for item in self.items)


def _imports_root() -> Path:
    return Path(current_app.instance_path) / "imports"


def _plan(upload: pending.Pending) -> Plan:
    # Imported here: the HTML and PDF readers (~21 MB per worker) serve only the console's rare imports.
    from app.retrieval.importer.convert import convert

    return plan(convert(upload.path, upload.base_url, label=upload.filename),
                Path(current_app.config["KNOWLEDGE_DIR"]))


def _item(change) -> PreviewItem:
    article = change.article
    parts = tuple((heading, _PREVIEW.render(text)) for heading, text in sections(article.body if article else ""))
    file = f"{change.slug}.md" if change.slug else ""
    return PreviewItem(change.action, change.origin, file, change.reason, article.title if article else "",
                       article.url if article else "", parts)


def stage_import(filename: str, data: bytes, base_url: str = "") -> str:
    """Keep an uploaded file for preview; return its id. ValueError names an unsupported file or address."""
    if base_url and not re.match(r"^https?://[^\s/]+", base_url):
        raise ValueError(f"{base_url}: the address where the pages are published must start with https://")
    return pending.stage(_imports_root(), filename, data, base_url).id


def preview_import(user: User, pending_id: str) -> ImportPreview | None:
    """Convert a staged upload and compare it with the knowledge folder, writing nothing; audited."""
    upload = pending.find(_imports_root(), pending_id)
    if upload is None:
        return None
    try:
        planned = _plan(upload)
    except SourceError as error:
        audit.record(get_db(), f"user:{user.id}", "preview_import", f"import:{pending_id}", "unreadable")
        return ImportPreview(pending_id, upload.filename, "", (), str(error))
    audit.record(get_db(), f"user:{user.id}", "preview_import", f"import:{pending_id}", planned.summary)
    items = tuple(_item(change) for change in planned.changes)
    return ImportPreview(pending_id, upload.filename, planned.summary, items)


def publish_import(user: User, pending_id: str) -> Plan | None:
    """Write a staged upload's articles (converted again, against the folder as it is now); audited.

    None if the upload is gone; SourceError if it cannot be read. The staged file is removed after.
    """
    upload = pending.find(_imports_root(), pending_id)
    if upload is None:
        return None
    planned = publish(_plan(upload))
    pending.discard(_imports_root(), pending_id)
    audit.record(get_db(), f"user:{user.id}", "publish_import", f"import:{pending_id}", planned.summary)
    log.info("knowledge import %s published: %s", pending_id, planned.summary)
    return planned


def discard_import(pending_id: str) -> None:
    """Forget a staged upload without publishing it."""
    pending.discard(_imports_root(), pending_id)
