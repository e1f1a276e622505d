"""Report jobs on the task queue (Huey): SQLite in HOME by default, Redis with REDIS_URL; a job is
idempotent, carries what it renders, and survives a killed worker (retried, bounded, else failed
with the reason). The multi-worker tests start a real redis-server on a free loopback port."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from assess.web import jobs
from assess.web.db import EngagementRow, ReportJob, utcnow
from assess.web.service import queue_report

from .conftest import SAMPLE
from .webutil import Web, free_port, running_worker, wait_for


@pytest.fixture
def sample(app) -> int:
    w = Web(app)
    assert w.login().status_code == 302
    return w.import_folder(SAMPLE)


def ws(app):
    return app.extensions["assess"]


def row_of(app, eid: int) -> EngagementRow:
    with ws(app).db.session() as s:
        return s.get(EngagementRow, eid)


def job_of(app, job_id: int) -> ReportJob:
    with ws(app).db.session() as s:
        return s.get(ReportJob, job_id)


def pending(home: Path) -> int:
    huey, _task = jobs.queue(home)
    return huey.pending_count()


# --- without a worker: what a job carries, idempotence, recovery -------------------------------


def test_a_job_carries_what_it_renders(app, sample):
    row = row_of(app, sample)
    job_id, version = queue_report(ws(app), row, "fr", archival=False, kind="due-diligence")
    job = job_of(app, job_id)
    assert (job.status, job.version, job.kind, job.language, job.archived) == (
        "queued", version, "due-diligence", "fr", False)
    assert job.state == jobs.folder_state(ws(app).folder(row)) and len(job.state) == 64
    huey, _task = jobs.queue(ws(app).home)
    assert huey.pending_count() == 1
    message = huey.pending()[0].kwargs
    assert message == {"job_id": job_id, "engagement_id": sample, "folder": row.folder,
                       "version": version, "kind": "due-diligence", "lang": "fr", "archival": False,
                       "state": job.state}
    assert (ws(app).home / "queue.db").is_file()  # SQLite storage in HOME by default


def test_the_folder_state_changes_with_the_inputs_only(app, sample):
    root = ws(app).folder(row_of(app, sample))
    before = jobs.folder_state(root)
    (root / "reports" / "v9").mkdir(parents=True)
    (root / "reports" / "v9" / "x.pdf").write_bytes(b"%PDF")
    assert jobs.folder_state(root) == before
    (root / "overrides.yaml").write_text((root / "overrides.yaml").read_text() + "\n# edited\n")
    assert jobs.folder_state(root) != before


def _set(app, job_id: int, **fields) -> None:
    with ws(app).db.write() as s:
        job = s.get(ReportJob, job_id)
        for k, v in fields.items():
            setattr(job, k, v)


def test_a_message_delivered_twice_renders_once(app, sample, monkeypatch):
    row = row_of(app, sample)
    job_id, version = queue_report(ws(app), row, "en")
    ran = []
    monkeypatch.setattr(jobs.subprocess, "run", lambda *a, **kw: ran.append(a) or None)
    message = jobs.message_for(job_of(app, job_id), row)
    _set(app, job_id, status="done", progress=100, files=["a.pdf"])
    assert jobs.execute(ws(app), **message) == "skipped"
    _set(app, job_id, status="running", worker="elsewhere:1:1", heartbeat_at=utcnow(), attempts=1)
    assert jobs.execute(ws(app), **message) == "skipped"  # a live worker holds it
    assert ran == [] and job_of(app, job_id).worker == "elsewhere:1:1"


def test_a_lost_job_is_queued_again_then_failed_with_the_reason(app, sample, monkeypatch):
    monkeypatch.setenv("ASSESS_JOB_HEARTBEAT", "1")
    home = ws(app).home
    job_id, _version = queue_report(ws(app), row_of(app, sample), "en")
    huey, _task = jobs.queue(home)
    huey.flush()  # the first message was consumed by a worker that then died
    old = utcnow() - dt.timedelta(seconds=30)
    _set(app, job_id, status="running", worker="gone:42:1", heartbeat_at=old, attempts=1, progress=5)
    assert jobs.recover(ws(app), home) == [job_id]
    job = job_of(app, job_id)
    assert job.status == "queued" and "gone:42:1" in job.stage and pending(home) == 1
    # a fresh heartbeat is left alone
    _set(app, job_id, status="running", heartbeat_at=utcnow())
    assert jobs.recover(ws(app), home) == []
    # past the attempts: failed, with the reason, never "running 5%"
    _set(app, job_id, status="running", heartbeat_at=old, attempts=jobs.MAX_ATTEMPTS)
    assert jobs.recover(ws(app), home) == []
    job = job_of(app, job_id)
    assert job.status == "failed" and f"stopped {jobs.MAX_ATTEMPTS} times" in job.message
    assert job.finished_at is not None


def test_an_unreachable_queue_fails_the_job_with_the_reason(app, sample, monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nobody listens
    job_id, _version = queue_report(ws(app), row_of(app, sample), "en")
    job = job_of(app, job_id)
    assert job.status == "failed" and "task queue could not be reached" in job.message


def test_the_page_never_says_interrupted(app, sample):
    w = Web(app)
    w.login()
    job_id, version = queue_report(ws(app), row_of(app, sample), "en")
    _set(app, job_id, created_at=utcnow() - dt.timedelta(hours=2))
    body = w.get(f"/e/{sample}/reports/{version}.json").get_json()
    assert body["status"] == "queued" and body["stage"].startswith("Queued")


# --- real workers --------------------------------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path):
    """A real redis-server (Debian's) on a free loopback port, without persistence."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (make setup installs it: the Makefile's DEBS)")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        client = redis.Redis.from_url(url)
        wait_for(lambda: _pings(client), timeout=20, step=0.1)
        client.close()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@pytest.mark.slow
