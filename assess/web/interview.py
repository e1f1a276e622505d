"""The questionnaires on the web: the consultant-led intake interview and the client's
self-assessment through a link. One section per page, a progress bar, a note per answer, and
answers saved as they are given (one database row per answer; see static/app.js for the browser
side that keeps unsent answers until the server has them)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import delete, select

from .. import questionnaires
from .auth import db_session, login_required, write
from .db import Answer, EngagementRow, Respondent, upsert_answer, utcnow
from .engagements import engagement_or_404
from .service import token_hash

bp = Blueprint("interview", __name__)
MAX_NOTE = 5000
MAX_TEXT = 5000


@functools.cache
def questionnaire(name: str) -> questionnaires.Questionnaire:
    return questionnaires.load(name)


def coerce(q: questionnaires.Question, raw: Any) -> Any:
    """A submitted value as the questionnaire stores it; ValueError with the expected form."""
    if raw is None or raw == "" or raw == []:
        return None
    if isinstance(raw, str) and raw in questionnaires.RESERVED:
        q.special(raw)  # "not applicable" only where the question offers it
        return raw
    if q.type == "multiple":
        values = raw if isinstance(raw, list) else [raw]
        q.score([str(v) for v in values])
        return [str(v) for v in values]
    if q.type == "text":
        text = str(raw).strip()
        if len(text) > MAX_TEXT:
            raise ValueError(f"expected at most {MAX_TEXT} characters")
        return text or None
    if q.type == "single":
        q.score(str(raw))
        return str(raw)
    try:
        number = float(str(raw).replace(",", ".")) if not isinstance(raw, int | float) else raw
    except ValueError:
        raise ValueError("expected a number") from None
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    q.score(number)
    return number


def stored(respondent_id: int) -> dict[str, Answer]:
    return {a.question_id: a for a in db_session().scalars(
        select(Answer).where(Answer.respondent_id == respondent_id))}


def answered(questions, values: dict[str, Any]) -> dict[str, int]:
    """Applicable questions answered, out of those applicable."""
    live = [q for q in questions if q.applies(values)]
    return {"answered": sum(1 for q in live if values.get(q.id) not in (None, "", [])), "total": len(live)}


def progress(qn: questionnaires.Questionnaire, answers: dict[str, Any]) -> dict[str, int]:
    values = {k: a.value if isinstance(a, Answer) else a for k, a in answers.items()}
    return answered(qn.questions.values(), values)


def save(respondent: Respondent, items: list[dict[str, Any]]) -> tuple[list[str], dict[str, str]]:
    """Upsert each answer in its own row, in one immediate transaction; an invalid one is
    reported and the others are still saved."""
    qn = questionnaire(respondent.questionnaire)
    saved, errors, valid = [], {}, []
    for item in items:
        qid = str(item.get("question", ""))
        q = qn.questions.get(qid)
        if q is None:
            errors[qid] = "unknown question"
            continue
        try:
            value = coerce(q, item.get("value"))
        except ValueError as exc:
            errors[qid] = str(exc)
            continue
        note = (str(item.get("note") or "").strip() or None)
        if note and len(note) > MAX_NOTE:
            errors[qid] = f"the note is longer than {MAX_NOTE} characters"
            continue
        valid.append((qid, value, note))
    if valid:
        with write() as s:
            now = utcnow()
            for qid, value, note in valid:
                if value is None and note is None:
                    s.execute(delete(Answer).where(Answer.respondent_id == respondent.id,
                                                   Answer.question_id == qid))
                else:
                    upsert_answer(s, respondent.id, qid, value, note, now)
                saved.append(qid)
            live = s.get(Respondent, respondent.id)
            if live.started_at is None:
                live.started_at = now
    return saved, errors


def form_items(qn: questionnaires.Questionnaire, section: int, form) -> list[dict[str, Any]]:
    """The answers a section's form posted (a plain POST, when scripts are off or as the final
    save of the page). A question absent from the post is left as it is."""
    items = []
    for q in qn.sections[section][2]:
        key = f"q:{q.id}"
        if q.type == "multiple":
            if f"present:{q.id}" not in form and key not in form:
                continue
            value: Any = form.getlist(key)
        elif key in form:  # a number typed wins over a "don't know" left ticked beside it
            value = next((v for v in form.getlist(key) if v != ""), "")
        elif f"note:{q.id}" in form and f"present:{q.id}" in form:
            value = None
        else:
            continue
        items.append({"question": q.id, "value": value, "note": form.get(f"note:{q.id}")})
    return items


def page(respondent: Respondent, section: int, urls: dict[str, str], posted=None,
         message: str | None = None, status: int = 200, errors: dict[str, str] | None = None,
         row: EngagementRow | None = None):
    qn = questionnaire(respondent.questionnaire)
    if not 0 <= section < len(qn.sections):
        abort(404)
    answers = stored(respondent.id)
    values: dict[str, Any] = {k: a.value for k, a in answers.items()}
    notes = {k: a.note for k, a in answers.items()}
    if posted is not None:  # a post the server could not accept: show what was typed, not lost
        for item in form_items(qn, section, posted):
            values[item["question"]], notes[item["question"]] = item["value"], item["note"]
    lang = respondent.language if respondent.language in questionnaires.LANGS else "en"
    sid, title, questions = qn.sections[section]
    rows = [{"q": q, "value": values.get(q.id), "note": notes.get(q.id) or "",
             "applicable": q.applies(values)} for q in questions]
    prog = progress(qn, values)
    done = [progress_of_section(qn, i, values) for i in range(len(qn.sections))]
    return render_template(
        "questionnaire.html", respondent=respondent, qn=qn, lang=lang, section=section, sid=sid,
        title=title, rows=rows, progress=prog, sections=done, urls=urls, message=message,
        errors=errors or {}, notes_enabled=respondent.questionnaire == "intake",
        reserved_labels=questionnaires.RESERVED_LABELS,
        csrf=generate_csrf(), row=row), status


def progress_of_section(qn, i: int, values: dict[str, Any]) -> dict[str, Any]:
    _sid, title, questions = qn.sections[i]
    return {"title": title, **answered(questions, values)}


def resume_section(respondent: Respondent) -> int:
    qn = questionnaire(respondent.questionnaire)
    values = {k: a.value for k, a in stored(respondent.id).items()}
    for i in range(len(qn.sections)):
        p = progress_of_section(qn, i, values)
        if p["answered"] < p["total"]:
            return i
    return 0


def json_answers(respondent: Respondent):
    if request.method == "GET":
        answers = stored(respondent.id)
        qn = questionnaire(respondent.questionnaire)
        return jsonify(answers={k: {"value": a.value, "note": a.note} for k, a in answers.items()},
                       progress=progress(qn, answers))
    body = request.get_json(silent=True)
    items = body.get("answers") if isinstance(body, dict) else None
    if not isinstance(items, list) or len(items) > 500 or not all(isinstance(i, dict) for i in items):
        return jsonify(error="bad_request", message="expected {answers: [{question, value, note}]}"), 400
    saved, errors = save(respondent, items)
    qn = questionnaire(respondent.questionnaire)
    return jsonify(saved=saved, errors=errors, progress=progress(qn, stored(respondent.id)),
                   saved_at=utcnow().isoformat() + "Z"), (200 if not errors else 422)


def post_section(respondent: Respondent, section: int, urls: dict[str, str], next_url, done_url,
                 row: EngagementRow | None = None):
    qn = questionnaire(respondent.questionnaire)
    if not 0 <= section < len(qn.sections):
        abort(404)
    _saved, errors = save(respondent, form_items(qn, section, request.form))
    if errors:
        return page(respondent, section, urls, posted=request.form, status=400, errors=errors,
                    message="Some answers were not saved: see the questions marked below.", row=row)
    if request.form.get("go") == "back" and section > 0:
        return redirect(next_url(section - 1))
    if section + 1 < len(qn.sections) and request.form.get("go") != "stay":
        return redirect(next_url(section + 1))
    return redirect(done_url if section + 1 >= len(qn.sections) else next_url(section))


# --- the intake interview (consultant) ---------------------------------------------------------


def intake_of(row: EngagementRow) -> Respondent:
    r = db_session().scalar(select(Respondent).where(Respondent.engagement_id == row.id,
                                                     Respondent.questionnaire == "intake"))
    if r is None:
        with write() as s:
            s.add(Respondent(engagement_id=row.id, questionnaire="intake", name="Consultant",
                             role="consultant", slug="intake"))
        r = db_session().scalar(select(Respondent).where(Respondent.engagement_id == row.id,
                                                         Respondent.questionnaire == "intake"))
    return r


def intake_urls(eid: int) -> dict[str, str]:
    return {"answers": url_for("interview.intake_answers", eid=eid),
            "section": url_for("interview.section", eid=eid, n=0)[:-1],
            "back": url_for("dashboard.overview", eid=eid)}


@bp.get("/e/<int:eid>/interview")
@login_required
def resume(eid: int):
    row = engagement_or_404(eid)
    return redirect(url_for("interview.section", eid=eid, n=resume_section(intake_of(row))))


@bp.route("/e/<int:eid>/interview/<int:n>", methods=["GET", "POST"])
@login_required
def section(eid: int, n: int):
    row = engagement_or_404(eid)
    r = intake_of(row)
    if request.method == "POST":
        return post_section(r, n, intake_urls(eid), lambda i: url_for("interview.section", eid=eid, n=i),
                            url_for("dashboard.overview", eid=eid, interview="done"), row=row)
    return page(r, n, intake_urls(eid), row=row)


@bp.route("/e/<int:eid>/interview/answers.json", methods=["GET", "POST"])
@login_required
def intake_answers(eid: int):
    return json_answers(intake_of(engagement_or_404(eid)))


# --- the self-assessment (a link, no account) ---------------------------------------------------


def _by_token(token: str) -> Respondent | None:
    if not token or len(token) > 100:
        return None
    return db_session().scalar(select(Respondent).where(Respondent.token_hash == token_hash(token)))


def ended(r: Respondent | None):
    """The page for a link that no longer opens the form, in the respondent's language."""
    if r is None:
        return render_template("link_ended.html", state="unknown"), 404
    return render_template("link_ended.html", state=r.link_state(), lang=r.language), 410


