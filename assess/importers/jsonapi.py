"""What the JSON readers share: loading an API payload in any shape a client hands over, walking
records, one row per record.

A file may hold the vendor's envelope (`{"incidents": [...], "more": true}`), a bare list of
records (`jq '[.incidents[]]'`, data taps), several pages slurped into a list (`jq -s`), or pages
appended one after the other (`curl ... >> file`, JSON Lines). `load_json` reads the documents,
`Loaded.records` finds the records in whichever shape, and `read_records` turns each into one
canonical row through a `JsonRecord`, which looks fields up by dotted path (`priority.summary`)
and reports problems as "record N, field 'created_at'".
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import INSTANT, ImportError_, Problem, ReadContext, ReadResult, parse_instant, read_text
from .rows import Record, finish

_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def _count(n: int, noun: str) -> str:
    return f"{_WORDS.get(n, n)} {noun}{'' if n == 1 else 's'}"


def _strip_trailing_commas(text: str) -> tuple[str, int]:
    """The text without commas directly before a closing bracket (outside strings), and how many."""
    out, removed, in_string, escape, pending = [], 0, False, False, None
    for ch in text:
        if in_string:
            out.append(ch)
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
            continue
        if pending is not None:
            if ch in " \t\r\n":
                pending.append(ch)
                continue
            if ch in "}]":
                removed += 1
                out.extend(pending[1:])
            else:
                out.extend(pending)
            pending = None
        if ch == ",":
            pending = [ch]
            continue
        if ch == '"':
            in_string = True
        out.append(ch)
    if pending is not None:
        out.extend(pending)
    return "".join(out), removed


def _documents(text: str) -> list[Any]:
    """Every JSON document in the text, in order (one, or several appended / JSON Lines)."""
    decoder = json.JSONDecoder()
    docs, pos, end = [], 0, len(text)
    while True:
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
        if pos >= end:
            return docs
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)


@dataclass
class Loaded:
    """The JSON documents of one file and what loading them had to say."""

    name: str
    documents: list[Any]
    encoding: str
    notes: list[str] = field(default_factory=list)

    def records(self, *paths: str, single: tuple[str, ...] = (), what: str = "an export",
                extra: Callable[[dict[str, Any]], None] | None = None) -> list[Any]:
        """The records, whatever the shape: envelope(s) with a list at one of `paths` (or one
        object at one of `single`), a bare list, a slurped list of pages, appended documents.
        `extra` sees every envelope (for fields such as a page's time zone)."""
        keys = tuple(p for p in paths if p)
        records: list[Any] = []
        pages = loose = 0
        for doc in self.documents:
            items = doc if isinstance(doc, list) else [doc]
            page_like = [isinstance(i, dict) and _at(i, keys, single) is not None for i in items]
            if isinstance(doc, list) and any(page_like) and not all(page_like):
                raise ImportError_(
                    f"{self.name}: a list mixing pages ({sum(page_like)}) and other items "
                    f"({len(items) - sum(page_like)}); export the pages alone (jq -s) or the "
                    "records alone (jq '[.incidents[]]'); nothing was imported")
            for item, is_page in zip(items, page_like, strict=True):
                if is_page:
                    pages += 1
                    found = _at(item, keys, single)
                    records.extend(found if isinstance(found, list) else [found])
                    if extra is not None:
                        extra(item)
                else:
                    loose += 1
                    records.append(item)
        if loose and not pages and all(isinstance(r, dict) for r in records):
            _refuse_foreign_pages(self.name, records, what)
        if len(self.documents) == 1 and isinstance(self.documents[0], dict) and not pages:
            if not _ID_KEYS & set(self.documents[0]):
                raise ImportError_(f"{self.name}: not {what}: {self.describe()}, and no list of "
                                   "records in it; nothing was imported")
            self.notes.append("The file is a single record (no envelope).")
        if loose and not any(isinstance(r, dict) for r in records):
            raise ImportError_(f"{self.name}: not {what}: {self.describe()}, with no records "
                               "(objects) in it; nothing was imported")
        if len(self.documents) > 1:
            self.notes.append(f"The file holds {self.describe()}: read together "
                              f"({_count(len(records), 'record')}).")
        elif pages > 1:
            self.notes.append(f"The file is a list of {pages} pages (as jq -s writes them): "
                              "read together.")
        elif loose and keys and isinstance(self.documents[0], list):
            self.notes.append("The file is a bare list of records (no envelope).")
        return records

    def describe(self) -> str:
        """What the file holds, in words: 'two JSON documents one after the other'."""
        n = len(self.documents)
        if n > 1:
            lines = " (JSON Lines)" if n > 2 else ""
            return f"{_count(n, 'JSON document')} one after the other{lines}"
        doc = self.documents[0] if self.documents else None
        if isinstance(doc, list):
            return f"a list of {len(doc)} item(s)"
        if isinstance(doc, dict):
            return f"one JSON object with keys {', '.join(list(doc)[:6])}"
        return f"a single JSON {type(doc).__name__}"


def _at(obj: dict[str, Any], keys: tuple[str, ...], single: tuple[str, ...] = ()) -> Any:
    """The list at the first of the dotted keys that holds one, else the object at a `single` key."""
    for key in keys + single:
        node: Any = obj
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, list) or (key in single and isinstance(node, dict) and node):
            return node
    return None


