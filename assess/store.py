"""The engagement folder as a store: importing exports into it and loading the canonical tables.

Raw exports are kept exactly as received under incidents/ and deploys/; `imports.yaml` records each
one (format, content hash, when, how many rows). The canonical tables are always rebuilt from the
raw files, so a consultant can version the folder in git and nothing is locked in a database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import importers
from .caches import CACHE_ENV, CACHE_OFF, cache_root, prune  # noqa: F401 - store.CACHE_ENV and cache_root stay importable
from .engagement import Engagement, EngagementError
from .files import YAML_MAX_BYTES, YamlLimitError, atomic_write, folder_lock, load_yaml
from .importers.base import ImportError_, Problem, ReadContext, sha256
from .incidents import (
    ACTION_COLUMNS,
    DEPLOY_COLUMNS,
    INCIDENT_COLUMNS,
    empty,
    timeline_problems,
    typed,
)
from .mappings import severity_map

MANIFEST = "imports.yaml"
POSTMORTEMS = "postmortems.yaml"
COLUMN_MAPPINGS = "column_mappings.yaml"
OPTION_KEYS = ("date_order", "service", "column_map", "timezone")
MANIFEST_MAX_BYTES = 16 * 1024 * 1024  # tens of thousands of imports; other YAML files: YAML_MAX_BYTES
# What a missing field costs the analysis, for the data-quality summary.
CONSEQUENCE = {
    "severity": "per-severity figures and the mitigation SLA leave them out",
    "service": "per-service figures and change correlation leave them out",
    "acknowledged": "MTTA will be based on {kept}",
    "resolved": "MTTR will be based on {kept}",
    "impact_start": "MTTD will be based on {kept} (detection is used as the start elsewhere)",
    "mitigated": "time to mitigate will be based on {kept}",
    "root_cause": "recurrence uses title similarity for them",
    "version": "deploys cannot be told apart by version",
    "outcome": "they count as successful deploys",
}
NOUN = {"acknowledged": "acknowledged time", "resolved": "resolved time",
        "impact_start": "impact start", "mitigated": "mitigated time", "root_cause": "root cause"}


@dataclass
class ImportReport:
    """What one `assess import` of one file did: the figures the user reads."""

    file: str
    format: str
    kind: str
    encoding: str | None
    rows_read: int
    imported: int
    rejected: list[Problem]
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    committed: bool = True
    already_imported: bool = False
    stored_as: str | None = None
    notes: list[str] = field(default_factory=list)
    missing: dict[str, float] = field(default_factory=dict)  # column -> share of rows without it
    window: dict[str, Any] = field(default_factory=dict)  # see window_counts()
    open_incidents: list[str] = field(default_factory=list)  # "key: title" of those not resolved
    timeline: list[str] = field(default_factory=list)  # one sentence per pair of times out of order

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "format": self.format, "kind": self.kind, "encoding": self.encoding,
            "rows_read": self.rows_read, "imported": self.imported,
            "rejected": [str(p) for p in self.rejected], "new": self.new,
            "updated": self.updated, "unchanged": self.unchanged, "committed": self.committed,
            "already_imported": self.already_imported, "stored_as": self.stored_as,
            "notes": self.notes, "missing": self.missing, "quality": self.quality(),
            "window": self.window, "open_incidents": self.open_incidents,
            "timeline": self.timeline,
        }

    def window_sentence(self) -> str | None:
        """'12 of 254 incidents fall in 3 Aug - 31 Oct 2026 (240 before, 2 after)'."""
        w = self.window
        if not w or not w.get("total"):
            return None
        what = "incidents" if self.kind == "incidents" else "deploys"
        text = (f"{w['inside']} of {w['total']} {what} fall in {w['label']} "
                f"({w['before']} before, {w['after']} after)")
        if w["inside"] == 0:
            text += ": check the window (window.end in engagement.yaml) or the file"
        return text

    def quality(self) -> list[str]:
        """The data-quality summary in sentences: what is missing and what it costs."""
        what = "incidents" if self.kind == "incidents" else "deploys"
        out = []
        if self.timeline:
            out.append(f"{len(self.timeline)} pair(s) of times out of order (impact start <= "
                       "detected <= acknowledged <= mitigated <= resolved), listed in the report: "
                       "the metrics leave out the durations they would make negative")
        for col, share in self.missing.items():
            if share <= 0:
                continue
            kept = f"{1 - share:.0%}"
            cost = CONSEQUENCE.get(col, "").format(kept=kept)
            out.append(f"{share:.0%} of {what} have no {NOUN.get(col, col)}"
                       + (f": {cost}" if cost else ""))
        return out


def incident_issue_types(engagement: Engagement) -> tuple[str, ...] | None:
    """`jira_incident_types` from engagement.yaml: the Jira issue types that are incidents."""
    from .engagement import read_settings

    value = read_settings(engagement.root).get("jira_incident_types")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise EngagementError(f"{engagement.root / 'engagement.yaml'}: key 'jira_incident_types': "
                              "expected a list of Jira issue type names, e.g. [Incident, Outage]")
    return tuple(v.strip() for v in value)


def context_for(reader_name: str, engagement: Engagement,
                options: dict[str, Any] | None = None) -> ReadContext:
    options = options or {}
    return ReadContext(timezone=options.get("timezone") or engagement.timezone,
                       severity_map=severity_map(reader_name, engagement),
                       service=options.get("service"), date_order=options.get("date_order"),
                       column_map=dict(options.get("column_map") or {}),
                       issue_types=(incident_issue_types(engagement)
                                    if reader_name == "jira-csv" else None))


def read_column_mappings(engagement: Engagement) -> dict[str, dict[str, Any]]:
    """Saved mappings for generic CSV/XLSX files: header signature -> {columns, map}."""
    path = engagement.path(COLUMN_MAPPINGS)
    if not path.is_file():
        return {}
    data = read_yaml(path) or {}
    mappings = data.get("mappings", {}) if isinstance(data, dict) else None
    if not isinstance(mappings, dict):
        raise EngagementError(f"{path}: key 'mappings': expected a mapping of signature -> mapping")
    for sig, entry in mappings.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("map"), dict):
            raise EngagementError(f"{path}: key 'mappings.{sig}.map': expected field: column pairs")
    return mappings


def _save_column_mapping(engagement: Engagement, header: list[str], mapping: dict[str, str]) -> None:
    from .importers.generic import signature

    mappings = read_column_mappings(engagement)
    sig = signature(header)
    if mappings.get(sig, {}).get("map") == mapping:
        return
    mappings[sig] = {"columns": list(header), "map": dict(mapping)}
    text = ("# Written by `assess import`: how generic CSV/XLSX files of each header shape map onto\n"
            "# the canonical incident fields. Edit a 'map' to change it for the next import.\n")
    text += yaml.dump({"mappings": mappings}, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
    atomic_write(engagement.path(COLUMN_MAPPINGS), text)


def _choose_reader(engagement: Engagement, path: Path, fmt: str | None, options: dict[str, Any]):
    """The reader for a file, and for generic tables its header (the complete column mapping to
    use goes into options). A CSV no reader recognises is generic when a mapping is given or
    one was saved for its header."""
    from .importers.generic import resolve_mapping, signature

    try:
        reader = importers.choose(path, fmt)
    except ImportError_:
        if fmt is not None or path.suffix.lower() not in (".csv", ".tsv", ".txt"):
            raise
        reader = importers.READERS["generic-csv"]
        if not options.get("column_map"):
            try:
                known = signature(reader.header(path)) in read_column_mappings(engagement)
            except ImportError_:
                known = False
            if not known:
                raise
    if reader.name not in importers.GENERIC:
        return reader, None
    header = reader.header(path)
    given = options.get("column_map") or read_column_mappings(engagement).get(
        signature(header), {}).get("map", {})
    options["column_map"] = resolve_mapping(header, dict(given))
    return reader, header


def read_yaml(path: Path, max_bytes: int = YAML_MAX_BYTES) -> Any:
    """One of the engagement's YAML files, within limits (files.load_yaml), errors as
    EngagementError naming the file, the line and what is wrong."""
    try:
        return load_yaml(path, max_bytes)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        text = str(exc) if isinstance(exc, YamlLimitError) else f"{path}: not valid YAML{at}: {exc}"
        raise EngagementError(text) from None
    except UnicodeDecodeError:
        raise EngagementError(f"{path}: expected UTF-8 text") from None


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml: a folder of thousands
    """Never writes anchors and aliases (read_yaml refuses those that expand)."""  # of exports

    def ignore_aliases(self, data: Any) -> bool:
        return True


_DUMPER = _Dumper
_MANIFESTS: dict[Path, tuple[tuple[int, int, int], list[dict[str, Any]]]] = {}


def _manifest_entries(path: Path) -> Any:
    """The parsed manifest, reused while the file is unchanged (every write replaces the file:
    a new inode, mtime and size)."""
    stat = path.stat()
    stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _MANIFESTS.get(path)
    if cached and cached[0] == stamp:
        return {"imports": [dict(e) for e in cached[1]]}
    data = read_yaml(path, MANIFEST_MAX_BYTES) or {}
    entries = data.get("imports") if isinstance(data, dict) else None
    if isinstance(entries, list) and all(isinstance(e, dict) for e in entries):
        _MANIFESTS[path] = (stamp, [dict(e) for e in entries])
    return data


def read_manifest(engagement: Engagement, include_removed: bool = False) -> list[dict[str, Any]]:
    """The imported files in import order; those taken out (`removed`) only when asked."""
    path = engagement.path(MANIFEST)
    if not path.is_file():
        return []
    data = _manifest_entries(path)
    entries = data.get("imports", []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise EngagementError(f"{path}: key 'imports': expected a list of imported files")
    for i, entry in enumerate(entries):
        for key in ("file", "format", "sha256"):
            if not isinstance(entry, dict) or not isinstance(entry.get(key), str):
                raise EngagementError(f"{path}: key 'imports[{i}].{key}': expected a text value")
    return entries if include_removed else [e for e in entries if not e.get("removed")]


def _write_manifest(engagement: Engagement, entries: list[dict[str, Any]]) -> None:
    text = "# Written by `assess import`: the raw exports of this engagement, in import order.\n"
    text += yaml.dump({"imports": entries}, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
    path = engagement.path(MANIFEST)
    atomic_write(path, text)
    stat = path.stat()
    _MANIFESTS[path] = ((stat.st_ino, stat.st_mtime_ns, stat.st_size), [dict(e) for e in entries])


def _append_manifest(engagement: Engagement, entries: list[dict[str, Any]]) -> None:
    """Write the manifest with its last entry new: appended to the text as it is (a folder of
    thousands of exports would otherwise re-serialise the whole list for each one)."""
    path = engagement.path(MANIFEST)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if len(entries) == 1 or not re.search(r"^imports:\s*\n- ", text, re.M):
        _write_manifest(engagement, entries)
        return
    block = yaml.dump([entries[-1]], Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
    atomic_write(path, text.rstrip("\n") + "\n" + block)
    stat = path.stat()
    _MANIFESTS[path] = ((stat.st_ino, stat.st_mtime_ns, stat.st_size), [dict(e) for e in entries])


def _store_raw(engagement: Engagement, path: Path, kind: str, digest: str, name: str | None = None) -> str:
    """Copy the export into incidents/ or deploys/ unchanged; never overwrite another file."""
    folder = engagement.path(kind)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(name or path.name).name
    path_stem, suffix = target.stem, target.suffix
    n = 2
    while target.exists():
        if sha256(target) == digest:
            return str(target.relative_to(engagement.root))
        target = folder / f"{path_stem}-{n}{suffix}"
        n += 1
    if path.resolve() != target.resolve():
        shutil.copyfile(path, target)
    return str(target.relative_to(engagement.root))


def _missing_shares(frame: pd.DataFrame, kind: str) -> dict[str, float]:
    if frame.empty:
        return {}
    cols = (["severity", "service", "acknowledged", "resolved", "impact_start", "mitigated",
             "root_cause"] if kind == "incidents" else ["version", "outcome"])
    return {c: round(float(frame[c].isna().mean()), 4) for c in cols}


def _compare(before: pd.DataFrame, after: pd.DataFrame) -> tuple[int, int, int]:
    """(new, updated, unchanged) rows of `after` relative to `before`, by key and content."""
    if after.empty:
        return 0, 0, 0
    old = before.drop(columns=["provenance"]).set_index("key")
    new = after.drop(columns=["provenance"]).set_index("key")
    known = new.index.isin(old.index)
    common = new.index[known]
    if not len(common):
        return int((~known).sum()), 0, 0
    a = new.loc[common].astype("string").fillna("").to_numpy()
    b = old.loc[common].astype("string").fillna("").to_numpy()
    same = int((a == b).all(axis=1).sum())
    return int((~known).sum()), len(common) - same, same


def window_counts(engagement: Engagement, frame: pd.DataFrame, kind: str) -> dict[str, Any]:
    """How many rows fall inside the assessment window, before it and after it (an incident by
    its detection, else its impact start; a deploy by its time), and how many have no date."""
    start, end = engagement.window_bounds_utc()
    first, last = engagement.window_start, engagement.window_end
    label = f"{first.day} {first:%b %Y} - {last.day} {last:%b %Y}"
    if frame.empty:
        return {"label": label, "total": 0, "inside": 0, "before": 0, "after": 0}
    when = (frame["detected"].fillna(frame["impact_start"]) if kind == "incidents"
            else frame["deployed_at"])
    return {"label": label, "start": start.isoformat(), "end": end.isoformat(),
            "total": len(frame), "inside": int(((when >= start) & (when < end)).sum()),
            "before": int((when < start).sum()), "after": int((when >= end).sum()),
            "undated": int(when.isna().sum())}


def timeline_sentences(frame: pd.DataFrame) -> list[str]:
    """One sentence per pair of lifecycle times out of order (the shared rule in incidents)."""
    out = []
    for p in timeline_problems(frame).itertuples():
        minutes = float(p.minutes)
        amount = f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
        where = p.provenance if isinstance(p.provenance, str) else p.key
        out.append(f"{where} ({p.key}): {NOUN.get(p.later, p.later)} is {amount} before "
                   f"{NOUN.get(p.earlier, p.earlier)}")
    return out


def _open_incidents(frame: pd.DataFrame) -> list[str]:
    rows = frame.loc[frame["resolved"].isna(), ["key", "title"]]
    return [f"{k}: {t}" for k, t in zip(rows["key"], rows["title"].fillna(""), strict=True)]


def preview_file(engagement: Engagement, path: Path, fmt: str | None = None,
                 options: dict[str, Any] | None = None,
                 before: pd.DataFrame | None = None) -> tuple[ImportReport, pd.DataFrame]:
    """Read and validate one export without changing the engagement: the report (what an import
    would do, rejected rows included) and the mapped rows. `options` is completed in place (a
    generic table's full column mapping)."""
    path = Path(path)
    if not path.is_file():
        raise ImportError_(f"{path}: no such file")
    if options is None:
        options = {}
    for key in [k for k in options if k not in OPTION_KEYS or not options[k]]:
        del options[key]
    reader, _header = _choose_reader(engagement, path, fmt, options)
    result = reader.read(path, context_for(reader.name, engagement, options))
    frame = result.frame.drop_duplicates("key", keep="last")
    duplicates = len(result.frame) - len(frame)
    if duplicates:
        result.notes.append(f"{duplicates} row(s) repeat an id already in this file: the last one wins")
    report = ImportReport(
        file=path.name, format=reader.name, kind=reader.kind, encoding=result.encoding,
        rows_read=result.rows_read, imported=len(frame), rejected=result.problems,
        notes=result.notes, missing=_missing_shares(frame, reader.kind),
        window=window_counts(engagement, frame, reader.kind),
    )
    if reader.kind == "incidents":
        report.open_incidents = _open_incidents(frame)
        report.timeline = timeline_sentences(frame)
    if before is None:
        before = load_table(engagement, reader.kind)
    report.new, report.updated, report.unchanged = _compare(before, frame)
    return report, frame


def import_file(engagement: Engagement, path: Path, fmt: str | None = None,
                strict: bool = False, options: dict[str, Any] | None = None,
                name: str | None = None, imported_at: dt.datetime | None = None) -> ImportReport:
    """Import one export: read, validate, store the raw file and record it in the manifest.

    `options` are what the file itself cannot say: `date_order` (dmy/mdy), `service` (for a git
    log) and `column_map` (canonical field -> column, for generic CSV/XLSX). They are recorded
    with the import so that the file is always re-read the same way. `name` is the file name to
    keep the raw copy under (default: the file's own name; the web app passes the uploaded name).
    `imported_at` is recorded as the import's time (default now; `assess demo` replays the
    sample's imports at the times its manifest records).
    """
    return _import(engagement, path, fmt, strict, options, name, imported_at=imported_at)[0]


def _import(engagement: Engagement, path: Path, fmt: str | None, strict: bool,
            options: dict[str, Any] | None, name: str | None = None,
            before: pd.DataFrame | None = None, imported_at: dt.datetime | None = None
            ) -> tuple[ImportReport, pd.DataFrame]:
    """import_file, also returning the rows read (for a many-file import's running table)."""
    path = Path(path)
    options = dict(options or {})
    report, frame = preview_file(engagement, path, fmt, options, before)
    if name:
        report.file = name
    if strict and report.rejected:
        report.committed = False
        report.imported = 0
        return report, frame
    digest = sha256(path)
    with folder_lock(engagement.root):  # one manifest update at a time, whoever imports
        entries = read_manifest(engagement, include_removed=True)
        if any(e["sha256"] == digest and not e.get("removed") for e in entries):
            report.already_imported = True
            report.stored_as = next(e["file"] for e in entries
                                    if e["sha256"] == digest and not e.get("removed"))
            return report, frame
        report.stored_as = _store_raw(engagement, path, report.kind, digest, name)
        entry = {
            "file": report.stored_as, "format": report.format, "kind": report.kind, "sha256": digest,
            "imported_at": (imported_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
            .replace(microsecond=0).isoformat(),
            "encoding": report.encoding, "rows_read": report.rows_read,
            "rows_imported": report.imported, "rows_rejected": len(report.rejected),
        }
        if options:
            entry["options"] = options
        entries.append(entry)
        _append_manifest(engagement, entries)
        if report.format in importers.GENERIC:
            header = importers.READERS[report.format].header(path)
            _save_column_mapping(engagement, header, options["column_map"])
    return report, frame


@dataclass
class FileOutcome:
    """One file of a many-file import: its report, or why it could not be imported."""

    path: Path
    report: ImportReport | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.report is not None and not self.report.committed)


def expand(paths: list[Path]) -> list[Path]:
    """Files to import: each file as given, each folder's files (sorted, hidden ones left out)."""
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir()
                              if p.is_file() and not p.name.startswith(".")))
        else:
            out.append(path)
    return out


