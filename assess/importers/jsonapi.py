"""What the JSON readers share: loading an API payload, walking records, one row per record.

A JSON reader names where the records are (`incidents`, `data`, `results`, or the top-level list),
and turns one record into one canonical row through a `JsonRecord`, which looks fields up by dotted
path (`priority.summary`) and reports problems as "record N, field 'created_at'".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .base import INSTANT, ImportError_, Problem, ReadContext, ReadResult, parse_instant, read_text
from .rows import Record, finish


def load_json(path: Path) -> tuple[Any, str]:
    """The parsed payload and its encoding; a syntax error names the line and column."""
    text, encoding = read_text(path)
    try:
        return json.loads(text), encoding
    except json.JSONDecodeError as exc:
        raise ImportError_(
            f"{path.name}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}); "
            "nothing was imported"
        ) from None


def has_keys(head: str, *keys: str) -> bool:
    """Whether the start of a JSON file mentions every key (for format detection)."""
    return all(re.search('"' + re.escape(k) + r'"\s*:', head) for k in keys)


def records_at(payload: Any, *paths: str) -> list[Any] | None:
    """The first list found at one of the dotted paths ('' is the payload itself)."""
    for path in paths:
        node = payload
        for part in filter(None, path.split(".")):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, list):
            return node
    return None


class JsonRecord(Record):
    """One JSON record, fields looked up by dotted path."""

    def __init__(self, file: str, index: int, obj: Any, ctx: ReadContext):
        super().__init__(file, index, {}, ctx)
        self.obj = obj if isinstance(obj, dict) else {}

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
            if self.raw(path) is not None:
                return self.time(path, parse_instant, INSTANT)
        if required:
            self.fail(paths[0], f"a timestamp ({INSTANT})")
        return None

    def parse(self, field: str, value: Any) -> Any:
        """Parse a timestamp taken from inside a list (milestones, updates); None stays None."""
        if value is None or value == "":
            return None
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
                 encoding: str, what: str, kind: str = "incidents") -> ReadResult:
    """Run `to_row` over every record; rows with problems are rejected, None means 'skip'."""
    if records is None:
        raise ImportError_(f"{path.name}: not {what}: no list of records found; nothing was imported")
    rows, problems = [], []
    count = skipped = 0
    for i, obj in enumerate(records, start=1):
        count += 1
        rec = JsonRecord(path.name, i, obj, ctx)
        if not isinstance(obj, dict):
            rec.fail(None, "an object", type(obj).__name__)
            problems.extend(rec.problems)
            continue
        row = to_row(rec)
        if rec.problems:
            problems.extend(rec.problems)
        elif row is None:
            skipped += 1
        else:
            row.setdefault("provenance", f"{path.name}#{i}")
            rows.append(row)
    if skipped:
        notes.append(f"{skipped} record(s) skipped as not incidents (see the format's notes)")
    return finish(name, kind, path, rows, problems, notes, encoding, count)
