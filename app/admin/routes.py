"""Console pages for the whole team under /admin: sign in and out, home, conversations, handoff
queue, knowledge gaps and knowledge-base status. Admin-only pages live in manage_routes.py."""
from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from app.admin import console, desk, gaps, knowledge
from app.admin.auth import TooManyAttempts

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")
LOCAL_PATH = re.compile(r"/admin/[!-~]*")
FAILED = "Wrong email or password, or too many attempts. Try again in a few minutes."


def local_path(target: str, default: str) -> str:
    """Return target if it is a console path on this site (never another site), else default.

    Printable ASCII only: a CR or LF cannot go in a Location header (it was a 500), and browsers drop
    tabs and newlines from a URL before reading it.
    """
    local = LOCAL_PATH.fullmatch(target) and "//" not in target and "\\" not in target
    return target if local else default


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("admin/login.html", error=None)
    email = request.form.get("email", "").strip()[:254]
    try:
        user = console.sign_in(email, request.form.get("password", ""), request.remote_addr or "")
    except TooManyAttempts as refused:
        return (render_template("admin/login.html", error=str(refused), email=email), 429,
                {"Retry-After": str(refused.retry_after)})
    if user is None:
        return render_template("admin/login.html", error=FAILED, email=email), 401
    session.clear()  # a fresh session at login: nothing from before carries over
    login_user(user)
    return redirect(local_path(request.args.get("next", ""), url_for("admin.home")))


@bp.post("/logout")
@login_required
def logout():
    console.sign_out(current_user.user)
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required
def home():
    return render_template("admin/home.html", waiting=desk.waiting_count(), figures=desk.waiting_figures())


@bp.get("/conversations")
@login_required
def conversations():
    try:
        filters = console.parse_filters(request.args)
    except ValueError as error:
        abort(400, str(error))
    page = console.page_number(request.args.get("page"))
    rows = console.conversations(current_user.user, filters, page)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/conversations.html", rows=rows, filters=filters, choices=console.FILTER_CHOICES,
                           tags=console.tags_in_use(), page=page, page_size=console.PAGE_SIZE, query=query,
                           typed=request.args.get("q", ""), export_rows=console.EXPORT_ROWS)


@bp.get("/conversations.csv")
@login_required
def conversations_csv():
    try:
        filters = console.parse_filters(request.args)
    except ValueError as error:
        abort(400, str(error))
    return Response(console.conversations_csv(current_user.user, filters), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="quietdesk-conversations.csv"'})


@bp.get("/conversations/<conversation_id>")
@login_required
def conversation(conversation_id: str):
    found = console.conversation(current_user.user, conversation_id)
    if found is None:
        abort(404, "No stored conversation has that id; it may have been erased or reached its retention limit.")
    contact_left = {h.id: desk.has_contact(h.id) for h in found["handoffs"]}
    return render_template("admin/conversation.html", conversation=found, contact_left=contact_left,
                           team=desk.team() if current_user.role == "admin" else [])


@bp.post("/conversations/<conversation_id>/reply")
@login_required
def conversation_reply(conversation_id: str):
    try:
        desk.reply(current_user.user, conversation_id, request.form.get("text", ""))
    except LookupError:
        abort(404, "No stored conversation has that id.")
    except desk.NotYours:
        flash("Only the team member who claimed the handoff can reply; claim it first (or ask an admin to "
              "reassign it).")
    except ValueError as error:
        flash(f"Not sent: {error}")
    return redirect(url_for("admin.conversation", conversation_id=conversation_id, _anchor="reply"))


@bp.get("/conversations/<conversation_id>/live")
@login_required
def conversation_live(conversation_id: str):
    found = desk.follow(current_user.user, conversation_id, request.args.get("after") or None)
    if found is None:
        abort(404, "No stored conversation has that id.")
    return jsonify(found), 200, {"Cache-Control": "no-store"}


@bp.get("/handoffs/waiting")
@login_required
def handoffs_waiting():
    return jsonify(waiting=desk.waiting_count()), 200, {"Cache-Control": "no-store"}


@bp.post("/handoffs/<int:handoff_id>/contact")
@login_required
def handoff_contact(handoff_id: int):
    try:
        email = desk.reveal_contact(current_user.user, handoff_id, request.form.get("reason", ""))
    except LookupError:
        abort(404, "No address was left for that handoff (or it has been deleted).")
    except ValueError as error:
        abort(400, str(error))
    return render_template("admin/contact.html", email=email, handoff_id=handoff_id,
                           back=local_path(request.form.get("next", ""), url_for("admin.handoffs")))


@bp.post("/conversations/<conversation_id>/tags")
@bp.post("/conversations/<conversation_id>/tags/<tag>/remove")
@login_required
def conversation_tag(conversation_id: str, tag: str | None = None):
    try:
        changed = console.change_tag(current_user.user, conversation_id, tag or request.form.get("tag", ""),
                                     add=tag is None)
    except LookupError:
        abort(404, "No stored conversation has that id.")
    except ValueError as error:
        flash(f"Not tagged: {error}")
    else:
        flash(("Tag added." if tag is None else "Tag removed.") if changed else "Nothing to change.")
    return redirect(url_for("admin.conversation", conversation_id=conversation_id))


@bp.get("/handoffs")
@login_required
def handoffs():
    include_resolved = request.args.get("show") == "all"
    return render_template("admin/handoffs.html", include_resolved=include_resolved,
                           queue=console.handoff_queue(current_user.user, include_resolved))


@bp.post("/handoffs/<int:handoff_id>/<any(claim, resolve):action>")
@login_required
def handoff_action(handoff_id: int, action: str):
    done = desk.act(current_user.user, handoff_id, action)
    if action == "claim":
        flash("You claimed the handoff." if done else "Someone else already claimed or resolved that handoff.")
    else:
        flash("Handoff resolved." if done else "That handoff was already resolved.")
    return redirect(local_path(request.form.get("next", ""), url_for("admin.handoffs")))


@bp.get("/gaps")
@login_required
def knowledge_gaps():
    found = gaps.knowledge_gaps(current_user.user, include_dismissed=True)
    return render_template("admin/gaps.html", gaps=[g for g in found if not g.dismissed], recent=gaps.RECENT,
                           dismissed=sum(g.dismissed for g in found),
                           articles=gaps.article_choices() if current_user.role == "admin" else [])


@bp.get("/knowledge")
@login_required
def knowledge_status():
    return render_template("admin/knowledge.html", status=knowledge.status())


@bp.app_context_processor
def _navigation() -> dict:
    """Give every console page the number of waiting visitors for its navigation badge."""
    if request.path.startswith("/admin") and current_user.is_authenticated:
        return {"waiting_count": desk.waiting_count()}
    return {}


@bp.app_template_filter("duration")
def _duration(seconds: float | None) -> str:
    """Render a waiting time the way people read one: "40 s", "4 min", "1 h 5 min", "2 d 3 h"."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"
