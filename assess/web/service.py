"""What the web app does with engagements, without Flask: create and import engagement folders,
write the database's answers into the folder (so the domain core reads them as it reads a
hand-made folder), export a folder as a zip, analyse with a cache, and run report jobs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import secrets
import shutil
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import analysis, questionnaires
from ..engagement import EngagementError, init_engagement, load_engagement, save_settings
from ..files import LOCK, load_yaml
from .db import Answer, Database, EngagementRow, ReportJob, Respondent, upsert_answer, utcnow

ZIP_MAX_FILES = 2000
ZIP_MAX_BYTES = 200 * 1024 * 1024


def slugify(text: str, fallback: str = "item") -> str:
    """Lower case letters (accents kept: 'Élodie Roux' -> 'élodie-roux') and digits joined by
    hyphens, at most 60 characters."""
    import unicodedata

    text = unicodedata.normalize("NFC", text).lower()
    slug = re.sub(r"[\W_]+", "-", text).strip("-")[:60].strip("-")
    return slug or fallback


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Workspace:
    """HOME holds assess.db (SQLite), engagements/ (one folder each) and uploads/."""

    home: Path
    db: Database

    @property
    def engagements(self) -> Path:
        return self.home / "engagements"

    @property
    def uploads(self) -> Path:
        return self.home / "uploads"

    def folder(self, row: EngagementRow) -> Path:
        return self.engagements / row.folder

    def new_folder(self, client: str) -> str:
        self.engagements.mkdir(parents=True, exist_ok=True)
        while True:
            name = f"{slugify(client, 'client')}-{secrets.token_hex(3)}"
            if not (self.engagements / name).exists():
                return name


# --- engagements -------------------------------------------------------------------------------


def create_engagement(ws: Workspace, s: Session, owner_id: int, client: str, consultant: str,
                      firm: str | None, timezone: str, end: dt.date,
                      settings: dict[str, Any] | None = None) -> EngagementRow:
    name = ws.new_folder(client)
    root = ws.engagements / name
    try:
        init_engagement(root, client=client, consultant=consultant, firm=firm, timezone=timezone, end=end)
        if settings:
            save_settings(root, settings)
    except EngagementError:
        shutil.rmtree(root, ignore_errors=True)
        raise
    row = EngagementRow(owner_id=owner_id, client=client, folder=name)
    s.add(row)
    s.flush()
    s.add(Respondent(engagement_id=row.id, questionnaire="intake", name=consultant, role="consultant",
                     language=load_engagement(root).language, slug="intake"))
    return row


def _plain_value(value: Any) -> Any:
    """An answer to a question the questionnaire no longer has (an older version): kept as it is
    when it is a plain value of a plausible size, else ValueError."""
    from .interview import MAX_TEXT

    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and len(value) <= MAX_TEXT:
        return value
    if (isinstance(value, list) and len(value) <= 100
            and all(isinstance(v, str) and len(v) <= 200 for v in value)):
        return value
    raise ValueError("expected a number, a text of at most 5000 characters or a short list of options")


def check_folder(source: Path) -> list[questionnaires.AnswerSet]:
    """Refuse an engagement folder from outside before anything is copied: every YAML file within
    the limits (size, aliases that expand, foreign tags: files.load_yaml) and every answer a value
    its question accepts. Returns its answer sets."""
    from .interview import MAX_NOTE, coerce, questionnaire

    for path in sorted(source.rglob("*")):
        if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
            try:
                load_yaml(path)
            except yaml.YAMLError as exc:
                raise EngagementError(str(exc).replace(str(source) + "/", "")) from None
            except UnicodeDecodeError:
                raise EngagementError(f"{path.relative_to(source)}: expected UTF-8 text") from None
    try:
        sets = questionnaires.engagement_answers(source)
    except questionnaires.QuestionnaireError as exc:
        raise EngagementError(str(exc).replace(str(source) + "/", "")) from None
    for a in sets:
        where = f"answers/{'self/' if a.questionnaire != 'intake' else ''}{a.file}"
        if len(a.name) > 200 or len(a.role) > 100:
            raise EngagementError(f"{where}: key 'respondent': a name of at most 200 characters and "
                                  "a role of at most 100 are expected")
        try:
            qn = questionnaire("intake" if a.questionnaire == "intake" else "self_assessment")
        except Exception as exc:  # the questionnaire itself is ours: say which one failed
            raise EngagementError(f"{where}: {exc}") from None
        for qid, entry in a.answers.items():
            q = qn.questions.get(qid)
            try:
                entry["value"] = (coerce(q, entry.get("value")) if q is not None
                                  else _plain_value(entry.get("value")))
            except (ValueError, TypeError) as exc:
                raise EngagementError(f"{where}: question {qid!r}: {exc}") from None
            note = entry.get("note")
            if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
                raise EngagementError(f"{where}: question {qid!r}: the note must be text of at most "
                                      f"{MAX_NOTE} characters")
    return sets


def import_folder(ws: Workspace, s: Session, owner_id: int, source: Path) -> EngagementRow:
    """Copy an engagement folder in, and its answer files into the database. Nothing is left on
    disk when it fails (the caller removes the folder if the transaction fails later)."""
    engagement = load_engagement(source)  # refuse anything that does not load
    sets = check_folder(source)
    name = ws.new_folder(engagement.client)
    root = ws.engagements / name
    shutil.copytree(source, root)
    try:
        rasterise_logos(root)
        return _import_rows(s, owner_id, engagement, name, sets)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def rasterise_logos(root: Path) -> None:
    """The SVG logos an imported engagement names, drawn to PNG within limits (web/logos.py) and
    named instead; a logo that cannot be drawn refuses the import."""
    from .logos import LogoError, rasterise_svg

    e = load_engagement(root)
    updates = {}
    for key, path in (("branding.logo", e.branding.logo),
                      ("branding.consultant_logo", e.branding.consultant_logo)):
        if path is None or path.suffix.lower() != ".svg":
            continue
        try:
            png = rasterise_svg(path.read_bytes())
        except LogoError as exc:
            raise EngagementError(f"{path.relative_to(root)}: {exc}") from None
        target = path.with_suffix(".png")
        n = 2
        while target.exists():
            target, n = path.with_name(f"{path.stem}-{n}.png"), n + 1
        target.write_bytes(png)
        path.unlink()
        updates[key] = str(target.relative_to(root))
    if updates:
        save_settings(root, updates)


def _import_rows(s: Session, owner_id: int, engagement, name: str,
                 sets: list[questionnaires.AnswerSet]) -> EngagementRow:
    row = EngagementRow(owner_id=owner_id, client=engagement.client, folder=name)
    s.add(row)
    s.flush()
    if not any(a.questionnaire == "intake" for a in sets):
        s.add(Respondent(engagement_id=row.id, questionnaire="intake", name=engagement.consultant,
                         role="consultant", language=engagement.language, slug="intake"))
    for a in sets:
        slug = "intake" if a.questionnaire == "intake" else Path(a.file).stem
        r = Respondent(engagement_id=row.id, questionnaire=a.questionnaire or "self_assessment",
                       name=a.name, role=a.role, language=a.language if a.language in ("en", "fr") else "en",
                       slug=slug, submitted_at=utcnow() if a.questionnaire != "intake" else None)
        s.add(r)
        s.flush()
        for qid, entry in a.answers.items():
            upsert_answer(s, r.id, qid, entry.get("value"), entry.get("note"))
    return row


def unpack_zip(data: io.BytesIO | Path, target: Path) -> Path:
    """Extract an uploaded engagement zip safely (no absolute or parent paths, bounded size) and
    return the folder holding engagement.yaml."""
    try:
        zf = zipfile.ZipFile(data)
    except zipfile.BadZipFile:
        raise EngagementError("the upload is not a zip file") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > ZIP_MAX_FILES:
            raise EngagementError(f"the zip holds {len(infos)} files; at most {ZIP_MAX_FILES} are accepted")
        if sum(i.file_size for i in infos) > ZIP_MAX_BYTES:
            raise EngagementError(f"the zip unpacks to more than {ZIP_MAX_BYTES // 2**20} MB")
        for info in infos:
            parts = Path(info.filename).parts
            if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in info.filename:
                raise EngagementError(f"the zip entry {info.filename!r} points outside the folder")
        zf.extractall(target)
    found = sorted(target.rglob("engagement.yaml"), key=lambda p: len(p.parts))
    if not found:
        raise EngagementError("the zip holds no engagement.yaml (export a folder made by `assess init`)")
    return found[0].parent


def answer_sets(s: Session, engagement_id: int) -> list[tuple[Respondent, questionnaires.AnswerSet]]:
    """Each respondent of an engagement with their answers (two queries, whatever the count)."""
    rows = s.scalars(select(Respondent).where(Respondent.engagement_id == engagement_id)
                     .order_by(Respondent.id)).all()
    by_respondent: dict[int, list[Answer]] = {r.id: [] for r in rows}
    for a in s.scalars(select(Answer).where(Answer.respondent_id.in_(list(by_respondent)))
                       .order_by(Answer.question_id)):
        by_respondent[a.respondent_id].append(a)
    out = []
    for r in rows:
        answers = by_respondent[r.id]
        last = max((a.updated_at for a in answers), default=None)
        out.append((r, questionnaires.AnswerSet(
            file=f"{r.slug}.yaml", questionnaire=r.questionnaire, name=r.name, role=r.role,
            language=r.language,
            answered_at=last.replace(tzinfo=dt.UTC, microsecond=0).isoformat() if last else None,
            answers={a.question_id: {"value": a.value, "note": a.note} for a in answers})))
    return out


_synced: dict[int, tuple] = {}  # engagement id -> the answers' state last written by this process


def answers_state(s: Session, engagement_id: int) -> tuple:
    """Cheap to read, changes with any answer or respondent change."""
    people = s.execute(select(Respondent.id, Respondent.name, Respondent.role, Respondent.language,
                              Respondent.slug).where(Respondent.engagement_id == engagement_id)).all()
    counts = s.execute(select(Answer.respondent_id, func.count(), func.max(Answer.updated_at))
                       .join(Respondent).where(Respondent.engagement_id == engagement_id)
                       .group_by(Answer.respondent_id)).all()
    return tuple(map(tuple, people)), tuple(sorted(map(tuple, counts)))


def sync_answers(ws: Workspace, s: Session, row: EngagementRow) -> None:
    """Write the database's answers into the engagement folder (answers/intake.yaml and
    answers/self/<respondent>.yaml): the folder is then complete for the CLI and the reports.
    Skipped when nothing changed since this process last wrote them."""
    root = ws.folder(row)
    state = answers_state(s, row.id)
    if _synced.get(row.id) == state and (root / "answers").is_dir():
        return
    for r, a in answer_sets(s, row.id):
        if not a.answers:
            continue
        path = root / "answers" / ("intake.yaml" if r.questionnaire == "intake" else f"self/{r.slug}.yaml")
        questionnaires.write_answers(path, a, header="Written by the assess web app from its database.")
    _synced[row.id] = state


def export_zip(ws: Workspace, s: Session, row: EngagementRow) -> io.BytesIO:
    sync_answers(ws, s, row)
    root = ws.folder(row)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.endswith(".tmp") and path.name != LOCK:
                zf.write(path, Path(row.folder) / path.relative_to(root))
    buf.seek(0)
    return buf


# --- analysis, cached per folder state ---------------------------------------------------------

_cache: dict[int, tuple[tuple, Any, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def fingerprint(root: Path) -> tuple:
    """Changes whenever a file of the folder (settings, exports, answers, overrides) changes."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "reports"]
        for f in filenames:
            st = os.stat(os.path.join(dirpath, f))
            out.append((dirpath, f, st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


def _entry(ws: Workspace, s: Session, row: EngagementRow) -> tuple[tuple, Any, dict[str, Any]]:
    sync_answers(ws, s, row)
    root = ws.folder(row)
    key = fingerprint(root)
    with _cache_lock:
        hit = _cache.get(row.id)
        if hit and hit[0] == key:
            return hit
    a = analysis.analyse(root)
    entry = (key, (a, analysis.judgement(a)), {})
    with _cache_lock:
        _cache[row.id] = entry
    return entry


def analysed(ws: Workspace, s: Session, row: EngagementRow) -> tuple[analysis.Analysis, dict[str, Any]]:
    """(analysis, judgement) of an engagement, recomputed only when its folder changed."""
    return _entry(ws, s, row)[1]


def memo(ws: Workspace, s: Session, row: EngagementRow, name: str, fn) -> Any:
    """fn(analysis, judgement), computed once per state of the engagement folder."""
    _key, (a, j), extras = _entry(ws, s, row)
    if name not in extras:
        extras[name] = fn(a, j)
    return extras[name]


# --- report jobs (on the task queue: assess/web/jobs.py) -----------------------------------------

REPORT_STEPS = (("assessment", "Assessment report"), ("due-diligence", "Due-diligence summary"))


def reports_dir(ws: Workspace, row: EngagementRow, version: int) -> Path:
    return ws.folder(row) / "reports" / f"v{version}"


def queue_report(ws: Workspace, row: EngagementRow, language: str, archival: bool = True,
                 kind: str = "all") -> tuple[int, int]:
    """Create the next report version and put it on the task queue for a worker (`assess
    worker`, started by `assess serve` unless --no-worker). The job carries the engagement, the
    kind, the language and the folder state it renders."""
    from . import jobs

    if kind not in jobs.KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    with ws.db.write() as s:
        sync_answers(ws, s, row)
        last = s.scalar(select(ReportJob.version).where(ReportJob.engagement_id == row.id)
                        .order_by(ReportJob.version.desc()).limit(1)) or 0
        job = ReportJob(engagement_id=row.id, version=last + 1, language=language, archived=archival,
                        kind=kind, state=jobs.folder_state(ws.folder(row)), status="queued",
                        progress=0, stage="Queued: waiting for a worker")
        s.add(job)
        s.flush()
        job_id, version = job.id, job.version
        message = jobs.message_for(job, row)
    try:
        jobs.enqueue(ws.home, message)
    except Exception as exc:  # the queue is unreachable (Redis down): say so on the job
        with ws.db.write() as s:
            failed = s.get(ReportJob, job_id)
            failed.status, failed.stage, failed.finished_at = "failed", "Failed", utcnow()
            failed.message = f"the task queue could not be reached ({type(exc).__name__}: {exc})"
    return job_id, version


def job_state(job: ReportJob) -> str:
    """queued | running | done | failed: a worker that dies hands its job back to the queue
    (jobs.recover), so there is no 'interrupted' any more."""
    return job.status
