"""The CLI verbs: exit codes, output, errors on stderr without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from assess.cli import main

from .conftest import SAMPLE


@pytest.fixture
def runner():
    return CliRunner()


def test_every_command_has_help_with_an_example(runner):
    for name in main.commands:
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example:" in result.output, f"`assess {name} --help` shows no example"


def test_init_import_metrics_round_trip(runner, tmp_path):
    eng = tmp_path / "acme"
    r = runner.invoke(main, ["init", str(eng), "--client", "Acme", "--end", "2026-10-31",
                             "--timezone", "Europe/Paris"])
    assert r.exit_code == 0, r.output
    pd_csv = SAMPLE / "incidents" / "pagerduty_incidents_2026-08-03_2026-10-31.csv"
    r = runner.invoke(main, ["import", str(eng), str(pd_csv)])
    assert r.exit_code == 0, r.output
    assert "pagerduty-csv" in r.output and "62 new" in r.output
    r = runner.invoke(main, ["import", str(eng), str(pd_csv), "--json"])
    report = json.loads(r.output)[0]
    assert report["already_imported"] and report["new"] == 0 and report["unchanged"] == 62
    r = runner.invoke(main, ["metrics", str(eng), "--json"])
    assert r.exit_code == 0
    m = json.loads(r.output)
    for key in ("window", "incident_count", "mttd_minutes", "mtta_minutes", "mttm_minutes",
                "mttr_minutes", "by_severity", "recurrence", "availability_by_month",
                "mitigation_sla", "postmortems", "change_failure_rate", "maturity"):
        assert key in m, key
    assert m["incident_count"] == 62
    assert {"median", "p90", "mean", "max", "n"} <= set(m["mttr_minutes"])
    assert {"month", "availability", "downtime_minutes", "error_budget_minutes",
            "budget_consumed"} <= set(m["availability_by_month"][0])
    for key in ("time_to_restore_minutes", "headline", "trends", "benchmarks", "data_quality"):
        assert key in m, key
    assert {"interval", "grade", "coverage", "missing", "out_of_order"} <= set(m["mttr_minutes"])
    r = runner.invoke(main, ["metrics", str(eng)])
    assert "Maturity:" in r.output and "Availability (SLA 99.90%)" in r.output
    # every headline figure with its grade; a PagerDuty CSV has no impact start: restore n/a
    hl = m["headline"]["mttr_minutes"]
    assert "SEV1-SEV2 median time to resolve, from detection: " in r.output
    assert f"grade {hl['grade']}" in r.output and m["time_to_restore_minutes"]["n"] == 0


def test_user_errors_are_one_line_on_stderr(tmp_path):
    (tmp_path / "engagement.yaml").write_text("client: {name: X}\nconsultant: {name: Y}\n"
                                              "window: {end: tomorrow}\n")
    proc = subprocess.run([sys.executable, "-m", "assess", "metrics", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "key 'window.end'" in proc.stderr and "YYYY-MM-DD" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_import_of_an_unknown_file_fails_cleanly(runner, tmp_path):
    runner.invoke(main, ["init", str(tmp_path / "e")])
    bad = tmp_path / "notes.csv"
    bad.write_text("hello,world\n1,2\n")
    r = runner.invoke(main, ["import", str(tmp_path / "e"), str(bad)])
    assert r.exit_code == 1 and "format not recognised" in r.output


def test_strict_import_with_rejections_exits_non_zero(runner, tmp_path):
    runner.invoke(main, ["init", str(tmp_path / "e")])
    bad = tmp_path / "deploys.csv"
    bad.write_text("timestamp,service,version,outcome\nnot-a-time,api,1,success\n")
    r = runner.invoke(main, ["import", str(tmp_path / "e"), str(bad), "--strict"])
    assert r.exit_code == 1 and "NOT IMPORTED" in r.output and "row 2" in r.output


def test_risks_and_plan_json_keys(runner):
    r = runner.invoke(main, ["risks", str(SAMPLE), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["top"] == [x["id"] for x in doc["risks"] if x["top"]] and len(doc["top"]) == 3
    first = doc["risks"][0]
    for key in ("rank", "id", "title", "finding", "score", "likelihood", "impact", "has_evidence",
                "top", "evidence", "signals", "actions"):
        assert key in first
    r = runner.invoke(main, ["plan", str(SAMPLE), "--json", "--lang", "fr"])
    assert r.exit_code == 0, r.output
    plan = json.loads(r.output)
    assert [w["week"] for w in plan["reset_plan"]] == [1, 2, 3, 4]
    assert [h["horizon"] for h in plan["roadmap"]] == ["0-7", "7-30", "30-90"]
    assert plan["reset_plan"][0]["title"] == "Audit flash"


def test_risks_text_shows_the_evidence(runner):
    r = runner.invoke(main, ["risks", str(SAMPLE)])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("1. ") and "Incidents (" in r.output and "Answer: " in r.output


def test_bad_overrides_are_a_user_error(runner, sample_copy):
    (sample_copy / "overrides.yaml").write_text("actions:\n  drop: [no-such-action]\n")
    r = runner.invoke(main, ["plan", str(sample_copy)])
    assert r.exit_code == 1
    assert "overrides.yaml: actions.drop: unknown action 'no-such-action'" in r.output
