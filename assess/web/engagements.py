"""Engagements: the consultant's list, creating one, settings and branding, self-assessment
links, and the engagement folder as a zip (export and import: nothing is locked in the database)."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import tempfile
from pathlib import Path
from zoneinfo import available_timezones

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import func, select
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..engagement import (
    EngagementError,
    load_engagement,
    people_from_lines,
    people_lines,
    read_settings,
    save_settings,
)
from .auth import current_user, db_session, login_required, write, ws
from .db import Answer, EngagementRow, Respondent, utcnow
from .logos import LogoError, check_raster, rasterise_svg
from .service import create_engagement, export_zip, import_folder, slugify, token_hash, unpack_zip

bp = Blueprint("engagements", __name__)


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


LANGS = choices([("en", "English"), ("fr", "Français")])
ROLES = {"founder": "Founder / CEO", "cto": "CTO", "engineer": "Engineer", "support": "Support",
         "product": "Product", "other": "Other", "consultant": "Consultant"}
LANGUAGE_NAMES = {"en": "English", "fr": "French"}
LINK_STATES = {  # what a link's state means, for the consultant
    "created": ("created", "Link made; the person has not opened the form yet."),
    "opened": ("opened", "Opened and started the form; no answer yet."),
    "started": ("started", "Answering: answers are saved as they go."),
    "submitted": ("submitted", "Answers sent."),
    "revoked": ("withdrawn", "The link no longer opens the form; the answers are kept."),
    "expired": ("expired", "The link is past its end date; give them a new one."),
}
DAYS = [("mon", "Mon"), ("tue", "Tue"), ("wed", "Wed"), ("thu", "Thu"), ("fri", "Fri"),
        ("sat", "Sat"), ("sun", "Sun")]
COLOR = Regexp(r"^#[0-9a-fA-F]{6}$", message="A colour as #RRGGBB.")
LOGO_MAX = 1024 * 1024


def link_url(token: str) -> str:
    """A self-assessment link: on the configured public URL (ASSESS_PUBLIC_URL) when there is
    one, else on the request's host, which the app only accepts from its trusted hosts
    (TRUSTED_HOSTS: a request naming any other host gets a 400 before it gets here)."""
    path = url_for("interview.respondent_start", token=token)
    public = current_app.config.get("PUBLIC_URL")
    return public + path if public else url_for("interview.respondent_start", token=token,
                                                  _external=True)


def timezones() -> list[tuple[str, str]]:
    return choices((z, z) for z in sorted(available_timezones()) if "/" in z or z == "UTC")


def engagement_or_404(eid: int) -> EngagementRow:
    """The signed-in consultant's engagement, else 404 (never a hint that it exists)."""
    row = db_session().get(EngagementRow, eid)
    user = current_user()
    if row is None or user is None or row.owner_id != user.id:
        abort(404)
    return row


class EngagementForm(FlaskForm):
    client = StringField("Client company", validators=[DataRequired(), Length(max=200)])
    consultant = StringField("Consultant", validators=[DataRequired(), Length(max=200)])
    firm = StringField("Firm", validators=[Optional(), Length(max=200)])
    timezone = SelectField("Client's time zone", default="UTC")
    window_end = DateField("Last day of the 90-day window", validators=[DataRequired()])
    language = SelectField("Report language", choices=LANGS, default="en")
    sla = DecimalField("SLA (monthly availability, %)", places=None, default=99.9,
                       validators=[DataRequired(), NumberRange(min=50, max=100)])


SEVERITY_KEYS = ("SEV1", "SEV2", "SEV3", "SEV4")
MINUTES = [Optional(), NumberRange(min=0, max=43200)]  # a mitigation target: up to 30 days


