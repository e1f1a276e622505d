"""The user's cache folder, and the result cache: what `assess metrics` and `assess risks` print,
kept per set of inputs, so re-running them on an unchanged engagement answers at once (no table
read, no pandas imported). docs/performance.md lists every cache.

A result is found only under a key of everything it can depend on:
- the engagement folder: every file's path, size and modification time, and the content of every
  file up to 1 MB (engagement.yaml, answers, overrides, postmortems, the imports' manifest; a
  larger raw export is named by its size and time, and the manifest that records its sha256 is
  read whole);
- the code and the shipped data: a digest of every file of the package (modules, catalogs,
  questionnaires) and the versions of Python and of the libraries that compute;
- the day (a report date defaults to today), the ASSESS_* settings and TZ;
- the command and its options.
The key is taken before the work and again after it: a result is kept only when nothing changed
meanwhile. Written atomically; a read-only or full cache folder costs time, never a result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

CACHE_ENV = "ASSESS_CACHE_DIR"
CACHE_OFF = "off"  # ASSESS_CACHE_DIR=off: no cache at all
RESULTS_MAX_FILES = 400  # the result cache keeps the most recently used outputs
CONTENT_BYTES = 1 << 20  # files up to this size are keyed by their content
LIBRARIES = ("pandas", "pyarrow", "numpy", "rapidfuzz", "PyYAML")


def cache_root() -> Path | None:
    """The user's cache folder for assess (ASSESS_CACHE_DIR, else $XDG_CACHE_HOME/assess, else
    ~/.cache/assess); None when ASSESS_CACHE_DIR is 'off'."""
    value = os.environ.get(CACHE_ENV)
    if value:
        return None if value.strip().lower() == CACHE_OFF else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assess"


def tree_digest(root: Path, content_bytes: int = CONTENT_BYTES) -> str:
    """A digest of a folder's files: path, size and modification time of each, and the content
    of each file up to `content_bytes` (dot files and __pycache__ left out: locks, bytecode)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            try:
                st = path.stat()
                h.update(f"{path.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
                if st.st_size <= content_bytes:
                    h.update(path.read_bytes())
            except OSError:
                h.update(f"{path.relative_to(root)}\0unreadable\0".encode())
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """The package's files (modules, catalogs, questionnaires, templates: a checkout keeps some
    of them beside the package) and the versions of Python and the computing libraries."""
    from .paths import PACKAGE, data_dir

    parts = [sys.version]
    for lib in LIBRARIES:
        try:
            parts.append(f"{lib}={metadata.version(lib)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{lib}=absent")
    for folder in (PACKAGE, data_dir("questionnaires")):
        parts.append(tree_digest(folder))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def result_key(command: str, directory: Path, options: list) -> str:
    """The key of one command's output on one engagement folder (see the module's docstring)."""
    settings = {k: v for k, v in os.environ.items() if k.startswith("ASSESS_") and k != CACHE_ENV}
    text = json.dumps([code_digest(), tree_digest(Path(directory)), dt.date.today().isoformat(),
                       sorted(settings.items()), os.environ.get("TZ"), command, options],
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def remembered(command: str, directory: Path, options: list, produce: Callable[[], str]) -> str:
    """The command's output: from the result cache when its inputs are unchanged, else produced
    (and kept when the inputs did not change while it was produced)."""
    root = cache_root()
    if root is None:
        return produce()
    folder = root / "results"
    key = result_key(command, directory, options)
    path = folder / f"{command}-{key}.txt"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        text = path.read_text(encoding="utf-8")
        with contextlib.suppress(OSError):
            os.utime(path)
        return text
    text = produce()
    if result_key(command, directory, options) == key:
        _write(path, text)
    return text


def _write(path: Path, text: str) -> None:
    from .files import atomic_write

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
        prune(path.parent, "*.txt", keep_files=RESULTS_MAX_FILES)
    except OSError:
        pass  # a read-only or full cache folder costs speed, never a result


def prune(folder: Path, pattern: str, keep_bytes: int | None = None,
          keep_files: int | None = None) -> None:
    """Delete a cache folder's least recently used files (by modification time: a read touches
    its file) until at most `keep_bytes` or `keep_files` of those matching `pattern` are left."""
    files = []
    for p in folder.glob(pattern):
        with contextlib.suppress(OSError):
            st = p.stat()
            files.append((st.st_mtime, st.st_size, p))
    total, count = sum(size for _, size, _ in files), len(files)
    for _, size, p in sorted(files):
        if (keep_bytes is None or total <= keep_bytes) and (keep_files is None or count <= keep_files):
            break
        with contextlib.suppress(OSError):
            p.unlink()
        total, count = total - size, count - 1
