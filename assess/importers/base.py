"""What every reader shares: the result type, problems, decoding, and timestamp parsing."""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import pandas as pd

from ..errors import AssessError

MAX_FILE_BYTES = 200 * 1024 * 1024  # a 90-day export is a few MB; refuse what cannot be one


class ImportError_(AssessError, ValueError):
    """A file that cannot be read at all (wrong kind, too big, undecodable): nothing is imported."""


@dataclass(frozen=True)
class Problem:
    """A rejected row or a file-level warning: where it is and what was expected there."""

    file: str
    row: int | None  # 1-based line/record number in the file as a user sees it; None: whole file
    column: str | None
    expected: str
    value: str | None = None
    unit: str = "row"  # "row" for tables, "record" for JSON and feeds

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", {self.unit} {self.row}"
        if self.column:
            where += f", {'column' if self.unit == 'row' else 'field'} '{self.column}'"
        got = f" (got {self.value!r})" if self.value not in (None, "") else ""
        return f"{where}: expected {self.expected}{got}"


@dataclass(frozen=True)
class ReadContext:
    """What a reader needs to know about the engagement."""

    timezone: str = "UTC"
    severity_map: dict[str, str] = field(default_factory=dict)  # lower-cased original -> SEVn
    service: str | None = None  # default service for deploy logs that do not name one (git log)
    date_order: str | None = None  # "dmy" or "mdy" for day/month dates the file cannot settle
    column_map: dict[str, str] = field(default_factory=dict)  # canonical field -> source column
    issue_types: tuple[str, ...] | None = None  # Jira issue types that are incidents (None: default)

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
        head = data[:4096]
        if len(head) >= 8 and (head[1::2].count(0) > 0.9 * (len(head) // 2)
                               or head[0::2].count(0) > 0.9 * (len(head) // 2)):
            raise ImportError_(f"{name}: UTF-16 text without a byte-order mark; save it as UTF-8 "
                               "(or UTF-16 with BOM) and import it again")
        raise ImportError_(f"{name}: binary content, not a text export (a NUL byte near the start)")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252 (cp1252)"
    except UnicodeDecodeError as exc:
        raise ImportError_(
            f"{name}: not UTF-8, UTF-16 or Windows-1252 text (undecodable byte at {exc.start}); "
            "save it as UTF-8 (a Shift-JIS or other legacy encoding is not guessed)"
        ) from None


MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an XLSX workbook?)"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office document (XLS)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3", "an SQLite database"),
)


def sniff_binary(data: bytes) -> str | None:
    """What a binary file is, from its first bytes; None for text."""
    for magic, what in MAGIC:
        if data.startswith(magic):
            return what
    return None


def read_text(path: Path) -> tuple[str, str]:
    """The whole export as text, after refusing oversized and binary files before any parsing."""
    check_size(path)
    data = path.read_bytes()
    what = sniff_binary(data[:16])
    if what:
        raise ImportError_(f"{path.name}: this is {what}, not a text export; nothing was imported")
    return decode(data, path.name)


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
    """A parser trying each strptime format in turn, the last one that worked first."""
    order = list(formats)

    def parse(value: str, tz: ZoneInfo) -> dt.datetime:
        text = value.strip()
        for i, fmt in enumerate(order):
            try:
                parsed = dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
            if i:
                order.insert(0, order.pop(i))
            return to_utc(parsed, tz)
        raise ValueError(text)

    return parse


def parse_instant(value: str, tz: ZoneInfo) -> dt.datetime:
    """ISO 8601, epoch seconds or milliseconds (as APIs send them), .NET's /Date(ms)/ (Windows
    PowerShell's ConvertTo-Json), or an RFC 2822 date (feeds)."""
    text = value.strip()
    ms_date = re.fullmatch(r"/Date\((-?\d+)([+-]\d{4})?\)/", text)  # .NET, PowerShell 5.1
    if ms_date:
        return dt.datetime.fromtimestamp(int(ms_date.group(1)) / 1000, dt.UTC)
    if re.fullmatch(r"\d{9,14}(\.\d+)?", text):
        number = float(text)
        seconds = number / 1000 if number >= 1e11 else number  # 13 digits: milliseconds
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    try:
        return parse_iso(text, tz)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(text) from None
    return to_utc(parsed, tz)


