"""What every reader shares: the result type, problems, decoding, and timestamp parsing."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import pandas as pd

MAX_FILE_BYTES = 200 * 1024 * 1024  # a 90-day export is a few MB; refuse what cannot be one


class ImportError_(ValueError):
    """A file that cannot be read at all (wrong kind, too big, undecodable): nothing is imported."""


@dataclass(frozen=True)
class Problem:
    """A rejected row or a file-level warning: where it is and what was expected there."""

    file: str
    row: int | None  # 1-based line/record number in the file as a user sees it; None: whole file
    column: str | None
    expected: str
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        got = f" (got {self.value!r})" if self.value not in (None, "") else ""
        return f"{where}: expected {self.expected}{got}"


@dataclass(frozen=True)
class ReadContext:
    """What a reader needs to know about the engagement."""

    timezone: str = "UTC"
    severity_map: dict[str, str] = field(default_factory=dict)  # lower-cased original -> SEVn

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass
class ReadResult:
    """Canonical rows read from one file, the rows rejected, and notes for the import report."""

    format: str
    kind: str  # "incidents" or "deploys"
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    encoding: str | None = None
    rows_read: int = 0


class Reader(Protocol):
    name: str
    kind: str
    description: str

    def detect(self, head: str, path: Path) -> bool: ...

    def read(self, path: Path, ctx: ReadContext) -> ReadResult: ...


# --- decoding -------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportError_(
            f"{path.name}: {size / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES / 1e6:.0f} MB "
            "limit for one export; split it by date range"
        )
    if size == 0:
        raise ImportError_(f"{path.name}: the file is empty")


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode an export: UTF-8 (with or without BOM), UTF-16 with BOM, or cp1252. Returns text, encoding."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return data.decode("utf-16"), "UTF-16"
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 with BOM"
    if b"\x00" in data[:4096]:
        raise ImportError_(f"{name}: binary content, not a text export (a NUL byte near the start)")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252 (cp1252)"
    except UnicodeDecodeError as exc:
        raise ImportError_(
            f"{name}: not UTF-8, UTF-16 or Windows-1252 text (undecodable byte at {exc.start})"
        ) from None


def read_text(path: Path) -> tuple[str, str]:
    check_size(path)
    return decode(path.read_bytes(), path.name)


def head_text(path: Path, limit: int = 16384) -> str:
    """The start of a file as text, for format detection; empty for binary files."""
    with path.open("rb") as f:
        data = f.read(limit)
    try:
        return decode(data, path.name)[0]
    except (ImportError_, UnicodeDecodeError):
        return ""


def header_cells(head: str) -> list[str]:
    """The header row of CSV text (quoted names unquoted), for format detection."""
    first = head.splitlines()[0] if head else ""
    try:
        return [c.strip() for c in next(csv.reader([first]))]
    except (StopIteration, csv.Error):
        return []


def csv_records(text: str, name: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Parse CSV text into a header (names kept, repeats kept) and (line number, cells) records."""
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportError_(f"{name}: no header row") from None
    except csv.Error as exc:
        raise ImportError_(f"{name}: not a CSV file ({exc})") from None
    header = [h.strip() for h in header]
    records = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            records.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ImportError_(f"{name}, line {reader.line_num}: malformed CSV ({exc})") from None
    return header, records


# --- timestamps -----------------------------------------------------------------------------


def to_utc(value: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Aware values are converted; naive values are read as wall-clock time in `tz`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(dt.UTC)


def parse_iso(value: str, tz: ZoneInfo) -> dt.datetime:
    """ISO 8601 with or without offset, 'Z' included."""
    return to_utc(dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")), tz)


def parse_with(formats: tuple[str, ...]):
    """A parser trying each strptime format in turn."""

    def parse(value: str, tz: ZoneInfo) -> dt.datetime:
        text = value.strip()
        for fmt in formats:
            try:
                return to_utc(dt.datetime.strptime(text, fmt), tz)
            except ValueError:
                continue
        raise ValueError(text)

    return parse


def is_blank(value: str | None) -> bool:
    return value is None or value.strip() in ("", "?", "-", "null", "NULL", "None", "N/A", "n/a")
