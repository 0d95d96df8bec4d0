"""GET /api/v1/health: liveness and readiness (database opens, index and models loaded)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app import integrity
from app.db import get_db

bp = Blueprint("health", __name__, url_prefix="/api/v1")


@bp.get("/health")
def health():
    checks = {"database": "ok", "index": "ok", "models": "ok"}
    try:
        get_db().execute("SELECT count(*) FROM visitors").fetchone()
    except Exception:  # any failure means not ready; the reason goes to the log, not the client
        current_app.logger.exception("health check: database unavailable")
        checks["database"] = "unavailable"
    if integrity.damaged():  # a request hit a damaged page since start-up
        checks["database"] = "damaged"
    pipeline = current_app.extensions.get("pipeline")
    if pipeline is None:
        checks["index"] = checks["models"] = "not loaded"
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    if pipeline is not None:
        index = pipeline.indexes.current()
        body["index"] = {"articles": index.articles, "entries": len(index.chunks), "built_at": index.built_at}
    return jsonify(body), 200 if ready else 503
