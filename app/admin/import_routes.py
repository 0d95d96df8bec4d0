"""Admin-only knowledge import under /admin/knowledge/import: upload, preview, publish or discard.

Nothing is written to the knowledge folder until Publish; the Knowledge base page then offers the
existing Rebuild index now. The upload form is the one console form allowed a body larger than
MAX_REQUEST_BYTES (IMPORT_MAX_BYTES), and only for a signed-in admin.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin import knowledge
from app.admin.auth import require_admin
from app.retrieval.importer.items import SourceError

bp = Blueprint("imports", __name__, url_prefix="/admin/knowledge/import", template_folder="templates")
bp.before_request(require_admin)
GONE = "That import was already published or discarded. Upload the file again to import it."


@bp.url_value_preprocessor
def _allow_upload_size(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # URL preprocessors run before every before_request hook, and the app's CSRF check (a before_request
    # hook) already reads the form, so the larger limit has to be set here.
    if endpoint == "imports.upload" and current_user.is_authenticated and current_user.role == "admin":
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]


@bp.post("")
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("Choose a file to import first.")
        return redirect(url_for("admin.knowledge_status"))
    try:
        base_url = request.form.get("base_url", "").strip()[:500]
        pending_id = knowledge.stage_import(file.filename, file.read(), base_url)
    except ValueError as error:
        flash(f"Not imported: {error}.")
        return redirect(url_for("admin.knowledge_status"))
    return redirect(url_for("imports.preview", pending_id=pending_id))


@bp.get("/<pending_id>")
def preview(pending_id: str):
    found = knowledge.preview_import(current_user.user, pending_id)
    if found is None:
        abort(404, GONE)
    return render_template("admin/import_preview.html", preview=found), 400 if found.error else 200


@bp.post("/<pending_id>/publish")
def publish(pending_id: str):
    try:
        planned = knowledge.publish_import(current_user.user, pending_id)
    except SourceError as error:
        flash(f"Not published: {error}")
        return redirect(url_for("imports.preview", pending_id=pending_id))
    if planned is None:
        abort(404, GONE)
    flash(f"Published: {planned.summary}. Rebuild the index now so the bot answers from them.")
    return redirect(url_for("admin.knowledge_status", _anchor="rebuild"))


@bp.post("/<pending_id>/discard")
def discard(pending_id: str):
    knowledge.discard_import(pending_id)
    flash("Import discarded; nothing was published.")
    return redirect(url_for("admin.knowledge_status"))
