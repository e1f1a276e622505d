"""The dashboard: baseline metrics with interactive charts, the incident list with filters, the
risks with their evidence, and the plan and roadmap, editable (each edit is one decision written
to overrides.yaml through the domain's plan functions)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.io as pio
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from .. import plans, questionnaires, risks
from ..analysis import scores
from ..charts import report_figures
from ..figures import figures
from ..formatting import isna
from ..maturity import headline
from .auth import db_session, login_required, ws
from .engagements import engagement_or_404
from .interview import progress, questionnaire
from .service import analysed, answer_sets, memo

bp = Blueprint("dashboard", __name__)
PAGE = 50


def _analysed(row):
    s = db_session()
    return analysed(ws(), s, row)


HOVER = {  # tooltips in words: what the bar or point is, with its unit
    "incidents_per_week": "{name} incidents in the week of %{x}: %{y}<extra></extra>",
    "availability": "{name} in %{x}: %{y:.3f}%<extra></extra>",
    "error_budget": "%{x}: %{y:.1f} times the month's error budget used<extra></extra>",
    "mttr_trend": "%{x}: median %{y:.0f} minutes to resolve ({name})<extra></extra>",
    "detection": "Detected by %{label}: %{value} of the incidents (%{percent})<extra></extra>",
}


def readable(name: str, fig):
    """A chart as the page shows it: tooltips in words (the partial month's asterisk is explained
    under the charts, in the page)."""
    pattern = HOVER.get(name)
    for trace in fig.data:
        if pattern:
            label = trace.name or ""
            if name == "availability" and trace.type == "scatter":
                trace.hovertemplate = f"{label}: the target<extra></extra>"
            else:
                trace.hovertemplate = pattern.replace("{name}", label)
    return fig


def chart_json(fig) -> Markup:
    """A figure as JSON for a <script type="application/json"> block (no inline script: CSP)."""
    text = pio.to_json(fig, validate=False).replace("</", "<\\/")
    return Markup(text)


def questionnaire_status(row) -> list[dict[str, Any]]:
    out = []
    for r, a in answer_sets(db_session(), row.id):
        answers = {qid: entry["value"] for qid, entry in a.answers.items()}
        p = progress(questionnaire(r.questionnaire), answers)
        out.append({"r": r, "progress": p, "state": r.link_state() if r.token_hash else None})
    return out


@bp.get("/e/<int:eid>")
@login_required
def overview(eid: int):
    row = engagement_or_404(eid)
    a, j = _analysed(row)  # a folder that does not load: the app's error page says why
    e = a.engagement
    charts = memo(
        ws(),
        db_session(),
        row,
        "charts",
        lambda a, _j: {
            name: chart_json(readable(name, fig))
            for name, fig in report_figures(
                a.metrics, e.branding.primary_color, e.branding.accent_color
            ).items()
        },
    )
    sc = memo(ws(), db_session(), row, "scores", lambda a, _j: scores(a))
    return render_template(
        "overview.html",
        row=row,
        a=a,
        e=e,
        m={**a.metrics, "maturity": headline(a.metrics["maturity"], sc)},  # one headline
        figures=figures(a.metrics, "en"),
        plan=j["plan"],
        top=[r for r in j["risks"] if r.get("top") and r.get("has_evidence", True)
             and (r.get("score") or 0) > 0][:3],
        charts=charts,
        people=questionnaire_status(row),
    )


def _filtered(frame, args) -> tuple[Any, dict[str, str]]:
    f = {k: (args.get(k) or "").strip() for k in ("severity", "service", "month", "detection", "q")}
    out = frame
    if f["severity"]:
        out = out[out["severity"] == f["severity"]]
    if f["service"]:
        out = out[out["service"] == f["service"]]
    if f["month"]:
        out = out[out["month"] == f["month"]]
    if f["detection"]:
        out = out[out["detection_source"] == f["detection"]]
    if f["q"]:
        needle = f["q"].lower()
        text = out["title"].fillna("") + " " + out["key"].fillna("") + " " + out["class"].fillna("")
        out = out[text.str.lower().str.contains(needle, regex=False)]
    return out, f


def _values(frame, col: str) -> list[str]:
    return sorted(str(v) for v in frame[col].dropna().unique()) if col in frame else []


@bp.get("/e/<int:eid>/incidents")
@login_required
def incidents(eid: int):
    row = engagement_or_404(eid)
    a, _j = _analysed(row)
    frame = a.frame
    if frame is None or frame.empty:
        return render_template(
            "incidents.html",
            row=row,
            rows=[],
            total=0,
            shown=0,
            filters={},
            options={},
            page=1,
            pages=1,
            e=a.engagement,
        )
    sub, filters = _filtered(frame, request.args)
    sub = sub.sort_values("start", ascending=False)
    pages = max(1, -(-len(sub) // PAGE))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    tz = a.engagement.tz
    rows = []
    for rec in sub.iloc[(page - 1) * PAGE : page * PAGE].to_dict("records"):
        text = {k: "" if isna(rec.get(k)) else str(rec[k])
                for k in ("key", "title", "severity", "service", "detection_source", "class")}
        start = rec.get("start")
        # durations out of order are not measured (the metrics' rule); the row says why
        ttr, ttd = rec.get("ttr"), rec.get("ttd")
        rows.append({**text, "detection": text["detection_source"],
                     "ttr": None if isna(ttr) or ttr < 0 else ttr,
                     "ttd": None if isna(ttd) or ttd < 0 else ttd,
                     "timeline_issue": None if isna(rec.get("timeline_issue"))
                     else str(rec["timeline_issue"]),
                     "postmortem": not isna(rec.get("postmortem_at")),
                     "started": "" if isna(start) else start.tz_convert(tz).strftime("%Y-%m-%d %H:%M")})
    options = {
        "severity": _values(frame, "severity"),
        "service": _values(frame, "service"),
        "month": _values(frame, "month"),
        "detection": _values(frame, "detection_source"),
    }
    return render_template(
        "incidents.html",
        row=row,
        rows=rows,
        total=len(frame),
        shown=len(sub),
        filters=filters,
        options=options,
        page=page,
        pages=pages,
        e=a.engagement,
    )


@bp.get("/e/<int:eid>/practices")
@login_required
def practices(eid: int):
    row = engagement_or_404(eid)
    a, _j = _analysed(row)
    sc = memo(ws(), db_session(), row, "scores", lambda a, _j: scores(a))
    selves = [r for r in sc["respondents"] if r["questionnaire"] != "intake"]
    intake = next((r for r in sc["respondents"] if r["questionnaire"] == "intake"), None)
    return render_template("practices.html", row=row, sc=sc, selves=selves, areas=questionnaires.areas(),
                           lang=a.engagement.language, intake=intake,
                           maturity=headline(a.metrics["maturity"], sc),
                           claims=questionnaires.claims(sc, a.metrics))


@bp.get("/e/<int:eid>/risks")
@login_required
def risk_list(eid: int):
    row = engagement_or_404(eid)
    a, j = _analysed(row)
    return render_template("risks.html", row=row, ranking=j["risks"], e=a.engagement)


@bp.get("/e/<int:eid>/plan")
@login_required
def plan(eid: int):
    row = engagement_or_404(eid)
    a, j = _analysed(row)
    _catalog, library = memo(
        ws(), db_session(), row, "catalogs", lambda a, _j: plans.load_catalogs(a.engagement.root)
    )
    overrides = plans.read_overrides_data(a.engagement.root)
    lang = a.engagement.language
    in_plan = {x["id"] for x in j["plan"]["actions"]}
    dropped = set((overrides.get("actions") or {}).get("drop") or [])
    available = [
        (aid, act.title.get(lang) or act.title["en"])
        for aid, act in library.actions.items()
        if aid not in in_plan
    ]
    roles = [(rid, names.get(lang) or names["en"]) for rid, names in library.roles.items()]
    edits = dict((overrides.get("actions") or {}).get("edit") or {})
    edits.update({x["id"]: x for x in (overrides.get("actions") or {}).get("add") or []})
    start = dt.date.fromisoformat(str(j["plan"]["start_date"]))
    flags = {x["id"]: due_flags(x.get("due"), x.get("horizon"), x.get("status"), start,
                                library.horizons, bool(x.get("overdue")))
             for x in j["plan"]["actions"]}
    board = [{"horizon": h, "label": library.horizons[h].get(lang) or library.horizons[h]["en"],
              "actions": [x for x in j["plan"]["actions"] if x.get("horizon") == h]}
             for h in library.horizons]
    titles = {x["id"]: x["title"] for x in j["plan"]["actions"]}
    return render_template(
        "plan.html",
        row=row,
        titles=titles,
        warnings=[ids_to_titles(w, titles) for w in j["plan"].get("warnings") or []],
        flags=flags,
        board=board,
        view=request.args.get("view", "list"),
        plan=j["plan"],
        e=a.engagement,
        roles=roles,
        edits=edits,
        owners=overrides.get("owners") or {},
        available=available,
        dropped=dropped,
        library=library,
        lang=lang,
        statuses=plans.STATUSES,
    )


def ids_to_titles(text: str, titles: dict[str, str]) -> str:
    """A plan sentence with action ids ('one-command-rollback') told by their titles."""
    import re

    def swap(m):
        return f"“{titles[m.group(0)]}”" if m.group(0) in titles else m.group(0)

    return re.sub(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b", swap, text)


HORIZON_FIRST_DAY = {"0-7": 1, "7-30": 8, "30-90": 31}  # day 1 is the plan's start date


def due_flags(due: Any, horizon: str | None, status: str | None, start: dt.date,
              horizons: dict[str, Any], overdue: bool = False,
              today: dt.date | None = None) -> list[str]:
    """What is wrong with an action's due date, in words: outside its horizon (a weekend's slack
    for the working-day rule), or in the past while the action is not done."""
    if not due:
        return []
    try:
        day = dt.date.fromisoformat(str(due)[:10])
    except ValueError:
        return [f"{due!r} is not a date"]
    out = []
    if horizon in horizons and horizon in HORIZON_FIRST_DAY:
        first = start + dt.timedelta(days=HORIZON_FIRST_DAY[horizon] - 1)
        last = start + dt.timedelta(days=int(horizons[horizon]["days"]) - 1)
        label = horizons[horizon].get("en", horizon)
        if day < first - dt.timedelta(days=2) or day > last + dt.timedelta(days=2):
            out.append(f"due {day:%d %b %Y} is outside its horizon, {label} "
                       f"({first:%d %b} to {last:%d %b %Y})")
    if day < (today or dt.date.today()) and status != "done" and not overdue:
        out.append(f"due {day:%d %b %Y} is in the past")
    return out


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _edit(row, **kwargs) -> str | None:
    """Write one decision to overrides.yaml; the error in words, None when saved."""
    root = ws().folder(row)
    catalog, library = plans.load_catalogs(root)
    try:
        plans.edit_overrides(root, catalog, library, **kwargs)
    except risks.CatalogError as exc:
        if not wants_json():
            flash(f"Not saved: {exc}", "error")
        return str(exc)
    if not wants_json():
        flash("Saved to overrides.yaml: the plan and the reports use it from now on.")
    return None


def _inline(row, error: str | None, aid: str = "", due: str = "", horizon: str = "",
            status: str = ""):
    """The answer to an inline edit: saved or why not, and the due date's flags."""
    if error:
        return jsonify(ok=False, message=f"Not saved: {error}"), 400
    flags: list[str] = []
    if due:
        root = ws().folder(row)
        _catalog, library = plans.load_catalogs(root)
        from ..engagement import load_engagement

        e = load_engagement(root)
        start = e.start_date or plans.next_monday(dt.date.today())
        flags = due_flags(due, horizon, status, start, library.horizons)
    return jsonify(ok=True, message="Saved", flags=flags)


