"""Quietdesk command line: `python run.py --help`.

Commands load what they use when they run: `serve` keeps its master process (which only forks and
watches workers) free of the libraries the workers load.
"""
from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any, Mapping, NoReturn

import click
from flask import Flask
from flask.cli import FlaskGroup

from app.server import make_command

# Command groups imported only when one of them runs (their modules pull in the models' libraries).
LAZY_COMMANDS = {"bench": "app.bench:bench_cli", "eval": "app.evaluation:eval_cli",
                 "knowledge": "app.retrieval.importer.cli:knowledge_cli"}


def _startup_errors() -> tuple[type[Exception], ...]:
    """Failures that stop start-up with one clear line instead of a traceback."""
    from app.config import ConfigError
    from app.db import DatabaseKeyError, SchemaError
    from app.integrity import DatabaseDamaged
    from app.retrieval.articles import ArticleError
    from app.retrieval.embedder import ModelError
    from app.retrieval.index import IndexLoadError

    return (ConfigError, DatabaseKeyError, SchemaError, ModelError, IndexLoadError, ArticleError,
            DatabaseDamaged, OSError)


def _refuse_to_start(error: Exception) -> NoReturn:
    click.echo(f"quietdesk: cannot start: {error}", err=True)
    sys.exit(2)


def _create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app, turning a start-up failure into one clear line and exit status 2."""
    from app import create_app

    try:
        return create_app(test_config)
    except _startup_errors() as error:
        _refuse_to_start(error)


def _prepare() -> None:
    """Before the server forks: check the file, migrate, purge expired data, and build the index if articles
    changed (exporting the model if need be). Runs in a child process (`run.py prepare`), so the master
    never loads what only the workers need."""
    from app.db import get_db, migrate_app
    from app.engines import ensure_index, index_ready, load_embedder
    from app.integrity import require_sound
    from app.privacy.retention import purge

    app = _create_app({"LAZY": True})
    try:
        if app.config["DB_PATH"].exists():
            require_sound(app.config["DB_PATH"], app.extensions["db_key"])
        migrate_app(app)
        with app.app_context():
            purge(get_db(), app.config["RETENTION_DAYS"], contact_days=app.config["CONTACT_RETENTION_DAYS"],
                  analytics_days=app.config["ANALYTICS_RETENTION_DAYS"])
        if not index_ready(app):  # load the model first: it exports (and quantizes) itself if need be
            ensure_index(app, load_embedder(app.config))
    except _startup_errors() as error:
        _refuse_to_start(error)


def _prepare_in_a_child() -> None:
    """Run `prepare` in a child process; its failure has already said why in one line."""
    if subprocess.run([sys.executable, __file__, "prepare"]).returncode:
        sys.exit(2)


class _Commands(FlaskGroup):
    """Flask's command group, with LAZY_COMMANDS imported only when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module, attribute = LAZY_COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)


@click.group(cls=_Commands, create_app=lambda: _create_app({"LAZY": True}),
             add_default_commands=False, add_version_option=False, load_dotenv=False)
def cli() -> None:
    """Quietdesk: self-hosted, privacy-first customer-support chatbot."""


cli.add_command(make_command(_create_app, _prepare_in_a_child))
cli.add_command(click.command("prepare", hidden=True)(_prepare))

if __name__ == "__main__":
    cli()
