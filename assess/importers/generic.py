"""A generic CSV or XLSX incident list, read through a column mapping.

The mapping names, for each canonical field, the column that holds it: `--map title=Summary --map
detected="Opened at"`. Columns named like a canonical field (title, severity, service, started,
detected/created/opened, acknowledged, mitigated, resolved/closed, id...) are mapped without being
named. The mapping used is saved in the engagement (`column_mappings.yaml`), so the next file with
the same header imports with no mapping at all. Title and a detection or start time are required.

Dates: ISO 8601, or day/month dates whose order is decided from the whole file (--date-order when
the file cannot settle it); naive values are read in the engagement's time zone. XLSX date cells
are read as they are. An XLSX whose uncompressed size is far beyond its file size is refused before
it is opened (a zip bomb), as is any file over the size limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from .base import (
    ImportError_,
    ReadContext,
    ReadResult,
    check_size,
    csv_records,
    date_parser,
    read_text,
    zone_note,
)
from .rows import csv_rows, finish, incident

FIELDS = {  # canonical field -> names a column may have (normalised: lower case, no punctuation)
    "external_id": ("id", "key", "number", "incident id", "incident number", "ref", "reference",
                    "issue key", "ticket"),
    "title": ("title", "summary", "name", "subject", "incident", "description"),
    "severity": ("severity", "sev", "priority", "prio", "level", "priority name"),
    "service": ("service", "component", "system", "application", "app", "components name"),
    "impact_start": ("impact start", "impact started", "started", "start", "started at",
                     "start time", "began"),
    "detected": ("detected", "detected at", "created", "created at", "opened", "opened at",
                 "reported", "reported at"),
    "acknowledged": ("acknowledged", "acknowledged at", "ack", "acked at"),
    "mitigation_started": ("mitigation started", "mitigation start"),
    "mitigated": ("mitigated", "mitigated at", "fixed", "fixed at", "recovered"),
    "resolved": ("resolved", "resolved at", "closed", "closed at", "ended", "end", "end time",
                 "resolutiondate", "resolution date"),
    "postmortem_at": ("postmortem at", "postmortem date", "retro date"),
    "detection_source": ("detection", "detection source", "detected by", "source"),
    "impact": ("impact", "impact type"),
    "customers_affected": ("customers affected", "users affected", "affected customers"),
    "support_tickets": ("support tickets", "tickets"),
    "revenue_impact": ("revenue impact", "revenue lost"),
    "root_cause": ("root cause", "cause", "root cause category"),
    "postmortem_url": ("postmortem", "postmortem url", "postmortem link", "retro"),
    "status": ("status", "state"),
}
TIMES = ("impact_start", "detected", "acknowledged", "mitigation_started", "mitigated", "resolved",
         "postmortem_at")
MAX_UNZIPPED = 500 * 1024 * 1024
MAX_RATIO = 100
MAX_ROWS = 200_000  # rows of one XLSX import; ASSESS_MAX_ROWS changes it (docs/import-formats.md)


def max_rows() -> int:
    """The row cap of one XLSX import: ASSESS_MAX_ROWS when set, else MAX_ROWS."""
    text = os.environ.get("ASSESS_MAX_ROWS", "").strip()
    if not text:
        return MAX_ROWS
    if not text.isdigit() or int(text) < 1:
        raise ImportError_(f"ASSESS_MAX_ROWS={text!r}: expected a whole number of rows, e.g. 500000")
    return int(text)


def _norm(name: str) -> str:
    """Lower case, punctuation to spaces, a leading 'fields' (Jira REST flattened) and a trailing
    'at', 'on', 'date' or 'time' dropped."""
    text = re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()
    text = re.sub(r"^fields ", "", text)
    return re.sub(r" (at|on|date|time|timestamp)$", "", text)


def signature(header: list[str]) -> str:
    """A stable id for a header shape, to find a saved mapping for the next file like it."""
    return hashlib.sha256("\x1f".join(h.strip() for h in header).encode()).hexdigest()[:16]


def recognise_columns(header: list[str], given: dict[str, str] | None = None) -> dict[str, str]:
    """Canonical field -> column: the given mapping, completed by the columns named like a field
    (each column used once). What the generic importer recognises on its own when none is given."""
    mapping = dict(given or {})
    used = set(mapping.values())
    by_norm = {_norm(h): h for h in header if h}
    for fld, names in FIELDS.items():
        if fld in mapping:
            continue
        for name in (fld.replace("_", " "), *names):
            col = by_norm.get(_norm(name))
            if col and col not in used:
                mapping[fld] = col
                used.add(col)
                break
    return mapping


def resolve_mapping(header: list[str], given: dict[str, str]) -> dict[str, str]:
    """Canonical field -> column: the given mapping, completed by columns named like a field."""
    unknown = [f for f in given if f not in FIELDS]
    if unknown:
        raise ImportError_(f"--map: unknown field(s) {', '.join(unknown)}; known fields: "
                           f"{', '.join(FIELDS)}")
    missing = [c for c in given.values() if c not in header]
    if missing:
        raise ImportError_(f"--map: no column named {', '.join(map(repr, missing))} in the file; "
                           f"its columns are: {', '.join(header)}")
    mapping = recognise_columns(header, given)
    if not any(header):
        raise ImportError_("the first line holds no column names")
    if "title" not in mapping or not ({"detected", "impact_start"} & set(mapping)):
        need = [f for f in ("title", "detected") if f not in mapping]
        raise ImportError_(
            f"no column for {' and '.join(need)}: name them with --map, for example "
            f"--map title='{header[0]}' --map detected='{header[min(1, len(header) - 1)]}'. "
            f"Columns in the file: {', '.join(header)}")
    return mapping


def check_zip(path: Path) -> None:
    """Refuse an XLSX (a ZIP) that would inflate far beyond its size, before opening it."""
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile:
        raise ImportError_(f"{path.name}: not an XLSX workbook (not a valid ZIP container)") from None
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED or total > MAX_RATIO * max(size, 1) and total > 20 * 1024 * 1024:
        raise ImportError_(
            f"{path.name}: refused: it would expand from {size / 1e6:.1f} MB to "
            f"{total / 1e6:.0f} MB (a 'zip bomb' or a workbook far too large for one export)")


def xlsx_rows(path: Path, header_only: bool = False) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (Excel row number, cells as text) of the first sheet; no rows if header_only.

    Streamed (openpyxl's read-only mode, its XML parsed through defusedxml: entities and DTDs
    are refused) and capped at max_rows() rows, so a workbook costs what its rows cost up to the
    cap and no more."""
    check_size(path)
    check_zip(path)
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # a dependency: never read a workbook without it
        raise ImportError_(f"{path.name}: XLSX reading needs the defusedxml package (pip install "
                           "defusedxml)")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise ImportError_(f"{path.name}: not a readable XLSX workbook ({_xml_problem(exc)})") from None
    limit = max_rows()
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise ImportError_(f"{path.name}: the first sheet is empty")
        header = [("" if v is None else str(v)).strip() for v in header_row[:16384]]
        while header and not header[-1]:
            header.pop()
        records = []
        if not header_only:
            rows = ws.iter_rows(min_row=2, max_col=max(len(header), 1), values_only=True)
        for n, values in enumerate(() if header_only else rows, start=2):
            if n - 1 > limit:
                raise ImportError_(
                    f"{path.name}: more than {limit:,} rows; one import reads at most {limit:,} "
                    "(export a shorter period, split the file, or raise ASSESS_MAX_ROWS)")
            cells = [_cell_text(v) for v in values[:len(header)]]
            cells += [""] * (len(header) - len(cells))
            if any(c.strip() for c in cells):
                records.append((n, cells))
        return header, records
    except ImportError_:
        raise
    except Exception as exc:  # a sheet's XML is parsed while rows are read
        raise ImportError_(f"{path.name}: not a readable XLSX workbook ({_xml_problem(exc)})") from None
    finally:
        wb.close()