class SettingsForm(EngagementForm):
    window_days = IntegerField("Window length (days)", default=90, validators=[NumberRange(min=1, max=3660)])
    start_date = DateField("First day of the reset plan", validators=[Optional()])
    team_size = IntegerField("Engineers in the team",
                             validators=[Optional(), NumberRange(min=1, max=100_000)])
    people = TextAreaField("People who carry the plan", validators=[Optional(), Length(max=5000)])
    primary_color = StringField("Primary colour", validators=[Optional(), COLOR])
    accent_color = StringField("Accent colour", validators=[Optional(), COLOR])
    logo = FileField("Client logo (SVG, PNG or JPG, up to 1 MB; an SVG is kept as a PNG)",
                     validators=[FileAllowed(["svg", "png", "jpg", "jpeg"], "SVG, PNG or JPG only.")])
    consultant_logo = FileField("Your own logo (SVG, PNG or JPG, up to 1 MB)",
                                validators=[FileAllowed(["svg", "png", "jpg", "jpeg"],
                                                        "SVG, PNG or JPG only.")])
    target_sev1 = DecimalField("SEV1 (minutes)", places=None, validators=MINUTES)
    target_sev2 = DecimalField("SEV2 (minutes)", places=None, validators=MINUTES)
    target_sev3 = DecimalField("SEV3 (minutes)", places=None, validators=MINUTES)
    target_sev4 = DecimalField("SEV4 (minutes)", places=None, validators=MINUTES)
    hours_start = StringField("Business hours start", validators=[Optional(), Regexp(
        r"^([01]\d|2[0-3]):[0-5]\d$", message="A time as HH:MM, e.g. 09:00.")])
    hours_end = StringField("Business hours end", validators=[Optional(), Regexp(
        r"^([01]\d|2[0-3]):[0-5]\d$", message="A time as HH:MM, e.g. 18:00.")])
    hours_days = SelectMultipleField("Working days", choices=choices(DAYS))


class LinkForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=choices([("founder", "Founder / CEO"), ("cto", "CTO"),
                                                ("engineer", "Engineer"), ("support", "Support"),
                                                ("product", "Product"), ("other", "Other")]))
    language = SelectField("Language", choices=LANGS, default="en")
    days = IntegerField("Expires after (days)", default=14, validators=[NumberRange(min=1, max=90)])


class ImportFolderForm(FlaskForm):
    archive = FileField("Engagement folder as a .zip", validators=[FileRequired(), FileAllowed(["zip"])])


def engagement_state(row: EngagementRow) -> dict:
    """What the list says of an engagement: its window, the interview's progress, the responses,
    the last import and the last report."""
    from .. import store
    from .db import ReportJob
    from .interview import progress, questionnaire
    from .service import answer_sets

    out: dict = {"ok": True, "window": "", "consultant": "", "interview": None, "responses": (0, 0),
                 "last_import": None, "last_report": None}
    try:
        e = load_engagement(ws().folder(row))
        same_year = e.window_start.year == e.window_end.year
        first = f"{e.window_start.day} {e.window_start:%b}" + ("" if same_year else f" {e.window_start.year}")
        out.update(window=f"{first} – {e.window_end.day} {e.window_end:%b %Y}", consultant=e.consultant)
        imports = store.read_manifest(e)
        if imports:
            last = imports[-1]
            out["last_import"] = (f"{last.get('imported_at', '')[:10]} · {len(imports)} "
                                  f"file{'s' if len(imports) != 1 else ''}")
    except EngagementError as exc:
        out.update(ok=False, error=str(exc))
    s = db_session()
    sent = done = 0
    for r, a in answer_sets(s, row.id):
        if r.questionnaire == "intake":
            p = progress(questionnaire("intake"), {q: x["value"] for q, x in a.answers.items()})
            out["interview"] = p
        else:
            sent += 1
            done += r.submitted_at is not None
    out["responses"] = (done, sent)
    job = s.scalars(select(ReportJob).where(ReportJob.engagement_id == row.id, ReportJob.status == "done")
                    .order_by(ReportJob.id.desc()).limit(1)).first()
    if job is not None:
        out["last_report"] = f"{(job.finished_at or job.created_at):%Y-%m-%d} · version {job.version}"
    return out


@bp.get("/engagements")
@login_required
def index():
    s = db_session()
    rows = s.scalars(select(EngagementRow).where(EngagementRow.owner_id == current_user().id)
                     .order_by(EngagementRow.created_at.desc())).all()
    show_archived = request.args.get("archived") == "1"
    archived = sum(1 for r in rows if r.archived_at)
    rows = [r for r in rows if bool(r.archived_at) == show_archived]
    summary = {row.id: engagement_state(row) for row in rows}
    form = EngagementForm(consultant=current_user().name,
                          window_end=dt.date.today() - dt.timedelta(days=1))
    form.timezone.choices = timezones()
    return render_template("engagements.html", rows=rows, summary=summary, form=form,
                           import_form=ImportFolderForm(), archived=archived,
                           show_archived=show_archived)