@bp.post("/e/<int:eid>/plan/actions/<aid>")
@login_required
def edit_action(eid: int, aid: str):
    row = engagement_or_404(eid)
    form = request.form
    op = form.get("op", "edit")
    if op == "drop":
        _edit(row, action=aid, drop=True, pin=False)
    elif op == "restore":
        _edit(row, action=aid, drop=False)
    elif op == "pin":
        _edit(row, action=aid, pin=True, drop=False)
    elif op == "unpin":
        _edit(row, action=aid, pin=False)
    elif op == "status":
        word = (form.get("status") or "").strip()
        day = (form.get("status_date") or "").strip()
        try:
            date = dt.date.fromisoformat(day) if day else (dt.date.today() if word == "done" else None)
        except ValueError:
            return _answer(eid, aid, f"{day!r} is not a date (expected YYYY-MM-DD).")
        if word not in plans.STATUSES:
            return _answer(eid, aid, f"{word!r} is not a status ({', '.join(plans.STATUSES)}).")
        error = _edit(row, action=aid, status=(word, date))
        if wants_json():
            return _inline(row, error, aid, form.get("due_was", ""), form.get("horizon", ""), word)
    else:
        due = (form.get("due") or "").strip()
        if due:
            try:
                dt.date.fromisoformat(due)
            except ValueError:
                return _answer(eid, aid, f"{due!r} is not a date (expected YYYY-MM-DD).")
        # only what the consultant changed: an untouched date or title stays computed
        edit = {
            "owner": (form.get("owner") or "").strip()[:200],
            "note": (form.get("note") or "").strip()[:1000],
        }
        if due != form.get("due_was", ""):
            edit["due"] = due
        title = (form.get("title") or "").strip()[:300]
        if title and title != form.get("title_was", "").strip():
            edit["title"] = title
        error = _edit(row, action=aid, edit=edit)
        if wants_json():
            return _inline(row, error, aid, due, form.get("horizon", ""), form.get("status_was", ""))
    return redirect(url_for("dashboard.plan", eid=eid) + f"#a-{aid}")


