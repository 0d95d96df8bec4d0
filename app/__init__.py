"""Quietdesk: a self-hosted, privacy-first customer-support chatbot.

Parts are imported inside create_app so that importing one engine (say, app.retrieval.search in
a benchmark) does not pull in the whole web app.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, logging, errors, database, engines, then the HTTP areas."""
    from app import api, config, db, engines, errors, health, limits, logs, widget
    from app import backup  # noqa: F401 (registers `db backup` and `db restore` on the db group)
    from app.admin import auth as admin_auth, cli as admin_cli, manage_routes, notify, routes as admin_routes
    from app.admin.analytics_routes import bp as analytics_bp
    from app.admin.import_routes import bp as import_bp
    from app.chat import live_handoff, routes as chat_routes
    from app.privacy import retention, routes as privacy_routes

    settings = config.load(os.environ, test_config)
    instance = Path(settings["INSTANCE"]).resolve()
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(instance))
    app.config.update(settings)
    for name in ("SECRET_KEY", "DB_KEY", "SUBJECT_KEY"):
        app.config[name] = settings[name] or config.instance_secret(instance, name.lower().replace("_", "."))
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_REQUEST_BYTES"]
    logs.init_app(app, lambda: engines.log_scrubber(app.config))
    errors.init_app(app)
    db.init_app(app)
    limits.init_app(app)
    engines.init_app(app)
    retention.init_app(app)
    live_handoff.init_app(app)
    notify.init_app(app)
    widget.init_app(app)
    admin_cli.init_app(app)
    admin_auth.init_app(app)
    api.init_app(app)
    for blueprint in (chat_routes.bp, privacy_routes.bp, health.bp, admin_routes.bp, manage_routes.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(analytics_bp)
    app.register_blueprint(import_bp)
    return app
