"""`assess backup`: one archive with a consistent copy of the database and the engagement folders,
readable by its owner only (mode 0600)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .db import database_url


def make_backup(home: Path, out: Path | None = None) -> Path:
    home = Path(home).resolve()
    url = database_url(home, os.environ.get("DATABASE_URL"))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(out or home / "backups" / f"assess-backup-{stamp}.tar.gz")
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if url.startswith("sqlite"):
            source = home / "assess.db"
            if not source.is_file():
                raise RuntimeError(f"{source}: no database here (is --home right?)")
            dump = tmp_path / "assess.db"
            with sqlite3.connect(source) as src, sqlite3.connect(dump) as dst:
                src.backup(dst)  # consistent even while workers write (WAL)
            dst.close()
            src.close()
        else:
            if not shutil.which("pg_dump"):
                raise RuntimeError("DATABASE_URL is PostgreSQL but pg_dump is not installed "
                                   "(apt-get install postgresql-client)")
            dump = tmp_path / "assess.sql"
            plain = url.replace("postgresql+psycopg://", "postgresql://")
            subprocess.run(["pg_dump", "--no-owner", "--dbname", plain, "--file", str(dump)], check=True)
        # readable by its owner only (0600), whatever the umask: it holds every client's data
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w:gz") as tar:
            tar.add(dump, arcname=dump.name)
            for name in ("engagements", "uploads"):
                if (home / name).is_dir():
                    tar.add(home / name, arcname=name)
    return out
