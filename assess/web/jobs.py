"""Report jobs on a task queue: Huey, with SQLite storage in HOME on one machine (queue.db) and
Redis when REDIS_URL is set (workers on other machines, sharing ASSESS_HOME and DATABASE_URL).

A job is a row of report_jobs (what the pages show) and a message on the queue carrying what it
renders: the job, the engagement and its folder, the report kind, the language, the archival
flag and the folder state it was asked for. `assess worker` consumes the messages.

- Idempotent: a worker claims the job in a write transaction (row locked); a job already done or
  failed, or running with a fresh heartbeat elsewhere, is left alone, so a message delivered twice
  renders once. The PDFs are written to a folder of their own per attempt and moved to
  reports/v<N>/ only when every report is rendered.
- A killed worker: the running job's heartbeat stops; every worker looks for stale heartbeats and
  puts such a job back on the queue (attempts counted, at most MAX_ATTEMPTS), after which it is
  marked failed with the reason. Never "running 5%" forever.
- Each report renders in a subprocess (`assess report --time-limit`): its time limit bounds the
  analysis and the render, a crash cannot take the worker down, and the subprocess dies with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from .db import Database, EngagementRow, ReportJob, database_url, utcnow

log = logging.getLogger("assess.jobs")

MAX_ATTEMPTS = 3  # a job whose worker dies this many times is failed with the reason
REPORT_SECONDS = 120  # each report's time limit (analysis included), `assess report --time-limit`
KINDS = {"all": ("assessment", "due-diligence"), "assessment": ("assessment",),
         "due-diligence": ("due-diligence",)}
LABELS = {"assessment": "Assessment report", "due-diligence": "Due-diligence summary"}
QUEUE_NAME = "assess-reports"


def heartbeat_seconds() -> float:
    """How often a running job says it is alive (ASSESS_JOB_HEARTBEAT, default 10 s); a job
    silent for four times that is taken as lost with its worker."""
    return max(float(os.environ.get("ASSESS_JOB_HEARTBEAT") or 10), 0.2)


def stale_after() -> float:
    return 4 * heartbeat_seconds()


def folder_state(root: Path) -> str:
    """A digest of the engagement folder's inputs (every file but reports/): the state a job
    renders. Changes whenever settings, exports, answers or overrides change."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "reports"]
        for f in filenames:
            if f.endswith(".tmp") or f == ".assess.lock":
                continue
            st = os.stat(os.path.join(dirpath, f))
            entries.append(f"{os.path.relpath(os.path.join(dirpath, f), root)}\0{st.st_size}\0"
                           f"{st.st_mtime_ns}\n")
    return hashlib.sha256("".join(sorted(entries)).encode()).hexdigest()


# --- the queue ------------------------------------------------------------------------------------

_queues: dict[tuple[str, str | None], tuple[Any, Any]] = {}
_queues_lock = threading.Lock()


def queue(home: Path) -> tuple[Any, Any]:
    """(Huey instance, render_report task) of HOME: Redis when REDIS_URL is set, else SQLite in
    HOME/queue.db. The task is registered under a fixed name so that producers (the web app) and
    consumers (`assess worker`) on any machine agree."""
    from huey import RedisHuey, SqliteHuey

    home = Path(home).resolve()
    url = os.environ.get("REDIS_URL") or None
    key = (str(home), url)
    with _queues_lock:
        if key not in _queues:
            huey = (RedisHuey(QUEUE_NAME, url=url, results=False) if url
                    else SqliteHuey(QUEUE_NAME, filename=str(home / "queue.db"), results=False))

            def render_report(**message: Any) -> str:
                return execute(workspace(home), **message)

            _queues[key] = (huey, huey.task(name="render_report")(render_report))
        return _queues[key]


def enqueue(home: Path, message: dict[str, Any]) -> None:
    """Put one job's message on the queue."""
    _huey, task = queue(home)
    task(**message)


