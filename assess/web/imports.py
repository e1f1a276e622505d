"""Imports on the web: upload an export, see the detected format, a preview of the mapped rows
and every rejected row with its reason, map the columns of a generic CSV, then confirm. The
upload is kept under a generated name until it is imported or discarded."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.utils import secure_filename
from wtforms import SelectField

from .. import importers, store
from ..engagement import EngagementError, load_engagement
from ..formatting import isna
from ..importers.base import ImportError_
from ..importers.generic import FIELDS
from .auth import db_session, login_required, write, ws
from .db import EngagementRow, Upload
from .engagements import choices, engagement_or_404

bp = Blueprint("imports", __name__)
EXTENSIONS = (".csv", ".tsv", ".txt", ".json", ".xlsx", ".xlsm", ".xml", ".atom", ".rss", ".log", ".ndjson")
PREVIEW_ROWS = 20
PREVIEW_COLUMNS = {
    "incidents": ("external_id", "title", "severity", "service", "detected", "resolved", "detection_source"),
    "deploys": ("service", "deployed_at", "version", "outcome", "author"),
}


class UploadForm(FlaskForm):
    file = FileField("Export file", validators=[FileRequired("Choose a file to upload.")])
    format = SelectField("Format", default="")


def format_choices() -> list:
    return choices([("", "Detect from the content")] + [(name, f"{name}: {r.description}")
                                                        for name, r in importers.READERS.items()])


def upload_or_404(eid: int, uid: int) -> tuple[EngagementRow, Upload]:
    """The consultant's engagement and one of its uploads, else 404."""
    row = engagement_or_404(eid)
    up = db_session().get(Upload, uid)
    if up is None or up.engagement_id != row.id:
        abort(404)
    return row, up


def as_uploaded(up: Upload, text: str) -> str:
    """A message about the stored file, naming the file as the consultant uploaded it."""
    return text.replace(up.stored_name, up.original_name)


def stored_name(up: Upload, most: int = 120) -> str:
    """The name the raw export is kept under: the uploaded name made safe (secure_filename) and
    at most `most` characters (a file system refuses names past 255 bytes), its extension kept."""
    suffix = Path(up.stored_name).suffix
    name = secure_filename(up.original_name) or f"upload-{up.id}{suffix}"
    if len(name) > most:
        stem = Path(name).stem if Path(name).suffix.lower() == suffix else name
        name = stem[:most - len(suffix)].rstrip("._-") + suffix
    return name


def upload_path(up: Upload) -> Path:
    return ws().uploads / up.stored_name


@bp.route("/e/<int:eid>/imports", methods=["GET", "POST"])
@login_required
def index(eid: int):
    row = engagement_or_404(eid)
    form = UploadForm()
    form.format.choices = format_choices()
    if form.validate_on_submit():
        f = form.file.data
        original = Path(f.filename or "export").name
        ext = Path(original).suffix.lower()
        if ext not in EXTENSIONS:
            form.file.errors = [f"{original}: a {ext or 'file without extension'} is not an export this "
                                f"tool reads; expected one of {', '.join(EXTENSIONS)}."]
        else:
            ws().uploads.mkdir(parents=True, exist_ok=True)
            stored = f"{secrets.token_hex(16)}{ext}"
            f.save(ws().uploads / stored)
            with write() as s:
                up = Upload(engagement_id=row.id, original_name=original[:300], stored_name=stored,
                            size=(ws().uploads / stored).stat().st_size,
                            options={"format": form.format.data} if form.format.data else {})
                s.add(up)
                s.flush()
                uid = up.id
            return redirect(url_for("imports.preview", eid=eid, uid=uid))
    s = db_session()
    uploads = s.scalars(select(Upload).where(Upload.engagement_id == row.id)
                        .order_by(Upload.created_at.desc())).all()
    manifest = store.read_manifest(load_engagement(ws().folder(row)))
    return render_template("imports.html", row=row, form=form, uploads=uploads, manifest=manifest,
                           status=400 if form.errors else 200), (400 if form.errors else 200)


def _options(up: Upload) -> tuple[str | None, dict[str, Any]]:
    opts = dict(up.options or {})
    fmt = opts.pop("format", None) or None
    return fmt, opts