INSTANT = "an ISO 8601 timestamp such as 2024-05-11T15:26:04Z, or epoch milliseconds"

_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\b")


def infer_date_order(values) -> str | None:
    """'dmy' or 'mdy' for a column of day/month dates, decided from the whole column.

    Returns None when no value settles it (every day and month is 12 or less), and raises
    ValueError when the column contradicts itself (13/04 and 04/13 in one file).
    """
    day_first = month_first = False
    for value in values:
        if value is None:
            continue
        m = _DAY_MONTH.match(value)
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(2))
        day_first |= a > 12
        month_first |= b > 12
    if day_first and month_first:
        raise ValueError("the column has both day-first (13/04) and month-first (04/13) dates")
    if day_first:
        return "dmy"
    if month_first:
        return "mdy"
    return None


def day_month_formats(order: str) -> tuple[str, ...]:
    """strptime formats for day/month dates in the given order, with the usual separators."""
    dm = ("%d", "%m") if order == "dmy" else ("%m", "%d")
    out = []
    for sep in ("/", "-", "."):
        for year in ("%Y", "%y"):
            date = sep.join((*dm, year))
            for time in (" %H:%M:%S", " %H:%M", " %I:%M %p", " %I:%M:%S %p", ""):
                out.append(date + time)
    return tuple(out)


def date_parser(values, ctx: ReadContext, where: str):
    """(parse, expected, note) for a file's date columns, the day/month order decided from all of them.

    ISO 8601 values parse as such; day/month values (03/04/2025) take the order the file proves
    (a day above 12 somewhere), else the one the user gave (--date-order), else the import stops
    with a message saying so: a guess would silently swap days and months.
    """
    dm_values = [v for v in values if v and _DAY_MONTH.match(v)]
    if not dm_values:
        return parse_iso, "an ISO 8601 date such as 2025-12-31 14:05", None
    try:
        order = infer_date_order(dm_values)
    except ValueError as exc:
        raise ImportError_(f"{where}: {exc}; nothing was imported") from None
    if order and ctx.date_order and order != ctx.date_order:
        raise ImportError_(f"{where}: --date-order {ctx.date_order} contradicts the file, whose "
                           f"dates are {order} (a value above 12 settles it)")
    order = order or ctx.date_order
    if order is None:
        raise ImportError_(
            f"{where}: the dates could be day/month or month/day (no day above 12 in the whole "
            "file); say which with --date-order dmy or --date-order mdy")
    day_month = parse_with(day_month_formats(order))

    def parse(value: str, tz: ZoneInfo) -> dt.datetime:
        try:
            return day_month(value, tz)
        except ValueError:
            return parse_iso(value, tz)

    sample = "31/12/2025 14:05" if order == "dmy" else "12/31/2025 14:05"
    word = "day/month/year" if order == "dmy" else "month/day/year"
    return parse, f"a date such as {sample}", f"Dates read as {word}, decided from the whole file."


def is_blank(value: str | None, markers: tuple[str, ...] = ("",)) -> bool:
    """An empty cell: nothing but spaces, or one of the source's documented empty markers (only
    ServiceNow documents one, '?'). 'None', 'null', 'N/A', '-' are text like any other: a title
    'None' is a title, and a time 'N/A' is a rejected cell, never a silent blank."""
    return value is None or value.strip() in markers


_HAS_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2}|\b(UTC|GMT))\s*$", re.I)


def zone_note(values, ctx: ReadContext) -> str | None:
    """The import report's note for timestamps written without a UTC offset, naming the zone used."""
    naive = sum(1 for v in values if v and re.search(r"\d:\d\d", v) and not _HAS_OFFSET.search(v))
    if not naive:
        return None
    return (f"{naive} timestamp(s) carry no UTC offset: read in {ctx.timezone} (--timezone, else "
            "the engagement's time zone).")
