"""Turning one source record into one canonical row, collecting every cell problem on the way."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..incidents import DEPLOY_COLUMNS, INCIDENT_COLUMNS, typed
from .base import Problem, ReadContext, ReadResult, is_blank

_INT = re.compile(r"^[+-]?\d+$")
_NUM = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")


class Record:
    """One source record: look cells up by column name, parse them, remember what went wrong."""

    def __init__(self, file: str, row: int, cells: dict[str, str], ctx: ReadContext,
                 blanks: tuple[str, ...] = ("",)):
        self.blanks = blanks  # what reads as an empty cell in this source (is_blank)
        self.file = file
        self.row = row
        self.cells = cells
        self.ctx = ctx
        self.problems: list[Problem] = []

    def raw(self, column: str) -> str | None:
        value = self.cells.get(column)
        return None if is_blank(value, self.blanks) else value.strip()

    def fail(self, column: str | None, expected: str, value: str | None = None) -> None:
        self.problems.append(Problem(self.file, self.row, column, expected, value))

    def text(self, column: str, required: bool = False) -> str | None:
        value = self.raw(column)
        if value is None and required:
            self.fail(column, "a value (required)")
        return value

    def time(self, column: str, parse: Callable[[str, Any], dt.datetime], expected: str,
             required: bool = False) -> dt.datetime | None:
        value = self.raw(column)
        if value is None:
            if required:
                self.fail(column, f"a timestamp ({expected})")
            return None
        try:
            return parse(value, self.ctx.tz)
        except (ValueError, OverflowError):
            self.fail(column, f"a timestamp ({expected})", value)
            return None

    def integer(self, column: str) -> int | None:
        value = self.raw(column)
        if value is None:
            return None
        if not _INT.match(value.replace(" ", "")):
            self.fail(column, "a whole number", value)
            return None
        return int(value.replace(" ", ""))

    def number(self, column: str) -> float | None:
        value = self.raw(column)
        if value is None:
            return None
        cleaned = value.replace(" ", "").replace("$", "").replace("€", "")
        if not _NUM.match(cleaned):
            self.fail(column, "a number", value)
            return None
        return float(cleaned.replace(",", "."))

    def severity(self, column: str) -> tuple[str | None, str | None]:
        """(normalised SEVn or None, original value) through the engagement's mapping."""
        value = self.raw(column)
        if value is None:
            return None, None
        return map_severity(value, self.ctx.severity_map), value


def map_severity(value: str, mapping: dict[str, str]) -> str | None:
    """Map a source severity/priority through the lower-cased mapping; SEV-n spellings always work."""
    key = value.strip().lower()
    if key in mapping:
        return mapping[key]
    match = re.fullmatch(r"sev(?:erity)?[\s:_-]*([0-4])", key)
    if match:
        return f"SEV{max(1, int(match.group(1)))}"  # SEV0, where a team uses it, is our SEV1
    return None


def finish(fmt: str, kind: str, path: Path, rows: list[dict[str, Any]] | pd.DataFrame,
           problems: list[Problem], notes: list[str], encoding: str | None,
           rows_read: int) -> ReadResult:
    """Build the typed canonical frame from accepted rows (dicts, or a frame from the fast path)."""
    columns = INCIDENT_COLUMNS if kind == "incidents" else DEPLOY_COLUMNS
    if not isinstance(rows, pd.DataFrame):
        rows = pd.DataFrame.from_records(rows, columns=list(columns))
    frame = typed(rows, columns)
    if kind == "incidents":
        unmapped = frame.loc[frame["severity"].isna() & frame["severity_original"].notna(),
                             "severity_original"].unique()
        if len(unmapped):
            shown = ", ".join(sorted(map(str, unmapped))[:8])
            notes.append(
                f"{len(unmapped)} severity value(s) have no mapping to SEV1-SEV4 ({shown}); "
                "add them under severity_mapping in engagement.yaml"
            )
    return ReadResult(format=fmt, kind=kind, frame=frame, problems=problems, notes=notes,
                      encoding=encoding, rows_read=rows_read)


def incident(source: str, ext_id: str, **fields: Any) -> dict[str, Any]:
    """A canonical incident row: the key is `<source>:<external id>`, stable across re-imports."""
    row = {"key": f"{source}:{ext_id}", "source": source, "external_id": ext_id, **fields}
    if row.get("status") is None:
        row["status"] = "resolved" if row.get("resolved") is not None else "open"
    return row


def earliest(*values: dt.datetime | None) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def csv_rows(path: Path, header: list[str], records, ctx: ReadContext, problems: list[Problem],
             blanks: tuple[str, ...] = ("",)):
    """A Record per well-formed CSV row; a row whose cell count differs from the header's is
    reported (never shifted into the wrong columns) and skipped. `blanks`: the source's
    documented empty markers besides an empty cell."""
    for line, cells in records:
        rec = Record(path.name, line, dict(zip(header, cells, strict=False)), ctx, blanks)
        if len(cells) != len(header):
            rec.fail(None, f"{len(header)} cells like the header", f"{len(cells)} cells")
            problems.extend(rec.problems)
            continue
        yield line, rec