@bp.get("/e/<int:eid>/imports/<int:uid>")
@login_required
def preview(eid: int, uid: int):
    row, up = upload_or_404(eid, uid)
    if up.status != "uploaded":
        return render_template("import_done.html", row=row, up=up)
    fmt, opts = _options(up)
    engagement = load_engagement(ws().folder(row))
    path = upload_path(up)
    report = frame = error = header = None
    try:
        report, frame = store.preview_file(engagement, path, fmt, opts)
    except (ImportError_, EngagementError) as exc:
        error = as_uploaded(up, str(exc))
        suffix = path.suffix.lower()
        if suffix in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm") and fmt in (None, *importers.GENERIC):
            reader = importers.READERS["generic-xlsx" if suffix.startswith(".xls") else "generic-csv"]
            try:
                header = reader.header(path)
            except ImportError_:
                header = None
    rows = []
    if frame is not None and report is not None:
        cols = [c for c in PREVIEW_COLUMNS.get(report.kind, ()) if c in frame.columns]
        for rec in frame.head(PREVIEW_ROWS)[cols].to_dict("records"):
            rows.append({c: ("" if isna(v) else str(v)) for c, v in rec.items()})
        rejected = [as_uploaded(up, str(p)) for p in report.rejected]
    else:
        cols, rejected = [], []
    mapping = dict(opts.get("column_map") or {})
    return render_template("import_preview.html", row=row, up=up, report=report, rows=rows, cols=cols,
                           rejected=rejected, error=error, header=header, fields=list(FIELDS),
                           mapping=mapping, fmt=fmt or "", formats=format_choices(), opts=opts)


@bp.post("/e/<int:eid>/imports/<int:uid>/options")
@login_required
def options(eid: int, uid: int):
    row, up = upload_or_404(eid, uid)
    form = request.form
    opts: dict[str, Any] = {}
    if form.get("format") in importers.READERS:
        opts["format"] = form["format"]
    if form.get("date_order") in ("dmy", "mdy"):
        opts["date_order"] = form["date_order"]
    if form.get("service", "").strip():
        opts["service"] = form["service"].strip()[:100]
    column_map = {f: form[f"map:{f}"] for f in FIELDS if form.get(f"map:{f}")}
    if column_map:
        opts["column_map"] = column_map
        opts.setdefault("format", "generic-xlsx" if up.stored_name.endswith((".xlsx", ".xlsm"))
                        else "generic-csv")
    with write() as s:
        s.get(Upload, up.id).options = opts
    return redirect(url_for("imports.preview", eid=eid, uid=uid))


@bp.post("/e/<int:eid>/imports/<int:uid>/confirm")
@login_required
def confirm(eid: int, uid: int):
    row, up = upload_or_404(eid, uid)
    if up.status != "uploaded":
        return redirect(url_for("imports.preview", eid=eid, uid=uid))
    fmt, opts = _options(up)
    engagement = load_engagement(ws().folder(row))
    name = stored_name(up)
    try:
        report = store.import_file(engagement, upload_path(up), fmt, strict=False, options=opts, name=name)
    except (ImportError_, EngagementError) as exc:
        flash(f"Nothing was imported: {exc}", "error")
        return redirect(url_for("imports.preview", eid=eid, uid=uid))
    result = report.to_dict()
    result["file"] = up.original_name
    result["rejected"] = [as_uploaded(up, r) for r in result["rejected"]]
    with write() as s:
        live = s.get(Upload, up.id)
        live.status, live.result = "imported", result
    upload_path(up).unlink(missing_ok=True)
    if report.already_imported:
        flash(f"{up.original_name} was already imported (as {report.stored_as}): nothing was duplicated.")
    else:
        flash(f"{up.original_name}: {report.imported} {report.kind} imported ({report.new} new, "
              f"{report.updated} updated), {len(report.rejected)} rejected.")
    return redirect(url_for("imports.preview", eid=eid, uid=uid))


@bp.post("/e/<int:eid>/imports/<int:uid>/discard")
@login_required
def discard(eid: int, uid: int):
    row, up = upload_or_404(eid, uid)
    with write() as s:
        s.get(Upload, up.id).status = "discarded"
    upload_path(up).unlink(missing_ok=True)
    flash(f"{up.original_name} was discarded: nothing was imported.")
    return redirect(url_for("imports.index", eid=eid))