@bp.get("/s/<token>")
def respondent_start(token: str):
    """The link's landing page. A GET changes nothing (a mail scanner opening the link does not
    use it up); the Start button posts the token and exchanges it for a session."""
    r = _by_token(token)
    if r is None or r.link_state() in ("revoked", "expired"):
        return ended(r)
    e = db_session().get(EngagementRow, r.engagement_id)
    if r.submitted_at is not None:  # they already sent their answers: their thanks page
        qn = questionnaire(r.questionnaire)
        return render_template("respondent_done.html", r=r, progress=progress(qn, stored(r.id)),
                               lang=r.language, submitted=True, token=token,
                               when=local_moment(r.submitted_at, e, r.language))
    return render_template("respondent_start.html", r=r, client=e.client,
                           qn=questionnaire(r.questionnaire), lang=r.language)


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
             "octobre", "novembre", "décembre")


def local_moment(when: dt.datetime, row: EngagementRow, lang: str) -> str:
    """A moment in the engagement's time zone and the respondent's language: '3 novembre 2026
    à 14:05' in French (24-hour), '3 November 2026 at 14:05' in English."""
    from ..engagement import EngagementError, load_engagement
    from .auth import ws

    try:
        tz = load_engagement(ws().folder(row)).tz
    except EngagementError:
        tz = dt.UTC
    local = when.replace(tzinfo=dt.UTC).astimezone(tz)
    if lang == "fr":
        return f"{local.day} {MONTHS_FR[local.month - 1]} {local.year} à {local:%H:%M}"
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


