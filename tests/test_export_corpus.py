"""The export corpus: every case under tests/exports/<format>/ imports as its expected.yaml says.

A case is `<case>.<ext>` beside `<case>.expected.yaml`; a case whose file is a real export kept in
../shared/realdata names it with `realdata: <file name>` and is read there in place (skipped, with
the reason, when ../shared is absent). Expected keys: `format` (default: the folder), `timezone`
(the engagement's, default UTC), `options` (date_order, column_map), `error` (a refused file: text
the message must contain), `count`, `open`, `rejected`, `skipped`, `timeline_problems`,
`incidents` (key -> field -> value; times in ISO 8601, `null` for no value), `notes` (texts some
note must contain), `problems` (texts some rejected-row message must contain).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from assess import importers
from assess.importers.base import ImportError_, ReadContext
from assess.incidents import timeline_problems
from assess.mappings import severity_map

from .conftest import realdata

CORPUS = Path(__file__).parent / "exports"
CASES = sorted(CORPUS.glob("*/*.expected.yaml"))


def _source(expected_path: Path, expected: dict) -> Path:
    if expected.get("realdata"):
        return realdata(expected["realdata"])
    stem = expected_path.name.removesuffix(".expected.yaml")
    found = [p for p in expected_path.parent.iterdir()
             if p.name.startswith(stem + ".") and not p.name.endswith(".expected.yaml")]
    assert len(found) == 1, f"{expected_path}: expected one data file named {stem}.<ext>"
    return found[0]


def _value(value):
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}T", value):
        return pd.Timestamp(value)
    return value


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name[:-14]}" for c in CASES])
def test_export_case(case: Path):
    expected = yaml.safe_load(case.read_text(encoding="utf-8"))
    path = _source(case, expected)
    fmt = expected.get("format", case.parent.name)
    options = expected.get("options") or {}
    try:
        reader = importers.choose(path, options.get("force_format"))
        assert reader.name == fmt, f"detected as {reader.name}, expected {fmt}"
        ctx = ReadContext(timezone=expected.get("timezone", "UTC"),
                          severity_map=severity_map(reader.name, None),
                          date_order=options.get("date_order"), service=options.get("service"),
                          column_map=options.get("column_map") or {})
        result = reader.read(path, ctx)
    except ImportError_ as exc:
        assert "error" in expected, f"refused: {exc}"
        for text in _list(expected["error"]):
            assert text in str(exc)
        return
    assert "error" not in expected, "the file was read, but the case expects it refused"
    frame = result.frame
    if "count" in expected:
        assert len(frame) == expected["count"]
    if "open" in expected and "resolved" in frame.columns:
        assert int(frame["resolved"].isna().sum()) == expected["open"]
    if "rejected" in expected:
        assert len(result.problems) == expected["rejected"], [str(p) for p in result.problems]
    if "timeline_problems" in expected:
        assert len(timeline_problems(frame)) == expected["timeline_problems"]
    rows = frame.set_index("key")
    for key, fields in (expected.get("incidents") or {}).items():
        assert key in rows.index, f"no incident {key}; keys: {list(rows.index)[:10]}"
        for col, want in fields.items():
            got = rows.at[key, col]
            if want is None:
                assert pd.isna(got), f"{key}.{col} = {got}, expected no value"
            else:
                assert got == _value(want), f"{key}.{col} = {got}, expected {want}"
    for text in _list(expected.get("notes")):
        assert any(text in n for n in result.notes), f"no note contains {text!r}: {result.notes}"
    for text in _list(expected.get("problems")):
        assert any(text in str(p) for p in result.problems), \
            f"no problem contains {text!r}: {[str(p) for p in result.problems]}"


def _list(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def test_every_reader_has_a_case():
    missing = [name for name in importers.READERS
               if not list((CORPUS / name).glob("*.expected.yaml"))]
    assert not missing, f"readers without a corpus case under tests/exports/: {missing}"