def _xml_problem(exc: Exception) -> str:
    """An XML refusal in words (defusedxml's exceptions name the construct)."""
    from defusedxml import DefusedXmlException

    cause: BaseException | None = exc
    while cause is not None:  # openpyxl wraps the parser's error in its own
        if isinstance(cause, DefusedXmlException):
            return "its XML declares entities or a DTD, which a workbook never needs: refused"
        cause = cause.__cause__ or cause.__context__
    return str(exc).split("\n", 1)[0] or type(exc).__name__


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class GenericTable:
    """The reader for both CSV and XLSX; the mapping comes from ReadContext.column_map."""

    kind = "incidents"

    def __init__(self, name: str, description: str, xlsx: bool):
        self.name = name
        self.description = description
        self.xlsx = xlsx

    def detect(self, head: str, path: Path) -> bool:
        return self.xlsx and path.suffix.lower() in (".xlsx", ".xlsm")

    def header(self, path: Path) -> list[str]:
        """The column names only (the first row), to choose a mapping before reading the file."""
        if self.xlsx:
            return xlsx_rows(path, header_only=True)[0]
        text, _encoding = read_text(path)  # an undecodable or binary file is named as such
        first = text.split("\n", 1)[0]
        header = csv_records(first + "\n", path.name)[0]
        if not any(header):
            raise ImportError_(f"{path.name}: the first line holds no column names")
        return header

    def table(self, path: Path) -> tuple[list[str], list[tuple[int, list[str]]], str]:
        if self.xlsx:
            header, records = xlsx_rows(path)
            return header, records, "XLSX"
        text, encoding = read_text(path)
        header, records = csv_records(text, path.name)
        return header, records, encoding

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        header, records, encoding = self.table(path)
        if len(set(header)) != len(header):
            dupes = sorted({h for h in header if header.count(h) > 1})
            raise ImportError_(f"{path.name}: repeated column name(s) {', '.join(dupes)}; rename "
                               "them so the mapping is unambiguous")
        mapping = resolve_mapping(header, ctx.column_map)
        time_cols = [header.index(mapping[f]) for f in TIMES if f in mapping]
        values = [cells[i].strip() for _, cells in records for i in time_cols if i < len(cells)]
        parse, expected, note = date_parser(values, ctx, f"{path.name}: date columns")
        notes = [f"Columns used: {', '.join(f'{f} <- {c}' for f, c in mapping.items())}."]
        notes.extend(n for n in (note, zone_note(values, ctx)) if n)
        rows, problems, ignored = [], [], []
        for line, rec in csv_rows(path, header, records, ctx, problems):
            got: dict[str, Any] = {}
            for f in TIMES:
                if f in mapping:
                    got[f] = rec.time(mapping[f], parse, expected)
            if not rec.problems and got.get("detected") is None and got.get("impact_start") is None:
                rec.fail(mapping.get("detected") or mapping["impact_start"], f"a timestamp ({expected})")
            title = rec.text(mapping["title"], required=True)
            # an optional count that does not parse ("none") leaves the field empty, never the
            # incident out: the cell is listed in the notes
            kept = len(rec.problems)
            for f in ("customers_affected", "support_tickets"):
                if f in mapping:
                    got[f] = rec.integer(mapping[f])
            if "revenue_impact" in mapping:
                got["revenue_impact"] = rec.number(mapping["revenue_impact"])
            ignored.extend(rec.problems[kept:])
            del rec.problems[kept:]
            if rec.problems:
                problems.extend(rec.problems)
                continue
            if got.get("detected") is None:
                got["detected"] = got.get("impact_start")
            for f in ("service", "root_cause", "postmortem_url", "status"):
                if f in mapping:
                    got[f] = rec.raw(mapping[f])
            if "severity" in mapping:
                got["severity"], got["severity_original"] = rec.severity(mapping["severity"])
            if "detection_source" in mapping:
                got["detection_source"] = _detection(rec.raw(mapping["detection_source"]))
            if "impact" in mapping:
                impact = (rec.raw(mapping["impact"]) or "").lower()
                got["impact"] = impact if impact in ("outage", "partial", "degraded", "none") else None
            ext_id = rec.raw(mapping["external_id"]) if "external_id" in mapping else None
            if ext_id is None:  # no id in the source: the content identifies the incident
                basis = "|".join(str(v) for v in (title, got.get("detected"), got.get("service")))
                ext_id = "h" + hashlib.sha256(basis.encode()).hexdigest()[:15]
            if got.get("status") is not None:
                got["status"] = got["status"].lower()
            rows.append(incident("generic", ext_id, title=title, provenance=f"{path.name}:{line}",
                                 **got))
        if ignored:
            shown = "; ".join(str(p) for p in ignored[:10])
            more = f"; and {len(ignored) - 10} more" if len(ignored) > 10 else ""
            notes.append(f"{len(ignored)} optional cell(s) ignored (the incident is kept, the field "
                         f"left empty): {shown}{more}")
        return finish(self.name, "incidents", path, rows, problems, notes, encoding, len(records))


def _detection(value: str | None) -> str | None:
    if not value:
        return None
    low = value.lower()
    if any(w in low for w in ("customer", "client", "support", "user")):
        return "customer"
    if any(w in low for w in ("alert", "monitor", "pager", "synthetic")):
        return "alert"
    return "internal"