@bp.post("/s/<token>")
def respondent_exchange(token: str):
    r = _by_token(token)
    if r is None or r.link_state() in ("revoked", "expired"):
        return ended(r)
    session.permanent = True
    session["respondent"] = r.id
    session["respondent_key"] = r.token_hash
    if r.opened_at is None:  # Start pressed: a person opened it (a mail scanner only GETs)
        with write() as s:
            s.get(Respondent, r.id).opened_at = utcnow()
    if request.form.get("review"):
        return redirect(url_for("interview.respondent_section", n=0))
    return redirect(url_for("interview.respondent_form"))  # the token leaves the address bar


def current_respondent() -> Respondent | None:
    rid = session.get("respondent")
    r = db_session().get(Respondent, rid) if rid else None
    if r is None or r.token_hash != session.get("respondent_key") or r.link_state() in ("revoked", "expired"):
        return None
    return r


def respondent_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        r = current_respondent()
        if r is None:
            if request.is_json or request.path.endswith(".json"):
                return jsonify(error="link_ended", message="This link has ended; ask your consultant "
                               "for a new one. Your unsaved answers are kept in this browser."), 403
            known = db_session().get(Respondent, session["respondent"]) if session.get("respondent") else None
            lang = known.language if known else "en"
            return render_template("link_ended.html", state="session", lang=lang), 403
        return view(r, *args, **kwargs)
    return wrapped