def _answer(eid: int, aid: str, message: str):
    """A refused edit: JSON for the inline save, else a flash on the plan page."""
    if wants_json():
        return jsonify(ok=False, message=f"Not saved: {message}"), 400
    flash(f"Not saved: {message}", "error")
    return redirect(url_for("dashboard.plan", eid=eid) + f"#a-{aid}")


@bp.post("/e/<int:eid>/plan/pin")
@login_required
def pin_action(eid: int):
    row = engagement_or_404(eid)
    aid = request.form.get("aid", "")
    _edit(row, action=aid, pin=True, drop=False)
    return redirect(url_for("dashboard.plan", eid=eid) + f"#a-{aid}")


@bp.post("/e/<int:eid>/plan/owners")
@login_required
def owners(eid: int):
    row = engagement_or_404(eid)
    role = request.form.get("role", "")
    error = _edit(row, owner=(role, (request.form.get("person") or "").strip()[:200] or None))
    if wants_json():
        return _inline(row, error)
    return redirect(url_for("dashboard.plan", eid=eid) + "#owners")


@bp.post("/e/<int:eid>/risks/<rid>")
@login_required
def edit_risk(eid: int, rid: str):
    row = engagement_or_404(eid)
    op = request.form.get("op")
    if op == "edit":  # the finding (and title) in the consultant's words
        _edit(row, risk=rid, risk_edit={k: request.form.get(k, "").strip()[:2000]
                                        for k in ("title", "finding") if k in request.form})
    elif op == "drop":
        then = request.form.get("then", "")
        carried = edited_actions(row, rid)
        if carried and then not in ("keep", "drop"):
            a, j = _analysed(row)
            risk = next((r for r in j["risks"] if r["id"] == rid), {"id": rid, "title": rid})
            return render_template("risk_drop.html", row=row, risk=risk, actions=carried)
        for aid in carried:  # the consultant's answer for the actions that carry their edits
            _edit(row, action=aid, pin=then == "keep", drop=then == "drop")
        _edit(row, risk=rid, risk_drop=True)
    else:
        _edit(row, risk=rid, risk_drop=False)
    return redirect(url_for("dashboard.risk_list", eid=eid) + f"#r-{rid}")