def message_for(job: ReportJob, row: EngagementRow) -> dict[str, Any]:
    return {"job_id": job.id, "engagement_id": row.id, "folder": row.folder, "version": job.version,
            "kind": job.kind, "lang": job.language, "archival": bool(job.archived),
            "state": job.state}


_workspaces: dict[str, Any] = {}


def workspace(home: Path):
    """The worker's view of HOME (database from DATABASE_URL, else HOME/assess.db)."""
    from .service import Workspace

    home = Path(home).resolve()
    if str(home) not in _workspaces:
        _workspaces[str(home)] = Workspace(home=home, db=Database(database_url(
            home, os.environ.get("DATABASE_URL"))))
    return _workspaces[str(home)]


# --- running a job ------------------------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _update(ws, job_id: int, worker: str | None = None, **fields: Any) -> bool:
    """Set fields of a job; with `worker`, only while that worker still holds it."""
    with ws.db.write() as s:
        job = s.get(ReportJob, job_id, with_for_update=True)
        if job is None or (worker is not None and (job.worker != worker or job.status != "running")):
            return False
        for k, v in fields.items():
            setattr(job, k, v)
        return True


def claim(ws, job_id: int, engagement_id: int, me: str) -> ReportJob | None:
    """Take the job for this worker, or None when there is nothing to do (already done or
    failed, held by a live worker, or past its attempts: then failed with the reason)."""
    with ws.db.write() as s:
        job = s.get(ReportJob, job_id, with_for_update=True)
        if job is None or job.engagement_id != engagement_id or job.status in ("done", "failed"):
            return None
        now = utcnow()
        if (job.status == "running" and job.heartbeat_at is not None
                and (now - job.heartbeat_at).total_seconds() < stale_after()):
            return None  # a live worker has it: this message is a duplicate
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.stage, job.finished_at = "failed", "Failed", now
            job.message = (f"the worker rendering it stopped {job.attempts} times (killed, restarted "
                           f"or out of memory; last {job.worker}): not tried again")
            return None
        job.attempts += 1
        job.status, job.worker, job.started_at, job.heartbeat_at = "running", me, now, now
        job.stage, job.progress = "Starting", 2
        s.flush()
        s.expunge(job)
        return job


class Heartbeat(threading.Thread):
    def __init__(self, ws, job_id: int, me: str):
        super().__init__(daemon=True, name=f"assess-heartbeat-{job_id}")
        self.ws, self.job_id, self.me = ws, job_id, me
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(heartbeat_seconds()):
            with contextlib.suppress(Exception):  # a busy database: the next beat will do
                _update(self.ws, self.job_id, self.me, heartbeat_at=utcnow())