_ID_KEYS = {"id", "number", "key", "tinyId", "incident_number"}
_PAGING = {"more", "limit", "offset", "paging", "pagination", "next", "total", "page_size",
           "current_page_number", "took", "requestId", "time_zone", "meta", "links"}


def _refuse_foreign_pages(name: str, records: list[dict[str, Any]], what: str) -> None:
    """Records that look like other exports' pages (a list plus paging keys) are named as such."""
    def page_keys(r: dict[str, Any]) -> bool:
        return bool(_PAGING & set(r)) and any(isinstance(v, list) for v in r.values())

    if records and all(page_keys(r) for r in records):
        from . import READERS  # detection names what the pages are

        text = json.dumps(records[0])[:16384]
        kinds = [r.description for r in READERS.values()
                 if r.name.endswith("json") and r.detect(text, Path(name))]
        of = f" {kinds[0]}" if kinds else ""
        raise ImportError_(
            f"{name}: not {what}: a list of {_count(len(records), 'page')} of{of or ' another export'}"
            f" (keys {', '.join(list(records[0])[:5])}); "
            + (f"import it without --format (it is{of})" if kinds else
               "check which tool wrote it and name that format with --format")
            + "; nothing was imported")


def load_json(path: Path) -> Loaded:
    """The documents of a JSON file (one, several appended, JSON Lines); a syntax error names the
    line and column. Trailing commas (invalid JSON, common in hand-edited and documented
    examples) are read as absent and the import says so."""
    text, encoding = read_text(path)
    notes: list[str] = []
    try:
        docs = _documents(text)
    except RecursionError:  # a hostile file: thousands of nested brackets
        raise ImportError_(f"{path.name}: JSON nested too deeply to be an export (thousands of "
                           "levels); nothing was imported") from None
    except json.JSONDecodeError as exc:
        fixed, removed = _strip_trailing_commas(text)
        try:
            docs = _documents(fixed) if removed else None
        except json.JSONDecodeError:
            docs = None
        if docs is None:
            raise ImportError_(
                f"{path.name}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}); "
                "nothing was imported"
            ) from None
        notes.append(f"The file has {_count(removed, 'trailing comma')} before a closing bracket "
                     f"(invalid JSON, first at line {exc.lineno}): read as if absent.")
    if not docs:
        raise ImportError_(f"{path.name}: no JSON document in the file; nothing was imported")
    return Loaded(path.name, docs, encoding, notes)


def has_keys(head: str, *keys: str) -> bool:
    """Whether the start of a JSON file mentions every key (for format detection)."""
    return all(re.search('"' + re.escape(k) + r'"\s*:', head) for k in keys)


_PS_OBJECT = re.compile(r"^@\{[^{}=;]+=.*\}$|^System\.(Object\[\]|Collections\.\S+)$", re.S)


def _powershell_flattened(obj: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """(field, value) of the first value PowerShell's ConvertTo-Json wrote as text past its depth."""
    if depth > 6:
        return None
    if isinstance(obj, str):
        return (path, obj) if _PS_OBJECT.match(obj) else None
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        sub = f"{path}.{key}" if isinstance(key, str) and path else (
            key if isinstance(key, str) else path)
        found = _powershell_flattened(value, sub, depth + 1)
        if found:
            return found
    return None


_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.I)


def is_naive(value: str) -> bool:
    """Whether an ISO 8601 timestamp carries no offset (epoch numbers are UTC by definition)."""
    text = value.strip()
    return bool(re.match(r"\d{4}-\d{2}-\d{2}[T ]\d", text)) and not _OFFSET.search(text)