def edited_actions(row, rid: str) -> dict[str, str]:
    """The plan's actions for a risk that carry the consultant's edits (owner, due date, note,
    title or a status): id -> title."""
    _a, j = _analysed(row)
    overrides = plans.read_overrides_data(ws().folder(row))
    acts = overrides.get("actions") or {}
    touched = set(acts.get("edit") or {}) | set(acts.get("status") or {})
    return {x["id"]: x["title"] for x in j["plan"]["actions"]
            if rid in (x.get("risks") or []) and x["id"] in touched and not x.get("pinned")}


@bp.post("/e/<int:eid>/risks")
@login_required
def add_risk(eid: int):
    """A risk of the consultant's own: scored from the likelihood and impact they state."""
    row = engagement_or_404(eid)
    form = request.form
    rid = "".join(c if c.isalnum() else "-" for c in form.get("title", "").lower()).strip("-")[:60]
    try:
        likelihood, impact = float(form.get("likelihood", "")), float(form.get("impact", ""))
    except ValueError:
        flash("Not saved: likelihood (0 to 1) and impact (1 to 10) must be numbers.", "error")
        return redirect(url_for("dashboard.risk_list", eid=eid) + "#add-risk")
    added = {"id": f"own-{rid}" if rid else "own-risk", "title": form.get("title", "").strip()[:200],
             "finding": form.get("finding", "").strip()[:2000], "likelihood": likelihood,
             "impact": impact}
    actions = [a for a in form.getlist("actions") if a]
    _edit(row, risk_add={**added, "actions": actions} if actions else added)
    return redirect(url_for("dashboard.risk_list", eid=eid) + "#add-risk")
