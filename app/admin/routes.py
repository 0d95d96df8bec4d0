"""Console pages under /admin: sign in, sign out, home."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.admin import console

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
FAILED = "Wrong email or password, or too many attempts. Try again in a few minutes."


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("admin/login.html", error=None)
    email = request.form.get("email", "").strip()[:254]
    user = console.sign_in(email, request.form.get("password", ""))
    if user is None:
        return render_template("admin/login.html", error=FAILED, email=email), 401
    session.clear()  # a fresh session at login: nothing from before carries over
    login_user(user)
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/admin") and "//" not in target else url_for("admin.home"))


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
    return render_template("admin/home.html", user=current_user.user, queue=console.open_handoffs())


@bp.get("/conversations")
@login_required
def conversations():
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 10**6 else 1
    return render_template("admin/conversations.html", rows=console.conversations(current_user.user, page),
                           page=page, page_size=console.PAGE_SIZE)


@bp.get("/conversations/<conversation_id>")
@login_required
def conversation(conversation_id: str):
    found = console.conversation(current_user.user, conversation_id)
    if found is None:
        abort(404)
    return render_template("admin/conversation.html", conversation=found)
