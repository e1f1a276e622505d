"""Helpers for the web app's tests: a migrated home with two consultants, and a test client that
fetches a CSRF token the way the app's own pages do."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assess.web import create_app
from assess.web.auth import create_user
from assess.web.db import Database, database_url

PASSWORD = "correct horse battery"


def make_home(home: Path) -> Database:
    home.mkdir(parents=True, exist_ok=True)
    db = Database(database_url(home))
    db.upgrade()
    create_user(db, "alice@firm.io", "Alice Martin", PASSWORD)
    create_user(db, "bob@other.io", "Bob Stone", PASSWORD)
    return db


def make_app(home: Path, **config):
    return create_app(home, config={"SESSION_COOKIE_SECURE": False, **config})


class Web:
    """A browser-like client: keeps its cookies, puts the CSRF token in every post."""

    def __init__(self, app):
        self.app = app
        self.c = app.test_client()

    def token(self) -> str:
        return self.c.get("/csrf-token").get_json()["token"]

    def get(self, url, **kw):
        return self.c.get(url, **kw)

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        return self.c.post(url, data=data, **kw)

    def post_json(self, url, body, csrf=True):
        headers = {"X-CSRFToken": self.token()} if csrf else {}
        return self.c.post(url, json=body, headers=headers)

    def login(self, email="alice@firm.io", password=PASSWORD):
        return self.post("/login", {"email": email, "password": password})

    def create(self, client="Acme", **fields):
        data = {"client": client, "consultant": "Alice Martin", "timezone": "Europe/Paris",
                "window_end": "2026-10-31", "language": "en", "sla": "99.9", **fields}
        r = self.post("/engagements", data)
        assert r.status_code == 302, r.data.decode()[:2000]
        return int(r.headers["Location"].rsplit("/", 1)[-1])

    def import_folder(self, folder: Path) -> int:
        r = self.post("/engagements/import", {"archive": (zip_folder(folder), "engagement.zip")},
                      content_type="multipart/form-data")
        assert r.status_code == 302, r.data.decode()[:2000]
        return int(r.headers["Location"].rsplit("/", 1)[-1])


def zip_folder(folder: Path) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and "reports" not in p.relative_to(folder).parts:
                zf.write(p, Path(folder.name) / p.relative_to(folder))
    buf.seek(0)
    return buf


def link_token(html: str) -> str:
    m = re.search(r"/s/([A-Za-z0-9_\-]{20,})", html)
    assert m, "no self-assessment link on the page"
    return m.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(home: Path, workers: int = 2) -> Iterator[str]:
    """`assess serve` for real (gunicorn) on a free loopback port; yields its base URL."""
    port = free_port()
    log_path = home / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assess", "serve", "--home", str(home), "--port", str(port),
             "--workers", str(workers), "--insecure-cookies"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ASSESS_SECRET_KEY": ""})
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError(f"assess serve did not start:\n{log_path.read_text()}") from None
                    time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextmanager
def running_worker(home: Path, env: dict[str, str] | None = None, log_name: str = "worker.log"
                   ) -> Iterator[subprocess.Popen]:
    """`assess worker` for real on HOME (its own process group, so a kill takes its renders too);
    stopped with SIGTERM at the end."""
    log_path = home / log_name
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assess", "worker", "--home", str(home)], stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "ASSESS_JOB_HEARTBEAT": "1", **(env or {})})
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait(timeout=30)


def wait_for(predicate, timeout: float = 240, step: float = 0.3):
    """predicate()'s first true value within timeout seconds, else AssertionError."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not true within {timeout} s")
