"""Load the heavy engines once per process and keep them in app.extensions.

Tests inject session-scoped instances through the test config (EMBEDDER, INDEX) so a model is
loaded once per test session, not once per app. A LAZY app (the CLI, the server's master
process) loads nothing here; its commands load what they need.
"""
from __future__ import annotations

import logging
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.chat.pipeline import Pipeline
from app.retrieval import index as index_store
from app.retrieval.articles import ArticleError, load_articles
from app.retrieval.embedder import Embedder, ModelError, default_model
from app.retrieval.index import IndexLoadError

log = logging.getLogger(__name__)


def index_root(app: Flask) -> Path:
    """Return the folder that holds the saved index."""
    return Path(app.instance_path) / "index"


def ensure_index(app: Flask, embedder: Embedder | None = None, force: bool = False) -> index_store.Index:
    """Load the saved index, rebuilding it first if the articles or model changed (or force)."""
    articles = load_articles(Path(app.config["KNOWLEDGE_DIR"]))
    model = app.config["EMBEDDING_MODEL"] or default_model()
    digest = index_store.digest_of(articles, model, app.config["CHUNK_CHARS"])
    root = index_root(app)
    if not force and index_store.current_digest(root) == digest:
        return index_store.load(root)
    embedder = embedder or Embedder(model, app.config["TORCH_THREADS"])
    built = index_store.build(articles, embedder, app.config["CHUNK_CHARS"])
    index_store.save(built, root)
    log.info("built index: %d articles, %d entries", built.articles, len(built.chunks))
    return built


index_cli = AppGroup("index", help="Knowledge-base index commands.")


@index_cli.command("build")
@click.option("--force", is_flag=True, help="Rebuild even if no article changed.")
def build_command(force: bool) -> None:
    """Build the search index from the knowledge folder (only if articles changed)."""
    try:
        built = ensure_index(current_app, current_app.extensions.get("embedder"), force)
    except (ArticleError, IndexLoadError, ModelError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"index {built.digest[:12]}: {built.articles} articles, {len(built.chunks)} entries, "
               f"built {built.built_at}")


def init_app(app: Flask) -> None:
    """Load (or take injected) embedder and index, and register the index CLI."""
    app.cli.add_command(index_cli)
    if app.config.get("LAZY"):
        return
    embedder = app.config.get("EMBEDDER") or Embedder(app.config["EMBEDDING_MODEL"],
                                                      app.config["TORCH_THREADS"])
    index = app.config.get("INDEX") or ensure_index(app, embedder)
    app.extensions["embedder"] = embedder
    app.extensions["pipeline"] = Pipeline(embedder, index, app.config["ANSWER_THRESHOLD"])