def test_a_killed_worker_s_job_completes_once_on_another(app, sample, redis_url, monkeypatch):
    """Two workers on Redis; the one rendering is killed (SIGKILL, its render with it); the other
    takes the job back and finishes it: done once, on attempt 2, one set of PDFs."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    home = ws(app).home
    env = {"REDIS_URL": redis_url}
    with running_worker(home, env, "worker-a.log") as a, running_worker(home, env, "worker-b.log") as b:
        job_id, version = queue_report(ws(app), row_of(app, sample), "en", archival=False)
        job = wait_for(lambda: (j := job_of(app, job_id)).status == "running"
                       and "Rendering" in j.stage and j, timeout=120)
        pid = int(job.worker.split(":")[1])
        victim, survivor = (a, b) if pid == a.pid else (b, a)
        assert pid == victim.pid
        time.sleep(1.5)  # mid-render
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        done = wait_for(lambda: (j := job_of(app, job_id)).status in ("done", "failed") and j,
                        timeout=400)
        assert survivor.poll() is None
    assert done.status == "done", (done.message, (home / "worker-a.log").read_text()[-2000:],
                                   (home / "worker-b.log").read_text()[-2000:])
    assert done.attempts == 2 and int(done.worker.split(":")[1]) == survivor.pid
    assert done.progress == 100 and len(done.files) == 2
    reports = ws(app).folder(row_of(app, sample)) / "reports"
    assert sorted(p.name for p in (reports / f"v{version}").iterdir()) == sorted(done.files)
    assert [p.name for p in reports.iterdir()] == [f"v{version}"]  # no attempt folder left


@pytest.mark.slow
def test_serve_starts_a_worker_unless_told_not_to(home):
    from .webutil import running_server

    with running_server(home, workers=1):
        wait_for(lambda: "Report worker started" in (home / "server.log").read_text(), timeout=30)
        wait_for(lambda: "assess worker: home" in (home / "server.log").read_text(), timeout=60)
