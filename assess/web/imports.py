"""Imports on the web: upload an export, see the detected format, a preview of the mapped rows
and every rejected row with its reason, map the columns of a generic CSV, then confirm. The
upload is kept under a generated name until it is imported or discarded."""

from __future__ import annotations

import datetime as dt
import re
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
from ..importers.base import ImportError_, sha256
from ..importers.generic import FIELDS, recognise_columns
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


# The canonical fields of a generic table in a consultant's words (the mapper never shows codes).
FIELD_LABELS = {
    "external_id": "Incident id or number",
    "title": "Title (what happened)",
    "severity": "Severity or priority",
    "service": "Service or component affected",
    "impact_start": "When the impact started",
    "detected": "When it was detected or opened",
    "acknowledged": "When someone acknowledged it",
    "mitigation_started": "When mitigation started",
    "mitigated": "When it was mitigated (impact stopped)",
    "resolved": "When it was resolved or closed",
    "postmortem_at": "When the postmortem was held",
    "detection_source": "Who or what detected it (alert, customer...)",
    "impact": "Kind of impact",
    "customers_affected": "Customers affected",
    "support_tickets": "Support tickets",
    "revenue_impact": "Revenue impact",
    "root_cause": "Root cause",
    "postmortem_url": "Link to the postmortem",
    "status": "Status (open, resolved...)",
}
COLUMN_LABELS = {
    "external_id": "Id", "title": "Title", "severity": "Severity", "service": "Service",
    "detected": "Detected", "resolved": "Resolved", "detection_source": "Detected by",
    "deployed_at": "Deployed", "version": "Version", "outcome": "Outcome", "author": "Author",
}
KIND_LABELS = {"incidents": "Incidents", "deploys": "Deploys"}
SAMPLES = 3


def plain(message: str) -> str:
    """An importer's message without its command-line hints (`--format`, `--map`): the page
    offers the same choices as controls."""
    message = re.sub(r"\s*\(one of: [^)]*\)", "", message)
    parts = re.split(r"(?<=[.;:])\s+", message)
    kept = [p for p in parts if "--" not in p]
    text = " ".join(kept).strip()
    text = re.sub(r"[;:,]\s*$", ".", text)
    return text or message


@bp.app_template_filter("import_note")
def import_note(note: str) -> str:
    """An importer's note in the page's words: no command-line options, field names in words
    ('Columns used: the title <- What happened')."""
    text = re.sub(r"\s*\((?:[^()]*--[^()]*)\)", "", str(note))
    text = re.sub(r"--timezone,?\s*", "", text)
    if text.startswith("Columns used:"):
        pairs = re.findall(r"(\w+) <- ([^,]+?)(?=, \w+ <- |\.?$)", text[len("Columns used:"):].strip())
        if pairs:
            text = "Columns used: " + "; ".join(
                f"{FIELD_LABELS.get(f, f).split(' (')[0].lower()} from “{c.strip()}”" for f, c in pairs) + "."
    from .labels import words

    return words(plain(text))


def guess_mapping(header: list[str]) -> dict[str, str]:
    """What the generic importer recognises on its own: canonical field -> column, by name."""
    return recognise_columns(header)


def sample_values(reader, path: Path, most: int = SAMPLES) -> dict[str, list[str]]:
    """Up to `most` distinct non-empty values of each column, from the first rows."""
    try:
        header, records, _enc = reader.table(path)
    except ImportError_:
        return {}
    out: dict[str, list[str]] = {h: [] for h in header}
    for _line, values in records[:200]:
        for h, v in zip(header, values, strict=False):
            v = (v or "").strip()
            if v and len(out[h]) < most and v not in out[h]:
                out[h].append(v[:40] + ("…" if len(v) > 40 else ""))
    return out


def local_time(value: Any, tz) -> str:
    """A timestamp in the engagement's time zone, to the minute ('2026-10-03 14:05')."""
    if value is None or isna(value):
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if getattr(value, "tzinfo", None) is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def window_sentence(window: dict[str, Any] | None, kind: str) -> str | None:
    """'12 of 254 incidents fall in 3 Aug 2026 - 31 Oct 2026 (240 before, 2 after)' in the
    app's words (the CLI's sentence names engagement.yaml; the page links the settings)."""
    if not window or not window.get("total"):
        return None
    what = "incident" if kind == "incidents" else "deploy"
    total = window["total"]
    text = (f"{window['inside']} of {total} {what}{'s' if total != 1 else ''} fall in the "
            f"window, {window['label']}")
    outside = [f"{window[k]} {k}" for k in ("before", "after") if window.get(k)]
    if outside:
        text += f" ({', '.join(outside)} it)"
    if window.get("undated"):
        text += f"; {window['undated']} without a date"
    if window["inside"] == 0:
        text += ": check the window in the settings, or the file"
    return text + "."


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
    name = safe_name(up.original_name) or f"upload-{up.id}{suffix}"
    if len(name) > most:
        stem = Path(name).stem if Path(name).suffix.lower() == suffix else name
        name = stem[:most - len(suffix)].rstrip("._-") + suffix
    return name