def respondent_urls() -> dict[str, str]:
    return {"answers": url_for("interview.respondent_answers"),
            "section": url_for("interview.respondent_section", n=0)[:-1], "back": None}


@bp.get("/r/")
@respondent_required
def respondent_form(r: Respondent):
    return redirect(url_for("interview.respondent_section", n=resume_section(r)))


@bp.route("/r/<int:n>", methods=["GET", "POST"])
@respondent_required
def respondent_section(r: Respondent, n: int):
    if request.method == "POST":
        return post_section(r, n, respondent_urls(), lambda i: url_for("interview.respondent_section", n=i),
                            url_for("interview.respondent_done"))
    return page(r, n, respondent_urls())


@bp.route("/r/answers.json", methods=["GET", "POST"])
@respondent_required
def respondent_answers(r: Respondent):
    return json_answers(r)


@bp.route("/r/done", methods=["GET", "POST"])
@respondent_required
def respondent_done(r: Respondent):
    qn = questionnaire(r.questionnaire)
    prog = progress(qn, stored(r.id))
    if request.method == "POST":
        with write() as s:
            s.get(Respondent, r.id).submitted_at = utcnow()
        r.submitted_at = utcnow()
    when = None
    if r.submitted_at is not None:
        when = local_moment(r.submitted_at, db_session().get(EngagementRow, r.engagement_id), r.language)
    return render_template("respondent_done.html", r=r, progress=prog, lang=r.language,
                           submitted=r.submitted_at is not None, when=when)


def csrf_recovery():
    """A section posted with an expired token: show the page again with what was typed (nothing
    is saved without a valid token, and nothing typed is thrown away)."""
    if request.method != "POST":
        return None
    msg = ("This page was open a long time and its security token expired, so these answers were "
           "not saved yet. Nothing is lost: check them and press Save again.")
    n = (request.view_args or {}).get("n", 0)
    if request.endpoint == "interview.section":
        from .auth import current_user

        if current_user() is None:
            return None
        row = engagement_or_404(request.view_args["eid"])
        return page(intake_of(row), n, intake_urls(row.id), posted=request.form, message=msg, status=400,
                    row=row)
    if request.endpoint == "interview.respondent_section":
        r = current_respondent()
        if r is not None:
            return page(r, n, respondent_urls(), posted=request.form, message=msg, status=400)
    return None
