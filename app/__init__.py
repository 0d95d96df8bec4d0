"""Quietdesk: a self-hosted, privacy-first customer-support chatbot."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

from app import config, db, engines, errors, logs
from app.retrieval.articles import ArticleError
from app.retrieval.embedder import ModelError
from app.retrieval.index import IndexLoadError

# Failures that stop start-up with one clear line instead of a traceback.
STARTUP_ERRORS = (config.ConfigError, db.DatabaseKeyError, db.SchemaError, ModelError,
                  IndexLoadError, ArticleError)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, logging, errors, database, engines, then the HTTP areas."""
    settings = config.load(os.environ, test_config)
    instance = Path(settings["INSTANCE"]).resolve()
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(instance))
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or config.instance_secret(instance, "secret.key")
    app.config["DB_KEY"] = settings["DB_KEY"] or config.instance_secret(instance, "db.key")
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_REQUEST_BYTES"]
    logs.init_app(app)
    errors.init_app(app)
    db.init_app(app)
    engines.init_app(app)
    from app.chat import routes as chat_routes
    from app import health
    app.register_blueprint(chat_routes.bp)
    app.register_blueprint(health.bp)
    return app