def safe_name(name: str) -> str:
    """secure_filename's rules with the accents kept ('Relevé été.csv' -> 'Relevé_été.csv'): no
    path, no leading dot, only letters, digits, '.', '_' and '-'."""
    import unicodedata

    name = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    name = re.sub(r"[^\w.-]+", "_", name).strip("._")
    if not name or name.split(".")[0].upper() in ("CON", "PRN", "AUX", "NUL"):
        return secure_filename(name)
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
    engagement = load_engagement(ws().folder(row))
    manifest = [{**e, "name": Path(e["file"]).name, "when": local_time(e.get("imported_at"), engagement.tz),
                 "kind_label": KIND_LABELS.get(e.get("kind", "incidents"), e.get("kind"))}
                for e in store.read_manifest(engagement)]
    return render_template("imports.html", row=row, form=form, uploads=uploads, manifest=manifest,
                           tz=engagement.timezone, local=lambda v: local_time(v, engagement.tz),
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
        r = up.result or {}
        return render_template("import_done.html", row=row, up=up,
                               window=window_sentence(r.get("window"), r.get("kind", "incidents")))
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
    tz = engagement.tz
    if frame is not None and report is not None:
        cols = [c for c in PREVIEW_COLUMNS.get(report.kind, ()) if c in frame.columns]
        for rec in frame.head(PREVIEW_ROWS)[cols].to_dict("records"):
            rows.append({c: ("" if isna(v) else local_time(v, tz) if hasattr(v, "tzinfo")
                             else str(v)) for c, v in rec.items()})
        rejected = [as_uploaded(up, str(p)) for p in report.rejected]
    else:
        cols, rejected = [], []
    mapping = dict(opts.get("column_map") or {})
    samples: dict[str, list[str]] = {}
    if header:
        missing = [FIELD_LABELS[f].split(" (")[0].lower() for f in ("title", "detected")
                   if f not in guess_mapping(header)]
        error = (f"{up.original_name} is not an export assess recognises on its own"
                 + (f", and no column is named like the {' or the '.join(missing)}" if missing else "")
                 + ". Tell it which column holds what.")
        mapping = mapping or guess_mapping(header)
        reader = importers.READERS["generic-xlsx" if path.suffix.lower().startswith(".xls")
                                   else "generic-csv"]
        samples = sample_values(reader, path)
    elif error:
        error = plain(error)
    same = None
    if report is not None and path.is_file():
        digest = sha256(path)
        same = next((e for e in store.read_manifest(engagement) if e["sha256"] == digest), None)
    nothing_new = report is not None and report.imported > 0 and not report.new and not report.updated
    return render_template("import_preview.html", row=row, up=up, report=report, rows=rows, cols=cols,
                           rejected=rejected, error=error, header=header, fields=list(FIELDS),
                           labels=FIELD_LABELS, col_labels=COLUMN_LABELS, samples=samples,
                           mapping=mapping, fmt=fmt or "", formats=format_choices(), opts=opts,
                           same=same, nothing_new=nothing_new, tz=engagement.timezone,
                           imported_at=local_time(same["imported_at"], tz) if same else "",
                           window=window_sentence(report.window, report.kind) if report else None)


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
    if not report.already_imported:
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


@bp.post("/e/<int:eid>/imports/remove")
@login_required
def remove(eid: int):
    """Take an imported export out: its rows leave every figure (recomputed on the next page)."""
    row = engagement_or_404(eid)
    name = request.form.get("file", "")
    engagement = load_engagement(ws().folder(row))
    try:
        entry = store.remove_import(engagement, name)
    except EngagementError as exc:
        flash(f"Nothing was removed: {exc}", "error")
        return redirect(url_for("imports.index", eid=eid))
    what = "incidents" if entry.get("kind", "incidents") == "incidents" else "deploys"
    flash(f"{Path(entry['file']).name} was removed: its {entry.get('rows_imported', 0)} {what} "
          "no longer count in any figure, risk, plan or report.")
    return redirect(url_for("imports.index", eid=eid))
