"""Reports on the web: a job on the task queue renders the PDFs (`assess worker`; progress shown
while it runs), then they are downloaded; every version is kept under reports/v<N>/ in the
engagement folder."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from .auth import db_session, login_required, ws
from .db import ReportJob
from .engagements import engagement_or_404
from .service import job_state, queue_report, reports_dir

bp = Blueprint("reports", __name__)


def _job_or_404(row, version: int) -> ReportJob:
    job = db_session().scalar(select(ReportJob).where(ReportJob.engagement_id == row.id,
                                                      ReportJob.version == version))
    if job is None:
        abort(404)
    return job


def job_dict(job: ReportJob) -> dict:
    return {"version": job.version, "status": job_state(job), "progress": job.progress, "stage": job.stage,
            "message": job.message, "files": job.files or [], "language": job.language,
            "kind": job.kind, "attempts": job.attempts,
            "created_at": job.created_at.isoformat() + "Z",
            "finished_at": job.finished_at.isoformat() + "Z" if job.finished_at else None}


@bp.route("/e/<int:eid>/reports", methods=["GET", "POST"])
@login_required
def index(eid: int):
    row = engagement_or_404(eid)
    if request.method == "POST":
        lang = request.form.get("language", "en")
        if lang not in ("en", "fr"):
            abort(400)
        _job_id, version = queue_report(ws(), row, lang, archival=request.form.get("archival", "1") == "1")
        return redirect(url_for("reports.index", eid=eid, started=version))
    jobs = db_session().scalars(select(ReportJob).where(ReportJob.engagement_id == row.id)
                                .order_by(ReportJob.version.desc())).all()
    return render_template("reports.html", row=row, jobs=[job_dict(j) for j in jobs])


@bp.get("/e/<int:eid>/reports/<int:version>.json")
@login_required
def status(eid: int, version: int):
    row = engagement_or_404(eid)
    return jsonify(job_dict(_job_or_404(row, version)))


@bp.get("/e/<int:eid>/reports/<int:version>/<name>")
@login_required
def download(eid: int, version: int, name: str):
    row = engagement_or_404(eid)
    job = _job_or_404(row, version)
    if name not in (job.files or []):
        abort(404)
    return send_file(reports_dir(ws(), row, version) / name, mimetype="application/pdf",
                     as_attachment=True, download_name=name)