@bp.post("/e/<int:eid>/archive")
@login_required
def archive(eid: int):
    row = engagement_or_404(eid)
    restore = request.form.get("restore") == "1"
    with write() as s:
        s.get(EngagementRow, row.id).archived_at = None if restore else utcnow()
    flash(f"{row.client} is {'back in the list' if restore else 'archived: find it under Archived'}.")
    return redirect(url_for("engagements.index"))


@bp.post("/e/<int:eid>/delete")
@login_required
def delete(eid: int):
    """Delete an engagement: its folder (exports, answers, reports) and its rows. The form asks
    for the client's name, so a stray click deletes nothing."""
    row = engagement_or_404(eid)
    if request.form.get("confirm", "").strip() != row.client:
        flash(f"Not deleted: type the client's name, {row.client}, to confirm.", "error")
        return redirect(url_for("engagements.settings", eid=eid) + "#delete")
    folder = ws().folder(row)
    client, rid = row.client, row.id
    from .db import Upload

    with write() as s:
        uploads = [u.stored_name for u in s.scalars(select(Upload).where(Upload.engagement_id == rid))]
        s.delete(s.get(EngagementRow, rid))
    for name in uploads:
        (ws().uploads / name).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    flash(f"{client} was deleted, with its exports, answers and reports.")
    return redirect(url_for("engagements.index"))


@bp.post("/engagements")
@login_required
def create():
    form = EngagementForm()
    form.timezone.choices = timezones()
    if not form.validate_on_submit():
        return render_template("engagements.html", rows=[], summary={}, form=form,
                               import_form=ImportFolderForm()), 400
    try:
        with write() as s:
            row = create_engagement(ws(), s, current_user().id, form.client.data.strip(),
                                    form.consultant.data.strip(), (form.firm.data or "").strip() or None,
                                    form.timezone.data, form.window_end.data,
                                    {"language": form.language.data, "sla.target": float(form.sla.data)})
            eid = row.id
    except EngagementError as exc:
        form.client.errors = [str(exc)]
        return render_template("engagements.html", rows=[], summary={}, form=form,
                               import_form=ImportFolderForm()), 400
    flash("Engagement created. Start with the intake interview, then import the incident exports.")
    return redirect(url_for("dashboard.overview", eid=eid))


@bp.post("/engagements/import")
@login_required
def import_zip():
    form = ImportFolderForm()
    if not form.validate_on_submit():
        flash("Choose a .zip of an engagement folder.", "error")
        return redirect(url_for("engagements.index"))
    with tempfile.TemporaryDirectory() as tmp:
        folder_name = None
        try:
            folder = unpack_zip(form.archive.data.stream, Path(tmp))
            with write() as s:
                row = import_folder(ws(), s, current_user().id, folder)
                eid, folder_name = row.id, row.folder
        except EngagementError as exc:
            flash(f"Nothing was imported: {exc}", "error")
            return redirect(url_for("engagements.index"))
        except BaseException:  # the transaction failed after the copy: no folder without its row
            if folder_name:
                shutil.rmtree(ws().engagements / folder_name, ignore_errors=True)
            raise
    flash("Engagement imported with its exports and answers.")
    return redirect(url_for("dashboard.overview", eid=eid))


@bp.get("/e/<int:eid>/export.zip")
@login_required
def export(eid: int):
    row = engagement_or_404(eid)
    with write() as s:
        buf = export_zip(ws(), s, row)
    return send_file(buf, mimetype="application/zip", as_attachment=True,
                     download_name=f"{row.folder}.zip")


