"""The web app on PostgreSQL (DATABASE_URL): a real server started for the test from Debian's
postgresql package (make setup installs it), never a mock."""

from __future__ import annotations

import concurrent.futures
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from assess.web.db import Answer, Database, Respondent, head_revision, upsert_answer

from .webutil import PASSWORD, Web, free_port

pytestmark = pytest.mark.slow


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@pytest.fixture(scope="module")
def pg_url():
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries not installed (make setup installs postgresql)")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="assess-pg-", dir="/tmp"))
    if as_root:
        shutil.chown(base, "postgres", "postgres")
    data, sock = base / "data", base
    port = free_port()
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "assess", "--no-sync"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *prefix,
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(base / "log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [
                *prefix,
                _bin("createdb") or "createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "assess",
                "assess_test",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://assess@127.0.0.1:{port}/assess_test"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_the_app_runs_on_postgresql(pg_url, tmp_path, monkeypatch):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from assess.web import create_app
    from assess.web.auth import create_user
    from assess.web.db import Base

    monkeypatch.setenv("DATABASE_URL", pg_url)
    db = Database("postgresql+psycopg" + pg_url.removeprefix("postgresql"))
    db.upgrade()
    assert db.revision() == head_revision()
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    create_user(db, "alice@firm.io", "Alice", PASSWORD)
    app = create_app(tmp_path / "home", config={"SESSION_COOKIE_SECURE": False})
    assert app.extensions["assess"].db.url.startswith("postgresql+psycopg://")
    w = Web(app)
    assert w.login().status_code == 302
    eid = w.create()
    url = f"/e/{eid}/interview/answers.json"
    assert w.post_json(url, {"answers": [{"question": "oncall.load", "value": 4}]}).status_code == 200
    assert (
        w.post_json(url, {"answers": [{"question": "oncall.load", "value": 2, "note": "n"}]}).status_code
        == 200
    )
    assert w.get(url).get_json()["answers"]["oncall.load"] == {"value": 2, "note": "n"}
    # many writers at once, each its own answer: all kept (upserts on the unique key)
    with db.session() as s:
        rid = s.scalar(select(Respondent.id).where(Respondent.questionnaire == "intake"))

    def save(i: int) -> None:
        with db.write() as s:
            upsert_answer(s, rid, f"q{i}", i, None)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(save, range(40)))
    with db.session() as s:
        values = dict(
            s.execute(select(Answer.question_id, Answer.value).where(Answer.respondent_id == rid)).all()
        )
    assert all(values[f"q{i}"] == i for i in range(40)) and values["oncall.load"] == 2
    db.dispose()
    app.extensions["assess"].db.dispose()
