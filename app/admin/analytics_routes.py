"""Console analytics under /admin/analytics, for admins and reviewers: the page and one CSV per chart.

No audit row per view: these are aggregate counts, not customer data (see app/admin/usage.py).
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from app.admin import charts, usage

bp = Blueprint("analytics", __name__, url_prefix="/admin/analytics")


def window() -> int:
    """Return the requested window in days (30 unless asked), or answer 400."""
    raw = request.args.get("days", "30")
    if raw not in {str(days) for days in usage.WINDOWS}:
        abort(400, "Choose a window of " + ", ".join(map(str, usage.WINDOWS[:-1])) +
              f" or {usage.WINDOWS[-1]} days.")
    return int(raw)


@bp.get("")
@login_required
def page():
    days = window()
    report = usage.report(current_user.user, days)
    # The SVG is built with ElementTree, which escapes every label (article titles, visitor questions).
    drawings = {f.name: Markup(charts.svg(f)) for f in report.figures}
    return render_template("admin/analytics.html", report=report, drawings=drawings, windows=usage.WINDOWS)


@bp.get("/<name>.csv")
@login_required
def download(name: str):
    days = window()
    figure = usage.figure(current_user.user, name, days)
    if figure is None:
        abort(404, "There is no chart by that name.")
    return Response(charts.csv_text(figure), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="quietdesk-{figure.name}-{days}-days.csv"'})
