"""Load the heavy engines once per process and keep them in app.extensions.

Tests inject session-scoped instances through the test config (SCRUBBER, EMBEDDER, INDEX) so a
model is loaded once per test session, not once per app. A LAZY app (the CLI, the server's
master process) loads nothing here; its commands load what they need.
"""
from __future__ import annotations

import json
import logging
from functools import partial
from pathlib import Path
from typing import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import logs
from app.config import ConfigError
from app.retrieval import index as index_store
from app.retrieval.articles import ArticleError, load_articles
from app.retrieval import model_files
from app.retrieval.embedder import Embedder, ModelError
from app.retrieval.index import IndexLoadError
from app.retrieval.live import LiveIndex

log = logging.getLogger(__name__)
index_cli = AppGroup("index", help="Knowledge-base index commands.")


def scrub_patterns(raw: str) -> dict[str, str]:
    """Parse the SCRUB_PATTERNS setting: a JSON object of entity name → regular expression."""
    try:
        patterns = json.loads(raw)
    except ValueError:
        patterns = None
    if not isinstance(patterns, dict) or not all(isinstance(v, str) for v in patterns.values()):
        raise ConfigError("QUIETDESK_SCRUB_PATTERNS must be a JSON object of NAME to regular expression")
    return patterns


def load_scrubber(config):
    """Build the PII scrubber from the app's settings."""
    from app.privacy.scrubber import Scrubber, build_analyzer

    analyzer = build_analyzer(config["SPACY_MODEL"], scrub_patterns(config["SCRUB_PATTERNS"]))
    return Scrubber(analyzer, key=config["SUBJECT_KEY"].encode(), region=phone_region(config["PHONE_REGION"]))


def knowledge_terms(folder: Path) -> list[str]:
    """Return every article's title, listed questions and body: words the scrubber must not guess at."""
    return [text for article in load_articles(folder)
            for text in (article.title, *article.questions, article.body)]


def keep_index_terms(scrubber, index) -> None:
    """Give the scrubber the words of a newly taken-in index's entries (titles, headings, passages, listed
    questions), so a new article's product name is not masked on a guess until the next restart."""
    scrubber.keep_terms(text for chunk in index.chunks for text in (chunk.title, chunk.heading, chunk.text))


def phone_region(raw: str) -> str:
    """Check the PHONE_REGION setting: a two-letter region phonenumbers knows (GB, DE, US…)."""
    import phonenumbers

    region = raw.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"QUIETDESK_PHONE_REGION={raw!r} is not a region code such as US, GB or DE")
    return region


def log_scrubber(config) -> Callable[[str], str]:
    """Build a scrubber for log records, for processes that load no pipeline (CLI, server master)."""
    scrubber = load_scrubber(config)
    return lambda text: scrubber.scrub(text).text


def index_root(app: Flask) -> Path:
    """Return the folder that holds the saved index."""
    return Path(app.instance_path) / "index"


def load_embedder(config) -> Embedder:
    """Load the embedding model from the app's settings, on ONNX Runtime where it exports."""
    return Embedder(config["EMBEDDING_MODEL"], config["TORCH_THREADS"], model_files.exports(config),
                    model_files.precision(config))


def index_ready(app: Flask) -> bool:
    """Say whether `index build` has nothing to do: the saved index is current and the model exported."""
    articles = load_articles(Path(app.config["KNOWLEDGE_DIR"]))
    digest = index_store.digest_of(articles, model_files.served_identity(app.config), app.config["CHUNK_CHARS"])
    return index_store.current_digest(index_root(app)) == digest and model_files.exported(app.config)


def ensure_index(app: Flask, embedder: Embedder | None = None, force: bool = False) -> index_store.Index:
    """Load the saved index, rebuilding it first if the articles or model changed (or force)."""
    articles = load_articles(Path(app.config["KNOWLEDGE_DIR"]))
    identity = embedder.identity if embedder else model_files.served_identity(app.config)
    digest = index_store.digest_of(articles, identity, app.config["CHUNK_CHARS"])
    root = index_root(app)
    if not force and index_store.current_digest(root) == digest:
        return index_store.load(root)
    embedder = embedder or load_embedder(app.config)
    try:
        previous = index_store.load(root)  # its vectors are reused for texts that did not change
    except IndexLoadError:
        previous = None
    built = index_store.build(articles, embedder, app.config["CHUNK_CHARS"], previous)
    index_store.save(built, root)
    log.info("built index: %d articles, %d entries", built.articles, len(built.chunks))
    return built


@index_cli.command("build")
@click.option("--force", is_flag=True, help="Rebuild even if no article changed.")
def build_command(force: bool) -> None:
    """Build the search index from the knowledge folder (only if articles changed); export the model."""
    try:
        embedder = current_app.extensions.get("embedder") or load_embedder(current_app.config)
        built = ensure_index(current_app, embedder, force)
    except (ArticleError, IndexLoadError, ModelError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"index {built.digest[:12]}: {built.articles} articles, {len(built.chunks)} entries, "
               f"built {built.built_at}")


def init_app(app: Flask) -> None:
    """Load (or take injected) scrubber, embedder and index, and register the index CLI."""
    app.cli.add_command(index_cli)
    phone_region(app.config["PHONE_REGION"])  # a bad region stops start-up in every process
    model_files.precision(app.config)  # so does a bad precision
    unused_cost = app.config["UNUSED_WORDS_COST"]
    if not 0.0 <= unused_cost <= 1.0:
        raise ConfigError(f"QUIETDESK_UNUSED_WORDS_COST must be between 0 and 1, not {unused_cost}")
    if app.config.get("LAZY"):
        return
    from threadpoolctl import threadpool_limits

    from app.chat.answer_cache import AnswerCache
    from app.chat.pipeline import Pipeline  # here, not above: a LAZY process (the server's master) loads no NLP
    from app.retrieval.search import Weights

    scrubber = app.config.get("SCRUBBER")
    follow = None  # an injected (test) scrubber keeps the vocabulary its owner gave it
    if scrubber is None:
        scrubber = load_scrubber(app.config)
        scrubber.keep_terms(knowledge_terms(Path(app.config["KNOWLEDGE_DIR"])))
        follow = partial(keep_index_terms, scrubber)  # a rebuilt index brings its articles' words
    logs.FILTER.use(lambda text: scrubber.scrub(text).text)
    embedder = app.config.get("EMBEDDER") or load_embedder(app.config)
    injected = app.config.get("INDEX")
    indexes = LiveIndex(injected.prepare()) if injected else LiveIndex(ensure_index(app, embedder).prepare(),
                                                                         index_root(app), on_switch=follow)
    app.extensions["embedder"] = embedder
    app.extensions["pipeline"] = Pipeline(scrubber, embedder, indexes, app.config["ANSWER_THRESHOLD"],
                                          weights=Weights(unused=unused_cost),
                                          cache=AnswerCache(app.config["ANSWER_CACHE"]))
    # One query's vector arithmetic is small: BLAS threads of its own only spin (measured: two extra
    # threads burning as much CPU as the turn itself on a 1,400-entry index). Workers are the parallelism.
    # Last, so it also reaches the BLAS copies the models brought (scipy's came with the scrubber).
    threadpool_limits(app.config["TORCH_THREADS"])