def import_files(engagement: Engagement, paths: list[Path], fmt: str | None = None,
                 strict: bool = False, options: dict[str, Any] | None = None,
                 progress: Callable[[Path], None] | None = None) -> list[FileOutcome]:
    """Import several exports, each read, committed and reported on its own: one that cannot be
    read is reported and the others go on. Folders stand for the files in them. `progress` is
    told each file before it is read."""
    outcomes = []
    tables: dict[str, pd.DataFrame] = {}
    for path in expand(paths):
        if progress is not None:
            progress(path)
        if not path.is_file():
            outcomes.append(FileOutcome(path, error=f"{path}: no such file"))
            continue
        try:
            kind = importers.choose(path, fmt).kind
        except ImportError_:
            kind = "incidents"  # a generic table, or an error import_file will name
        if kind not in tables:
            tables[kind] = load_table(engagement, kind)
        try:
            report, frame = _import(engagement, path, fmt, strict, options, before=tables[kind])
        except (ImportError_, EngagementError) as exc:
            outcomes.append(FileOutcome(path, error=str(exc)))
            continue
        if report.committed and not report.already_imported and not frame.empty:
            table = (pd.concat([tables[kind], frame], ignore_index=True)
                     if not tables[kind].empty else frame)
            tables[kind] = table.drop_duplicates("key", keep="last")
        outcomes.append(FileOutcome(path, report=report))
    return outcomes


