"""Speed work changes no figure: the metrics document of the sample, of each real export in
../shared/realdata and of a generated 20,000-incident engagement is byte-identical to the one the
code gave before the speed work (sha256 digests in tests/metrics_digests.json, recorded from the
commit before it). The canonical-table cache gives the same tables as a read of the raw exports.

The digests change only when a figure changes on purpose: then re-record them with
`.venv/bin/python -m tests.test_speed_invariants --write` and say why in the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REALDATA, ROOT, SAMPLE, write_engagement

DIGESTS = Path(__file__).parent / "metrics_digests.json"
REAL_FILES = ("atlassian_jira_summary_snapshot_raw.json", "dxw_opsgenie_alerts_stats.json",
              "emma_statuspage_incidents.json", "gcp_incidents_2023-03-09.json",
              "grafana_oncall_alertgroups_doc_example.json",
              "incidentio_openapi_v2_incidents_example.json",
              "pagerduty_analytics_raw_incidents_example.json",
              "pagerduty_api_incidents_example.json", "redis_status_history_atom_2entries.xml",
              "servicenow_incident_event_log_subset.csv")
# each real export under two windows: all of it, and the last 30 days of it (incidents before the
# window, carried-in downtime), in a time zone with daylight saving
WINDOWS = ("all", "last30")


def canonical(doc: dict) -> bytes:
    """The metrics document as `assess metrics --json` prints it, keys sorted."""
    return json.dumps(doc, indent=2, sort_keys=True, default=str).encode("utf-8")


def digest(doc: dict) -> str:
    return hashlib.sha256(canonical(doc)).hexdigest()


def frame_doc(frame) -> dict:
    """The enriched in-window table as data: its columns, dtypes and every value as text."""
    return {"dtypes": {c: str(t) for c, t in frame.dtypes.items()},
            "rows": len(frame), "csv": frame.to_csv(index=False)}


def _real_engagement(root: Path, source: Path, window: str) -> Path:
    """An engagement holding one real export, its window fitted to the export's dates."""
    from assess import importers
    from assess.importers.base import ReadContext
    from assess.mappings import severity_map

    reader = importers.choose(source, None)
    frame = reader.read(source, ReadContext("UTC", severity_map(reader.name, None))).frame
    when = frame["detected"].fillna(frame["impact_start"]).dropna()
    first, last = when.min().date(), when.max().date()
    days = (last - first).days + 2 if window == "all" else 30
    end = last + dt.timedelta(days=1)
    write_engagement(root, f"client: {{name: Real}}\nconsultant: {{name: Ana}}\n"
                           f"window: {{end: {end.isoformat()}, days: {days}}}\n"
                           "timezone: Europe/Paris\nsla: {target: 99.9}\n")
    return root


def _import(root: Path, source: Path) -> None:
    from assess import store
    from assess.engagement import load_engagement

    report = store.import_file(load_engagement(root), source)
    assert report.committed and report.imported > 0, report.to_dict()