def _settings_form(row: EngagementRow) -> SettingsForm:
    data = read_settings(ws().folder(row))
    e = load_engagement(ws().folder(row))
    form = SettingsForm(
        client=e.client, consultant=e.consultant, firm=data.get("consultant", {}).get("firm", ""),
        timezone=e.timezone, window_end=e.window_end, window_days=e.window_days, language=e.language,
        sla=round(e.sla_target * 100, 4), start_date=e.start_date, primary_color=e.branding.primary_color,
        accent_color=e.branding.accent_color, team_size=e.team.size, people=people_lines(e.team),
        **{f"target_{sev.lower()}": _whole(e.mitigation_targets.get(sev)) for sev in SEVERITY_KEYS},
        hours_start=f"{e.business_hours.start:%H:%M}", hours_end=f"{e.business_hours.end:%H:%M}",
        hours_days=[DAYS[d][0] for d in e.business_hours.days])
    form.timezone.choices = timezones()
    return form


def _whole(value: float | None) -> float | int | None:
    """5.0 shown as 5 in a number field."""
    return int(value) if value is not None and float(value).is_integer() else value


def _save_logo(field, root: Path) -> str | None:
    """The uploaded logo checked and kept under branding/ (an SVG drawn to PNG); its path, or
    None when none was given. Raises LogoError with what is wrong."""
    logo = field.data
    if not (logo and getattr(logo, "filename", "")):
        return None
    blob = logo.read(LOGO_MAX + 1)
    if len(blob) > LOGO_MAX:
        raise LogoError("the logo must be at most 1 MB")
    ext = Path(logo.filename).suffix.lower().replace(".jpeg", ".jpg")
    if ext == ".svg":
        blob, ext = rasterise_svg(blob), ".png"
    else:
        check_raster(blob, ext.lstrip("."))
    (root / "branding").mkdir(exist_ok=True)
    name = f"branding/logo-{secrets.token_hex(4)}{ext}"
    (root / name).write_bytes(blob)
    return name


@bp.route("/e/<int:eid>/settings", methods=["GET", "POST"])
@login_required
def settings(eid: int):
    row = engagement_or_404(eid)
    root = ws().folder(row)
    form = SettingsForm() if request.method == "POST" else _settings_form(row)
    form.timezone.choices = timezones()
    if request.method == "POST" and form.validate_on_submit():
        updates = {"client.name": form.client.data.strip(), "consultant.name": form.consultant.data.strip(),
                   "consultant.firm": (form.firm.data or "").strip() or None,
                   "timezone": form.timezone.data, "window.end": form.window_end.data.isoformat(),
                   "window.days": form.window_days.data, "language": form.language.data,
                   "sla.target": float(form.sla.data),
                   "start_date": form.start_date.data.isoformat() if form.start_date.data else None,
                   "branding.primary_color": form.primary_color.data or None,
                   "branding.accent_color": form.accent_color.data or None,
                   "team.size": form.team_size.data}
        try:
            updates["team.people"] = people_from_lines(form.people.data or "") or None
        except EngagementError as exc:
            form.people.errors = [str(exc)]
            return render_template("settings.html", row=row, form=form, **_logos(root)), 400
        for sev in SEVERITY_KEYS:
            value = getattr(form, f"target_{sev.lower()}").data
            updates[f"mitigation_targets.{sev}"] = float(value) if value is not None else None
        updates["business_hours.start"] = form.hours_start.data or None
        updates["business_hours.end"] = form.hours_end.data or None
        updates["business_hours.days"] = list(form.hours_days.data or []) or None
        for fld, key in ((form.logo, "branding.logo"), (form.consultant_logo, "branding.consultant_logo")):
            try:
                name = _save_logo(fld, root)
            except LogoError as exc:
                fld.errors = [f"Logo not saved: {exc}."]
                return render_template("settings.html", row=row, form=form, **_logos(root)), 400
            if name:
                updates[key] = name
        try:
            e = save_settings(root, updates)
        except EngagementError as exc:
            flash(f"Not saved: {exc}", "error")
            return render_template("settings.html", row=row, form=form, **_logos(root)), 400
        with write() as s:
            s.get(EngagementRow, row.id).client = e.client
        flash("Settings saved.")
        return redirect(url_for("engagements.settings", eid=eid))
    status = 400 if request.method == "POST" else 200
    return render_template("settings.html", row=row, form=form, **_logos(root)), status


def _logos(root: Path) -> dict[str, bool]:
    try:
        b = load_engagement(root).branding
    except EngagementError:
        return {"has_logo": False, "has_consultant_logo": False}
    return {"has_logo": bool(b.logo), "has_consultant_logo": bool(b.consultant_logo)}


