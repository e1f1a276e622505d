"""Writing the engagement folder safely when several processes share it (the web app's workers,
a CLI run beside them): whole-file atomic replacement and a lock per folder for read-modify-write."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

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


# --- YAML with limits ---------------------------------------------------------------------------

YAML_MAX_BYTES = 2 * 1024 * 1024  # an engagement's YAML files (settings, manifest, answers, ...)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# the standard tags (YAML 1.1 core schema); anything else (!!python/object, !custom) is refused
_STANDARD_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in (
    "str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary", "omap", "pairs",
    "set", "merge", "value"))


class YamlLimitError(yaml.YAMLError):
    """A YAML file refused before it is loaded: too large, an alias that expands, a foreign tag."""


def check_yaml(text: str, where: str) -> None:
    """Refuse what a safe loader would still let through at a cost: aliases of lists or mappings
    (a few hundred bytes can expand to gigabytes) and tags other than YAML's standard ones (a
    `!!python/object` is never executed by the safe loader, but nothing here may carry one)."""
    collections: set[str] = set()
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        tag = getattr(event, "tag", None)
        if tag and tag != "!" and tag not in _STANDARD_TAGS:
            line = event.start_mark.line + 1
            raise YamlLimitError(f"{where}: line {line}: the tag {tag!r} is not accepted "
                                 "(plain YAML values only)")
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent) and event.anchor:
            collections.add(event.anchor)
        elif isinstance(event, yaml.AliasEvent) and event.anchor in collections:
            line = event.start_mark.line + 1
            raise YamlLimitError(f"{where}: line {line}: the alias *{event.anchor} repeats a list or "
                                 "mapping; aliases that expand are not accepted (write the values out)")


def safe_yaml(text: str) -> Any:
    """yaml.safe_load through libyaml's C parser when it is there (five to ten times faster):
    for the product's own data files and texts already checked."""
    return yaml.load(text, Loader=_YAML_LOADER)


def load_yaml(path: Path, max_bytes: int = YAML_MAX_BYTES) -> Any:
    """A YAML file of an engagement, parsed safely and within limits (check_yaml); YAMLError
    (YamlLimitError for the limits) naming the file otherwise."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise YamlLimitError(f"{path}: {size / 2**20:.1f} MB; an engagement's YAML file is at most "
                             f"{max_bytes / 2**20:g} MB")
    text = path.read_text(encoding="utf-8")
    check_yaml(text, str(path))
    return yaml.load(text, Loader=_YAML_LOADER)


# --- CSV the product writes ---------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (it starts with = + - @, a tab or a
    carriage return) gets a leading apostrophe, so it opens as the text it is (OWASP's CSV
    injection advice); anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_csv(frame: Any) -> str:
    """A DataFrame as CSV text with every text cell neutralised (neutralise_cell). Every CSV the
    product writes goes through here."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = frame.copy()
    for col in out.columns:
        if is_object_dtype(out[col]) or is_string_dtype(out[col]):
            out[col] = out[col].astype(object).map(neutralise_cell)
    return out.to_csv(index=False, lineterminator="\r\n")  # RFC 4180; a CR in a cell is quoted
