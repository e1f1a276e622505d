"""The check-in page: the frozen baseline against the weeks since the plan started
(assess/checkin.py); the PDF comes from `assess checkin --report`."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import checkin
from .auth import db_session, login_required, ws
from .engagements import engagement_or_404
from .service import analysed

bp = Blueprint("checkins", __name__)


@bp.get("/e/<int:eid>/checkin")
@login_required
def index(eid: int):
    row = engagement_or_404(eid)
    a, j = analysed(ws(), db_session(), row)  # writes the answers to the folder first
    e = a.engagement
    baseline = checkin.load_baseline(e)
    start = dt.date.fromisoformat(str((baseline or {}).get("plan", {}).get("start_date")
                                      or j["plan"]["start_date"]))
    default = min(dt.date.today(), start + dt.timedelta(days=89))
    try:
        as_of = dt.date.fromisoformat(request.args.get("as_of") or default.isoformat())
    except ValueError:
        flash("The check-in date must be a date (YYYY-MM-DD).", "error")
        as_of = default
    c, error = None, None
    if baseline is not None:
        try:
            c = checkin.checkin(e, as_of, "en")
        except checkin.CheckinError as exc:
            error = str(exc)
    return render_template("checkin.html", row=row, e=e, c=c, baseline=baseline, error=error,
                           as_of=as_of, start=start, day30=start + dt.timedelta(days=29),
                           day90=start + dt.timedelta(days=89))


@bp.post("/e/<int:eid>/baseline")
@login_required
def freeze(eid: int):
    row = engagement_or_404(eid)
    a, j = analysed(ws(), db_session(), row)
    _, written = checkin.freeze(a, j, force=request.form.get("force") == "1")
    flash("Baseline frozen: check-ins compare with it." if written else
          "A baseline is already frozen; it stays as it was.")
    return redirect(url_for("checkins.index", eid=eid))
