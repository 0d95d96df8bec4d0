"""Admin-only console pages under /admin: data-subject requests, audit log, users, index rebuilds,
and acting on knowledge gaps.

One guard for the whole blueprint: anonymous visitors go to the sign-in page, reviewers get 403.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin import console, desk, gaps, knowledge, subject_requests, team
from app.admin.auth import require_admin
from app.admin.routes import local_path

bp = Blueprint("manage", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(require_admin)


def _field(name: str, limit: int = 500) -> str:
    return request.form.get(name, "").strip()[:limit]


@bp.get("/requests")
def subject_request_list():
    return render_template("admin/requests.html", rows=subject_requests.listing(), form={},
                           due_days=subject_requests.DUE_DAYS)


@bp.post("/requests")
def subject_request_open():
    form = subject_requests.Form(_field("identifier", 254), _field("kind"), _field("law"), _field("reason"),
                                 _field("received_on", 10))
    try:
        request_id = subject_requests.open_request(current_user.user, form)
    except subject_requests.RequestRejected as error:
        # The identifier is not echoed back: it is personal data and the page is not cached anyway,
        # but nothing needs it once the form is fixed.
        return render_template("admin/requests.html", rows=subject_requests.listing(), error=str(error),
                               form={**form.__dict__, "identifier": ""}, due_days=subject_requests.DUE_DAYS), 400
    return redirect(url_for("manage.subject_request", request_id=request_id))


@bp.get("/requests/<int:request_id>")
def subject_request(request_id: int):
    found = subject_requests.matches(current_user.user, request_id)
    if found is None:
        abort(404, "No data-subject request has that number.")
    return render_template("admin/request.html", request_row=found[0], subjects=found[1])


@bp.post("/requests/<int:request_id>/decide/<int:visitor_id>")
def subject_decide(request_id: int, visitor_id: int):
    decision = _field("decision")
    if decision not in ("confirmed", "excluded"):
        abort(400, "Choose whether this visitor is the person asking or only mentioned the identifier.")
    try:
        subject_requests.decide(current_user.user, request_id, visitor_id, decision)
    except LookupError:
        abort(404, "That visitor does not match this open request.")
    flash("Recorded: this visitor is the person asking." if decision == "confirmed"
          else "Recorded: this visitor only mentioned the identifier; their data is left alone.")
    return redirect(url_for("manage.subject_request", request_id=request_id, _anchor=f"visitor-{visitor_id}"))


@bp.post("/requests/<int:request_id>/export/<int:visitor_id>")
def subject_export(request_id: int, visitor_id: int):
    try:
        document = subject_requests.export_subject(current_user.user, request_id, visitor_id)
    except LookupError:
        abort(404, "That visitor is not confirmed as the person asking in this request. Read the messages "
                   "that mention the identifier and confirm them first.")
    return Response(json.dumps(document, indent=2, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="quietdesk-export-request-{request_id}-'
                                                    f'visitor-{visitor_id}.json"'})


@bp.post("/requests/<int:request_id>/<any(erase, complete, reject):action>")
def subject_request_close(request_id: int, action: str):
    try:
        if action == "erase":
            counts = subject_requests.erase_subjects(current_user.user, request_id, _field("note"))
            flash(f"Erased {counts.get('visitor', 0)} visitor record(s) and "
                  f"{counts.get('messages', 0)} message(s); the request is completed.")
        elif subject_requests.close(current_user.user, request_id, "completed" if action == "complete"
                                    else "rejected", _field("note")):
            flash("Request completed." if action == "complete" else "Request rejected.")
        else:
            flash("That request was already closed.")
    except subject_requests.RequestRejected as error:
        flash(str(error))
    except LookupError:
        flash("That request is not open any more.")
    return redirect(url_for("manage.subject_request", request_id=request_id))


@bp.get("/audit")
def audit_log():
    page = console.page_number(request.args.get("page"))
    rows, broken, head = console.audit_trail(page)
    return render_template("admin/audit.html", rows=rows, broken=broken, head=head, page=page,
                           page_size=console.PAGE_SIZE * 2)


@bp.get("/users")
def users():
    return render_template("admin/users.html", users=team.members(), roles=team.ROLES)


@bp.post("/users")
def user_create():
    try:
        team.add(current_user.user, _field("email", 254), _field("role"), request.form.get("password", ""),
                 _field("alias", 40))
        flash("Account created.")
    except ValueError as error:
        return render_template("admin/users.html", users=team.members(), roles=team.ROLES, error=str(error),
                               email=_field("email", 254), alias=_field("alias", 40)), 400
    return redirect(url_for("manage.users"))


@bp.post("/users/<int:user_id>/<any(disable, enable, password, alias):action>")
def user_change(user_id: int, action: str):
    try:
        if action == "alias":
            team.rename(current_user.user, user_id, _field("alias", 40))
            flash("Renamed; visitors see the new name from now on.")
        elif action == "password":
            team.reset_password(current_user.user, user_id, request.form.get("password", ""))
            flash("Password reset; that account's sessions have ended.")
        else:
            team.set_disabled(current_user.user, user_id, action == "disable")
            flash("Account disabled; its sessions have ended." if action == "disable" else "Account enabled.")
    except ValueError as error:
        flash(f"Not changed: {error}.")
    return redirect(url_for("manage.users"))


@bp.post("/handoffs/<int:handoff_id>/assign")
def handoff_assign(handoff_id: int):
    user_id = request.form.get("user_id", "")
    try:
        done = user_id.isdigit() and desk.reassign(current_user.user, handoff_id, int(user_id))
    except ValueError as error:
        flash(f"Not reassigned: {error}")
    else:
        flash("Handoff reassigned." if done else "That handoff is already resolved.")
    return redirect(local_path(request.form.get("next", ""), url_for("admin.handoffs")))


@bp.post("/knowledge/rebuild")
def knowledge_rebuild():
    started = knowledge.rebuild(current_user.user)
    flash("Rebuilding the index; this page shows when it is done." if started
          else "A rebuild is already running.")
    return redirect(url_for("admin.knowledge_status"))


@bp.post("/gaps/questions")
def gap_add_questions():
    slug, _, digest = request.form.get("article", "").rpartition("@")
    try:
        done = gaps.add_phrasings(current_user.user, slug, digest, request.form.getlist("message"))
    except gaps.NotChanged as error:
        flash(f"Nothing added: {error}")
        return redirect(url_for("admin.knowledge_gaps"))
    if not done.added:
        flash(f"“{done.title}” already lists those phrasings; nothing changed.")
        return redirect(url_for("admin.knowledge_gaps"))
    skipped = f" ({done.skipped} skipped: already listed, or masked personal data)" if done.skipped else ""
    then = ("The index is being rebuilt; the bot answers them once the build is done." if done.rebuilding
            else "A rebuild was already running: rebuild again once it is done, so these phrasings count.")
    flash(f"Added {done.added} phrasing{'s' if done.added != 1 else ''} to “{done.title}”{skipped}. {then}")
    return redirect(url_for("admin.knowledge_status" if done.rebuilding else "admin.knowledge_gaps"))


@bp.post("/gaps/dismiss")
def gap_dismiss():
    try:
        count = gaps.dismiss(current_user.user, request.form.getlist("message"))
    except gaps.NotChanged as error:
        flash(f"Not dismissed: {error}")
    else:
        flash(f"Dismissed a group of {count} question{'s' if count != 1 else ''}; it comes back if someone "
              "asks something like it again.")
    return redirect(url_for("admin.knowledge_gaps"))
