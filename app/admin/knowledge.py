"""Knowledge-base status and rebuilds from the console.

A rebuild runs in a background thread of the worker that received the click, with the worker's
already-loaded embedder; it saves a new index and swaps the CURRENT pointer, and every worker
switches to it on its next question (app/retrieval/live.py). The click is audited as a settings
change.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from app.admin import audit, builds
from app.admin.accounts import User
from app.db import get_db
from app.engines import ensure_index
from app.retrieval import index as index_store
from app.retrieval.articles import ArticleError, load_articles
from app.retrieval.embedder import ModelError, default_model
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
    model = app.config["EMBEDDING_MODEL"] or default_model()
    current = index_store.digest_of(articles, model, app.config["CHUNK_CHARS"])
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