@bp.get("/e/<int:eid>/logo")
@login_required
def logo(eid: int):
    row = engagement_or_404(eid)
    e = load_engagement(ws().folder(row))
    path = e.branding.consultant_logo if request.args.get("whose") == "consultant" else e.branding.logo
    if not path:
        abort(404)
    resp = send_file(path, as_attachment=True, download_name=f"logo{Path(path).suffix.lower()}")
    resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return resp


# --- self-assessment links ----------------------------------------------------------------------


@bp.route("/e/<int:eid>/links", methods=["GET", "POST"])
@login_required
def links(eid: int):
    row = engagement_or_404(eid)
    form = LinkForm(days=current_app.config["LINK_DAYS"])
    new_link = session.pop("new_link", None)
    if form.validate_on_submit():
        token = secrets.token_urlsafe(32)
        with write() as s:
            base = slugify(f"{form.role.data}-{form.name.data}", "respondent")
            taken = set(s.scalars(select(Respondent.slug).where(Respondent.engagement_id == row.id)))
            slug, n = base, 2
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
            s.add(Respondent(engagement_id=row.id, questionnaire="self_assessment",
                             name=form.name.data.strip(), role=form.role.data, language=form.language.data,
                             slug=slug, token_hash=token_hash(token),
                             expires_at=utcnow() + dt.timedelta(days=form.days.data)))
        session["new_link"] = {"name": form.name.data.strip(),
                               "url": link_url(token)}
        return redirect(url_for("engagements.links", eid=eid))
    s = db_session()
    people = s.scalars(select(Respondent).where(Respondent.engagement_id == row.id,
                                                Respondent.questionnaire == "self_assessment")
                       .order_by(Respondent.created_at)).all()
    counts = dict(s.execute(select(Answer.respondent_id, func.count()).where(
        Answer.respondent_id.in_([p.id for p in people])).group_by(Answer.respondent_id)).all())
    return render_template("links.html", row=row, form=form, people=people, counts=counts,
                           new_link=new_link, now=utcnow(), roles=ROLES, languages=LANGUAGE_NAMES,
                           states=LINK_STATES)


def _respondent_or_404(row: EngagementRow, rid: int) -> Respondent:
    r = db_session().get(Respondent, rid)
    if r is None or r.engagement_id != row.id or r.questionnaire != "self_assessment":
        abort(404)
    return r


@bp.post("/e/<int:eid>/links/<int:rid>/revoke")
@login_required
def revoke(eid: int, rid: int):
    row = engagement_or_404(eid)
    r = _respondent_or_404(row, rid)
    with write() as s:
        s.get(Respondent, r.id).revoked_at = utcnow()
    flash(f"The link for {r.name} is withdrawn: it no longer opens the form. Their answers are kept.")
    return redirect(url_for("engagements.links", eid=eid))


@bp.post("/e/<int:eid>/links/<int:rid>/renew")
@login_required
def renew(eid: int, rid: int):
    """A new link for the same respondent (the old one stops working); answers are kept."""
    row = engagement_or_404(eid)
    r = _respondent_or_404(row, rid)
    token = secrets.token_urlsafe(32)
    with write() as s:
        live = s.get(Respondent, r.id)
        live.token_hash, live.revoked_at = token_hash(token), None
        live.expires_at = utcnow() + dt.timedelta(days=current_app.config["LINK_DAYS"])
    session["new_link"] = {"name": r.name,
                           "url": link_url(token)}
    return redirect(url_for("engagements.links", eid=eid))



@bp.post("/e/<int:eid>/links/<int:rid>/delete")
@login_required
def delete_respondent(eid: int, rid: int):
    """Delete a respondent: their link stops working and their answers leave the analysis."""
    row = engagement_or_404(eid)
    r = _respondent_or_404(row, rid)
    slug, name = r.slug, r.name
    with write() as s:
        s.delete(s.get(Respondent, r.id))
    (ws().folder(row) / "answers" / "self" / f"{slug}.yaml").unlink(missing_ok=True)
    flash(f"{name} was deleted with their answers: they no longer count in any figure.")
    return redirect(url_for("engagements.links", eid=eid))