def remove_import(engagement: Engagement, name: str) -> dict[str, Any]:
    """Take one imported export out of the engagement: its raw file is deleted and its manifest
    entry kept, marked `removed`, so its rows leave every figure and the record stays."""
    with folder_lock(engagement.root):
        entries = read_manifest(engagement, include_removed=True)
        live = [e for e in entries if not e.get("removed")]
        found = [e for e in live if e["file"] == name] or [
            e for e in live if Path(e["file"]).name == Path(name).name]
        if not found:
            known = ", ".join(e["file"] for e in live) or "none"
            raise EngagementError(f"{engagement.root / MANIFEST}: no imported file {name!r} "
                                  f"(imported: {known})")
        if len(found) > 1:
            raise EngagementError(f"{name!r} names {len(found)} imports "
                                  f"({', '.join(e['file'] for e in found)}): give the stored path")
        entry = found[0]
        entry["removed"] = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        raw = engagement.path(entry["file"])
        if raw.is_file():
            raw.unlink()
        _write_manifest(engagement, entries)
    return entry


def read_raw_table(engagement: Engagement, kind: str,
                   progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """All imported rows of one kind read from the raw exports (no cache), later imports
    overriding earlier ones with the same key. `progress` is told each file as it is read."""
    columns = INCIDENT_COLUMNS if kind == "incidents" else DEPLOY_COLUMNS
    frames = []
    for entry in read_manifest(engagement):
        if entry.get("kind", "incidents") != kind:
            continue
        path = engagement.path(entry["file"])
        if not path.is_file():
            raise EngagementError(f"{engagement.root / MANIFEST}: imported file {entry['file']} "
                                  "is missing from the engagement folder")
        reader = importers.READERS.get(entry["format"])
        if reader is None:
            raise EngagementError(f"{engagement.root / MANIFEST}: unknown format "
                                  f"'{entry['format']}' for {entry['file']}")
        if progress is not None:
            progress(entry["file"])
        ctx = context_for(reader.name, engagement, entry.get("options"))
        frames.append(reader.read(path, ctx).frame)
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty(columns)
    table = pd.concat(frames, ignore_index=True)
    return typed(table.drop_duplicates("key", keep="last"), columns)


# --- the canonical-table cache ----------------------------------------------------------------
# Reading every raw export again is most of a re-analysis. The canonical tables are kept as
# Parquet in the user's cache folder (never in the engagement folder: it is versioned, zipped and
# digested by the web app's jobs), named by a key of everything a read depends on: each live
# import's stored path, sha256, format, options, size and modification time, the reading settings
# the engagement gives it (time zone, severity mapping, Jira issue types), the importer code and the
# pandas and pyarrow versions. An import or a removal changes the manifest, hence the key: a stale
# table is never found, only left for pruning. Written atomically under the folder lock.

CACHE_MAX_BYTES = 1 << 30  # the table cache's files beyond this are pruned, least recently used


@functools.cache
def importer_version() -> str:
    """A digest of the code that turns an export into canonical rows: the importers, the
    canonical schema and the severity mappings (a changed reader is a new key, whatever the
    package's version says), with pandas' and pyarrow's versions."""
    import pyarrow

    here = Path(__file__).parent
    h = hashlib.sha256(f"{pd.__version__}|{pyarrow.__version__}".encode())
    for path in sorted([*here.joinpath("importers").glob("*.py"), here / "incidents.py",
                        here / "mappings.py", here / "store.py"]):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def cache_key(engagement: Engagement, kind: str = "incidents") -> str:
    """The key of one canonical table: what its rows depend on (see above)."""
    parts: list[Any] = [importer_version(), kind]
    for entry in read_manifest(engagement):
        if entry.get("kind", "incidents") != kind:
            continue
        path = engagement.path(entry["file"])
        try:
            stat = path.stat()
            stamp = [stat.st_size, stat.st_mtime_ns]
        except OSError:
            stamp = None  # the read will name the missing file
        ctx = context_for(entry["format"], engagement, entry.get("options"))
        parts.append([entry["file"], entry["sha256"], entry["format"], entry.get("options"), stamp,
                      ctx.timezone, sorted(ctx.severity_map.items()), ctx.service, ctx.date_order,
                      sorted(ctx.column_map.items()), ctx.issue_types])
    text = json.dumps(parts, default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cache_path(engagement: Engagement, kind: str = "incidents") -> Path | None:
    """Where the canonical table of this engagement's current imports is cached (None: off)."""
    root = cache_root()
    return None if root is None else root / "tables" / f"{kind}-{cache_key(engagement, kind)}.parquet"


def _read_cached(path: Path) -> pd.DataFrame | None:
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError, ImportError):  # absent, half-written by a crash, unreadable
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # least recently used goes first when pruning
    return table


def _write_cached(path: Path, table: pd.DataFrame) -> None:
    """Write atomically (a reader sees the whole file or none) and prune the oldest files."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            table.to_parquet(tmp, compression="zstd")
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        prune(path.parent, "*.parquet", keep_bytes=CACHE_MAX_BYTES)
    except OSError:
        pass  # a read-only or full cache folder costs speed, never a result


@contextlib.contextmanager
def _lock_if_writable(root: Path):
    """The folder lock, when the folder can hold its lock file (a read-only folder is read as it
    is: nobody can import into it meanwhile)."""
    try:
        lock = folder_lock(root)
        lock.__enter__()
    except OSError:
        yield
        return
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def load_table(engagement: Engagement, kind: str,
               progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """All imported rows of one kind, later imports overriding earlier ones with the same key:
    from the canonical-table cache when the imports are those it was built from, else read from
    the raw exports (read_raw_table) and cached."""
    path = cache_path(engagement, kind)
    if path is None:
        return read_raw_table(engagement, kind, progress)
    table = _read_cached(path)
    if table is not None:
        return table
    # one process builds it; another waiting on the lock then reads what it wrote
    with _lock_if_writable(engagement.root):
        path = cache_path(engagement, kind)  # the manifest may have changed while we waited
        table = _read_cached(path)
        if table is None:
            table = read_raw_table(engagement, kind, progress)
            _write_cached(path, table)
    return table


# --- postmortems ----------------------------------------------------------------------------

_PM_TIMES = ("impact_start", "mitigation_started", "mitigated")


def _pm_time(value: Any, where: str, engagement: Engagement) -> pd.Timestamp:
    if isinstance(value, dt.datetime | dt.date) or isinstance(value, str):
        try:
            ts = pd.Timestamp(value)
        except ValueError:
            ts = None
        if ts is not None and not pd.isna(ts):
            if ts.tzinfo is None:
                ts = ts.tz_localize(engagement.tz)
            return ts.tz_convert("UTC")
    raise EngagementError(f"{where}: expected a date or timestamp (ISO 8601), got {value!r}")


def load_postmortems(engagement: Engagement) -> tuple[pd.DataFrame, pd.DataFrame]:
    """postmortems.yaml as (per-incident facts, action items); both empty when absent."""
    path = engagement.path(POSTMORTEMS)
    facts_cols = ["incident_key", "postmortem_at", "postmortem_url", "root_cause",
                  "customers_affected", *_PM_TIMES]
    if not path.is_file():
        return pd.DataFrame(columns=facts_cols), empty(ACTION_COLUMNS)
    data = read_yaml(path) or {}
    items = data.get("postmortems") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise EngagementError(f"{path}: key 'postmortems': expected a list of postmortems")
    facts, actions = [], []
    for i, pm in enumerate(items):
        where = f"{path}: key 'postmortems[{i}]"
        if not isinstance(pm, dict) or not isinstance(pm.get("incident"), str):
            raise EngagementError(f"{where}.incident': expected the incident key, e.g. pagerduty:Q1")
        row: dict[str, Any] = {"incident_key": pm["incident"]}
        if pm.get("held_at") is not None:
            row["postmortem_at"] = _pm_time(pm["held_at"], f"{where}.held_at'", engagement)
        row["postmortem_url"] = pm.get("url")
        row["root_cause"] = pm.get("root_cause")
        row["customers_affected"] = pm.get("customers_affected")
        for key in _PM_TIMES:
            if pm.get(key) is not None:
                row[key] = _pm_time(pm[key], f"{where}.{key}'", engagement)
        facts.append(row)
        for j, item in enumerate(pm.get("action_items") or []):
            iw = f"{where}.action_items[{j}]"
            if not isinstance(item, dict) or not isinstance(item.get("title"), str):
                raise EngagementError(f"{iw}.title': expected the action's text")
            due = item.get("due")
            actions.append({
                "incident_key": pm["incident"], "title": item["title"],
                "owner": item.get("owner") or None,
                "due": _pm_time(due, f"{iw}.due'", engagement) if due is not None else None,
                "done": bool(item.get("done", False)),
            })
    facts_frame = pd.DataFrame(facts, columns=facts_cols)
    return facts_frame, typed(pd.DataFrame(actions), ACTION_COLUMNS)


def apply_postmortems(incidents: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Fill incident fields from postmortem timelines; the export's own values win."""
    if facts.empty or incidents.empty:
        return incidents
    out = incidents.copy()
    idx = {k: i for i, k in enumerate(out["key"])}
    for _, fact in facts.iterrows():
        i = idx.get(fact["incident_key"])
        if i is None:
            continue
        for col in ("postmortem_at", "postmortem_url", "root_cause", "customers_affected",
                    *_PM_TIMES):
            value = fact.get(col)
            if value is not None and not pd.isna(value) and pd.isna(out.at[i, col]):
                out.at[i, col] = value
    return typed(out)


@dataclass
class EngagementData:
    """Everything the analysis reads, loaded once."""

    engagement: Engagement
    incidents: pd.DataFrame
    deploys: pd.DataFrame
    actions: pd.DataFrame


def load(engagement: Engagement, progress: Callable[[str], None] | None = None) -> EngagementData:
    """Load the canonical incidents (with postmortem facts), deploys and action items (the
    tables from the cache when it holds the current imports: load_table)."""
    incidents = load_table(engagement, "incidents", progress)
    facts, actions = load_postmortems(engagement)
    incidents = apply_postmortems(incidents, facts)
    return EngagementData(engagement, incidents, load_table(engagement, "deploys", progress), actions)
