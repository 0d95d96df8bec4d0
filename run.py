"""Quietdesk command line: `python run.py --help`."""
from __future__ import annotations

import subprocess
import sys
from typing import Any, Mapping, NoReturn

import click
from flask import Flask
from flask.cli import FlaskGroup

from app import create_app
from app.bench import bench_cli
from app.config import ConfigError
from app.db import DatabaseKeyError, SchemaError, get_db, migrate_app
from app.engines import index_ready
from app.evaluation import eval_cli
from app.retrieval.importer.cli import knowledge_cli
from app.integrity import DatabaseDamaged, require_sound
from app.privacy.retention import purge
from app.retrieval.articles import ArticleError
from app.retrieval.embedder import ModelError
from app.retrieval.index import IndexLoadError
from app.server import make_command

# Failures that stop start-up with one clear line instead of a traceback.
STARTUP_ERRORS = (ConfigError, DatabaseKeyError, SchemaError, ModelError, IndexLoadError, ArticleError,
                  DatabaseDamaged, OSError)


def _refuse_to_start(error: Exception) -> NoReturn:
    click.echo(f"quietdesk: cannot start: {error}", err=True)
    sys.exit(2)


def _create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app, turning a start-up failure into one clear line and exit status 2."""
    try:
        return create_app(test_config)
    except STARTUP_ERRORS as error:
        _refuse_to_start(error)


def _prepare(app: Flask) -> None:
    """Before the server forks: check the file, migrate, purge expired data, and build the index if articles
    changed (or export the model) in a child process, so the master never loads a model."""
    try:
        if app.config["DB_PATH"].exists():
            require_sound(app.config["DB_PATH"], app.extensions["db_key"])
        migrate_app(app)
        with app.app_context():
            purge(get_db(), app.config["RETENTION_DAYS"], contact_days=app.config["CONTACT_RETENTION_DAYS"],
                  analytics_days=app.config["ANALYTICS_RETENTION_DAYS"])
        if not index_ready(app):
            if subprocess.run([sys.executable, __file__, "index", "build"]).returncode:
                _refuse_to_start(RuntimeError("building the index failed (the reason is above)"))
    except STARTUP_ERRORS as error:
        _refuse_to_start(error)


@click.group(cls=FlaskGroup, create_app=lambda: _create_app({"LAZY": True}),
             add_default_commands=False, add_version_option=False, load_dotenv=False)
def cli() -> None:
    """Quietdesk: self-hosted, privacy-first customer-support chatbot."""


cli.add_command(make_command(_create_app, _prepare))
cli.add_command(bench_cli)
cli.add_command(eval_cli)
cli.add_command(knowledge_cli)

if __name__ == "__main__":
    cli()