def _die_with_parent() -> None:
    """In the render subprocess: be killed when the worker dies (Linux PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)


def execute(ws, job_id: int, engagement_id: int, folder: str, version: int, kind: str, lang: str,
            archival: bool, state: str | None = None) -> str:
    """Render one job (the task's body): claim it, render each report in a subprocess with
    progress per step, move the PDFs into reports/v<version>/, mark it done. Returns the outcome."""
    me = worker_name()
    job = claim(ws, job_id, engagement_id, me)
    if job is None:
        return "skipped"
    beat = Heartbeat(ws, job_id, me)
    beat.start()
    root = ws.engagements / folder
    reports = root / "reports"
    work = reports / f".v{version}.attempt{job.attempts}"
    try:
        rendered_state = folder_state(root)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        steps = KINDS.get(kind) or KINDS["all"]
        files: list[str] = []
        for i, name in enumerate(steps):
            _update(ws, job_id, me, stage=f"Rendering the {LABELS[name].lower()}",
                    progress=5 + 90 * i // len(steps))
            cmd = [sys.executable, "-m", "assess", "report", str(root), "--out", str(work),
                   "--report", name, "--lang", lang, "--time-limit", str(REPORT_SECONDS)]
            if not archival:
                cmd.append("--no-archival")
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=3 * REPORT_SECONDS,
                                  preexec_fn=_die_with_parent)
            if done.returncode != 0:
                out = (done.stderr or done.stdout).strip()
                raise RuntimeError(out.splitlines()[-1].removeprefix("Error: ") if out
                                   else f"{LABELS[name]} failed")
            files += sorted(p.name for p in work.glob(f"*-{name}-{lang}.pdf"))
        final = reports / f"v{version}"
        shutil.rmtree(final, ignore_errors=True)  # an earlier attempt that died after its move
        os.replace(work, final)
        for left in reports.glob(f".v{version}.attempt*"):  # what killed attempts left behind
            shutil.rmtree(left, ignore_errors=True)
        note = None
        if state and rendered_state != state:
            note = ("the engagement changed after the report was asked for: it shows the folder "
                    "as it was when rendering started")
        if not _update(ws, job_id, me, status="done", stage="Ready", progress=100, files=files,
                       state=rendered_state, message=note, finished_at=utcnow()):
            return "lost"  # taken back as stale meanwhile: the other attempt finishes it
        return "done"
    except Exception as exc:  # the job records any failure for the user; nothing is re-raised
        message = ("the render took too long and was stopped"
                   if isinstance(exc, subprocess.TimeoutExpired) else str(exc))
        _update(ws, job_id, me, status="failed", stage="Failed", message=message, finished_at=utcnow())
        shutil.rmtree(work, ignore_errors=True)
        return "failed"
    finally:
        beat.done.set()


def recover(ws, home: Path) -> list[int]:
    """Put back on the queue each running job whose worker stopped beating (killed, restarted,
    machine gone), or fail it past MAX_ATTEMPTS. Returns the ids re-queued."""
    now = utcnow()
    again: list[tuple[ReportJob, EngagementRow]] = []
    with ws.db.write() as s:
        for job in s.scalars(select(ReportJob).where(ReportJob.status == "running")
                             .with_for_update(skip_locked=True)):
            if job.heartbeat_at is not None and (now - job.heartbeat_at).total_seconds() < stale_after():
                continue
            if job.attempts >= MAX_ATTEMPTS:
                job.status, job.stage, job.finished_at = "failed", "Failed", now
                job.message = (f"the worker rendering it stopped {job.attempts} times (killed, "
                               f"restarted or out of memory; last {job.worker}): not tried again")
                continue
            log.warning("report job %s: worker %s stopped; queued again", job.id, job.worker)
            job.status, job.heartbeat_at = "queued", None
            job.stage = f"Queued again: the worker rendering it ({job.worker}) stopped"
            again.append((job, s.get(EngagementRow, job.engagement_id)))
        messages = [message_for(job, row) for job, row in again if row is not None]
    for message in messages:
        enqueue(home, message)
    return [m["job_id"] for m in messages]


class Recovery(threading.Thread):
    """In each worker: look for lost jobs every heartbeat."""

    def __init__(self, home: Path):
        super().__init__(daemon=True, name="assess-recovery")
        self.home = home
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(heartbeat_seconds()):
            try:
                recover(workspace(self.home), self.home)
            except Exception:  # a busy database or queue: try again next beat
                log.exception("looking for lost report jobs failed")


def run_worker(home: Path, jobs: int = 1) -> None:
    """`assess worker`: the Huey consumer (thread workers; each report renders in its own
    process) and the recovery of lost jobs. Stops on SIGINT or SIGTERM."""
    home = Path(home).resolve()
    huey, _task = queue(home)
    recovery = Recovery(home)
    recovery.start()
    consumer = huey.create_consumer(workers=jobs, worker_type="thread", periodic=False,
                                    initial_delay=0.1, max_delay=1.0, check_worker_health=True)
    try:
        recover(workspace(home), home)  # jobs lost while no worker ran
    except Exception:
        log.exception("looking for lost report jobs failed")
    try:
        consumer.run()
    finally:
        recovery.stop.set()