def _generated(root: Path) -> tuple:
    """20,000 generated incidents and 2,000 deploys (the metrics benchmark's generator) written as
    a canonical CSV import: the large-n paths (normal-approximation intervals, title clusters)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from metrics_1m import deploys, incidents
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    write_engagement(root, "client: {name: Gen}\nconsultant: {name: Ana}\n"
                           "window: {end: 2026-03-31, days: 90}\ntimezone: America/New_York\n"
                           "sla: {target: 99.9}\n")
    return root, incidents(20_000), deploys(2_000)


def documents(tmp: Path) -> dict[str, dict]:
    """Every case's metrics document, computed through the product's own path (import, load,
    analyse); real exports absent here are left out."""
    from assess import metrics
    from assess.analysis import analyse, judgement

    out = {}
    sample = tmp / "sample"
    shutil.copytree(SAMPLE, sample, ignore=shutil.ignore_patterns("reports", ".assess-cache"))
    a = analyse(sample)
    out["sample"] = a.metrics
    # what the risks, the plan and the reports read besides the document: the enriched rows
    out["sample:frame"] = frame_doc(a.frame)
    out["sample:judgement"] = judgement(a, "en", today=dt.date(2026, 12, 1))
    for name in REAL_FILES:
        source = REALDATA / name
        if not source.is_file():
            continue
        for window in WINDOWS:
            root = _real_engagement(tmp / f"{name}-{window}", source, window)
            _import(root, source)
            out[f"{name}:{window}"] = analyse(root).metrics
    root, inc, dep = _generated(tmp / "generated")
    from assess.engagement import load_engagement

    s = metrics.Settings.from_engagement(load_engagement(root))
    from assess.incidents import ACTION_COLUMNS, empty

    doc, frame = metrics.compute_with_frame(inc, dep, empty(ACTION_COLUMNS), s)
    out["generated-20000"] = doc
    out["generated-20000:frame"] = frame_doc(frame)
    return out


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """This module's caches in a folder of their own, never the user's."""
    import os

    from assess.store import CACHE_ENV

    old = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        del os.environ[CACHE_ENV]
    else:
        os.environ[CACHE_ENV] = old


@pytest.fixture(scope="module")
def docs(tmp_path_factory, private_cache) -> dict[str, dict]:
    return documents(tmp_path_factory.mktemp("invariants"))


def _expected() -> dict[str, str]:
    return json.loads(DIGESTS.read_text(encoding="utf-8"))


CASES = ["sample", "sample:frame", "sample:judgement", "generated-20000", "generated-20000:frame",
         *(f"{n}:{w}" for n in REAL_FILES for w in WINDOWS)]


@pytest.mark.parametrize("case", CASES)
def test_metrics_document_unchanged(case: str, docs: dict[str, dict]):
    if case not in docs:
        pytest.skip(f"shared real data not available here ({REALDATA} is absent)")
    doc = docs[case]
    # a document of nothing would match a digest of nothing: each case counts its incidents
    if case.endswith(":judgement"):
        assert doc["risks"] and doc["plan"]["actions"]
    elif case.endswith(":frame"):
        assert doc["rows"] > 0
    else:
        assert doc["data_quality"]["incidents_imported"] > 0
    assert digest(doc) == _expected()[case], (
        f"{case}: the metrics document differs from the one recorded before the speed work")


def test_cached_tables_equal_the_raw_read(sample_copy: Path):
    """A second load reads the cache; its tables equal a read of the raw exports, dtypes too."""
    import pandas as pd

    from assess import store
    from assess.engagement import load_engagement

    e = load_engagement(sample_copy)
    raw = {k: store.read_raw_table(e, k) for k in ("incidents", "deploys")}
    first = store.load(e)  # builds the cache
    assert store.cache_path(e).is_file()
    reads = []
    real = store.read_raw_table
    store.read_raw_table = lambda *a, **k: reads.append(a) or real(*a, **k)
    try:
        second = store.load(e)  # reads it
    finally:
        store.read_raw_table = real
    assert reads == []
    assert len(raw["incidents"]) and len(raw["deploys"])
    for kind in ("incidents", "deploys"):
        pd.testing.assert_frame_equal(store.load_table(e, kind), raw[kind])
    pd.testing.assert_frame_equal(first.incidents, second.incidents)
    pd.testing.assert_frame_equal(second.deploys, raw["deploys"])


def test_cache_follows_imports_and_removals(sample_copy: Path):
    """An import or a removal changes the key: the next load never serves the old rows."""
    from assess import store
    from assess.engagement import load_engagement

    e = load_engagement(sample_copy)
    before = len(store.load_table(e, "incidents"))
    entry = next(x for x in store.read_manifest(e) if x["kind"] == "incidents")
    removed_rows = len(store.read_raw_table(e, "incidents"))
    store.remove_import(e, entry["file"])
    after = store.load_table(e, "incidents")
    assert len(after) < before
    assert len(after) == len(store.read_raw_table(e, "incidents")) < removed_rows


def test_cache_not_trusted_when_its_settings_change(sample_copy: Path):
    """The time zone decides how naive times are read: a new zone is a new key."""
    from assess import store
    from assess.engagement import load_engagement

    e = load_engagement(sample_copy)
    store.load(e)
    key = store.cache_key(e)
    text = (sample_copy / "engagement.yaml").read_text(encoding="utf-8")
    assert "timezone:" in text
    (sample_copy / "engagement.yaml").write_text(
        "\n".join("timezone: Asia/Tokyo" if line.startswith("timezone:") else line
                  for line in text.splitlines()) + "\n", encoding="utf-8")
    assert store.cache_key(load_engagement(sample_copy)) != key


def test_quick_commands_do_not_import_pandas():
    """`assess --help`, `score` and `questionnaire show` start without pandas."""
    code = ("import sys\nfrom assess.cli import main\n"
            "try:\n    main(args=sys.argv[1:])\nexcept SystemExit as exc:\n    code = exc.code\n"
            "assert 'pandas' not in sys.modules, sorted(m for m in sys.modules if 'pandas' in m)[:3]\n"
            "sys.exit(code)\n")
    for args in (["--help"], ["score", str(SAMPLE), "--json"], ["questionnaire", "show", "intake"]):
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        assert done.stdout.strip(), args


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        found = {k: digest(v) for k, v in documents(Path(d)).items()}
    DIGESTS.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(found)} digests written to {DIGESTS}")


def test_progress_only_on_a_terminal(tmp_path: Path, monkeypatch):
    """Off a terminal (or with --json) the import prints its reports and nothing else; on one,
    each file is named before it is read."""
    from click.testing import CliRunner

    from assess import cli

    runner = CliRunner()
    root = tmp_path / "e"
    assert runner.invoke(cli.main, ["init", str(root), "--end", "2026-10-31"]).exit_code == 0
    done = runner.invoke(cli.main, ["import", str(root), str(SAMPLE / "incidents"), "--json"])
    assert done.exit_code == 0, done.output
    assert len(json.loads(done.stdout)) == 4 and "Importing" not in done.output
    files = [SAMPLE / "deploys" / p for p in sorted(p.name for p in (SAMPLE / "deploys").iterdir()
                                                     if not p.name.startswith("."))]
    with cli._import_progress(files, quiet=False) as on_file:
        assert on_file is None  # pytest's stderr is not a terminal
    monkeypatch.setattr(cli, "_on_terminal", lambda: True)
    with cli._import_progress(files, quiet=True) as on_file:
        assert on_file is None
    seen = []
    monkeypatch.setattr(cli.click, "progressbar", _FakeBar.factory(seen))
    with cli._import_progress(files, quiet=False) as on_file:
        for f in files:
            on_file(f)
    assert [label for _, label in seen if label and label != "done"] == [
        f"{f.name} ({f.stat().st_size / 1e6:,.1f} MB)" for f in files]
    assert sum(n for n, _ in seen) == sum(f.stat().st_size for f in files)


class _FakeBar:
    """click.progressbar's interface, recording (advance, label) pairs."""

    def __init__(self, seen: list, **kw):
        self.seen = seen

    @classmethod
    def factory(cls, seen: list):
        return lambda **kw: cls(seen, **kw)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int, item=None) -> None:
        self.seen.append((n, item))


def test_processes_sharing_a_folder_build_one_table(sample_copy: Path, tmp_path: Path):
    """Two processes loading the same folder at once, cache empty: both get the raw read's table
    and one cache file is written (the second waits on the folder lock, then reads it)."""
    import os

    code = ("import sys, hashlib\nfrom assess import store\n"
            "from assess.engagement import load_engagement\n"
            "t = store.load_table(load_engagement(sys.argv[1]), 'incidents')\n"
            "print(len(t), hashlib.sha256(t.to_csv().encode()).hexdigest())\n")
    env = {**os.environ, "ASSESS_CACHE_DIR": str(tmp_path / "cache")}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(sample_copy)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    from assess import store
    from assess.engagement import load_engagement

    raw = store.read_raw_table(load_engagement(sample_copy), "incidents")
    import hashlib

    expected = f"{len(raw)} {hashlib.sha256(raw.to_csv().encode()).hexdigest()}"
    assert [out.strip() for out, _ in outs] == [expected, expected]
    assert len(list((tmp_path / "cache" / "tables").glob("incidents-*.parquet"))) == 1