class Skip(str):
    """What `to_row` returns for a record that is not an incident: the reason, counted in notes."""


class JsonRecord(Record):
    """One JSON record, fields looked up by dotted path."""

    def __init__(self, file: str, index: int, obj: Any, ctx: ReadContext):
        super().__init__(file, index, {}, ctx)
        self.obj = obj if isinstance(obj, dict) else {}
        self.naive = False  # a timestamp without offset was read in the context's zone

    def get(self, path: str) -> Any:
        node: Any = self.obj
        for part in path.split("."):
            if not isinstance(node, dict):
                return None
            node = node.get(part)
        return node

    def raw(self, column: str) -> str | None:
        value = self.get(column)
        if value is None or isinstance(value, dict | list):
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return text or None

    def fail(self, column: str | None, expected: str, value: str | None = None) -> None:
        self.problems.append(Problem(self.file, self.row, column, expected, value, unit="record"))

    def when(self, *paths: str, required: bool = False) -> Any:
        """The first present timestamp among the paths (ISO 8601 or epoch), parsed to UTC."""
        for path in paths:
            value = self.raw(path)
            if value is not None:
                self.naive |= is_naive(value)
                return self.time(path, parse_instant, INSTANT)
        if required:
            self.fail(paths[0], f"a timestamp ({INSTANT})")
        return None

    def parse(self, field: str, value: Any) -> Any:
        """Parse a timestamp taken from inside a list (milestones, updates); None stays None."""
        if value is None or value == "":
            return None
        self.naive |= is_naive(str(value))
        try:
            return parse_instant(str(value), self.ctx.tz)
        except (ValueError, OverflowError):
            self.fail(field, f"a timestamp ({INSTANT})", str(value))
            return None

    def first(self, *paths: str) -> str | None:
        for path in paths:
            value = self.raw(path)
            if value is not None:
                return value
        return None

    def names(self, path: str, key: str = "name") -> list[str]:
        """Names from a list of objects (or strings) at `path`."""
        items = self.get(path)
        if not isinstance(items, list):
            return []
        out = []
        for item in items:
            value = item.get(key) if isinstance(item, dict) else item
            if isinstance(value, str) and value.strip():
                out.append(value.strip())
        return out


def read_records(name: str, path: Path, ctx: ReadContext, records: Iterable[Any] | None,
                 to_row: Callable[[JsonRecord], dict[str, Any] | None], notes: list[str],
                 encoding: str, what: str, kind: str = "incidents",
                 zone_named: str | None = None) -> ReadResult:
    """Run `to_row` over every record; rows with problems are rejected, None or a `Skip` reason
    means 'not an incident' (counted per reason in the notes).

    `zone_named` is how the file itself names the zone of its offset-less timestamps (PagerDuty
    Analytics' `time_zone`); without it, such timestamps are read in the engagement's zone and the
    notes say so."""
    if records is None:
        raise ImportError_(f"{path.name}: not {what}: no list of records found; nothing was imported")
    rows, problems = [], []
    count = naive = 0
    skipped: Counter[str] = Counter()
    for i, obj in enumerate(records, start=1):
        count += 1
        rec = JsonRecord(path.name, i, obj, ctx)
        flattened = _powershell_flattened(obj)
        if flattened:
            field_name, value = flattened
            where = f"record {i}, field '{field_name}'" if field_name else f"record {i}"
            raise ImportError_(
                f"{path.name}, {where}: {value[:60]!r} is a nested object "
                "written as text by Windows PowerShell's ConvertTo-Json, which stops at depth 2 "
                "by default; export again with ConvertTo-Json -Depth 10 (the times inside would "
                "otherwise be lost); nothing was imported")
        if not isinstance(obj, dict):
            rec.fail(None, "an object", type(obj).__name__)
            problems.extend(rec.problems)
            continue
        row = to_row(rec)
        naive += rec.naive
        if rec.problems:
            problems.extend(rec.problems)
        elif row is None or isinstance(row, Skip):
            skipped[str(row) if row else "not an incident"] += 1
        else:
            row.setdefault("provenance", f"{path.name}#{i}")
            rows.append(row)
    for reason, n in skipped.items():
        notes.append(f"{n} record(s) skipped: {reason}")
    if naive:
        where = (f"{zone_named}, the zone the file names" if zone_named
                 else f"{ctx.timezone}, the engagement's time zone (the file names none)")
        notes.append(f"{naive} record(s) have timestamps without a UTC offset: read in {where}.")
    return finish(name, kind, path, rows, problems, notes, encoding, count)
