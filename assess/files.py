"""Writing the engagement folder safely when several processes share it (the web app's workers,
a CLI run beside them): whole-file atomic replacement and a lock per folder for read-modify-write."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

LOCK = ".assess.lock"


def atomic_write(path: Path, text: str) -> None:
    """Write text to path so that a reader sees the old file or the new one, never a mix; each
    writer uses its own temporary file, so concurrent writers cannot trip over one another."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def folder_lock(root: Path) -> Iterator[None]:
    """An exclusive lock on an engagement folder for one read-modify-write (imports.yaml,
    overrides.yaml, engagement.yaml); waits for another process holding it."""
    with open(Path(root) / LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
