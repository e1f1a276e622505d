"""The check-in: a frozen baseline stays frozen, the before/after figures by hand, late actions."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from assess import analysis, checkin
from assess.store import import_file

from .conftest import write_engagement

ENGAGEMENT = """\
client: {name: Acme}
consultant: {name: Ana Silva}
window: {end: 2026-03-31, days: 90}
start_date: 2026-04-06
timezone: UTC
sla: {target: 99.9}
"""
HEADER = ["id", "incident_number", "description", "service_name", "created_on", "resolved_on",
          "seconds_to_resolve", "urgency", "priority"]


def pagerduty(path, rows):
    """A PagerDuty incidents CSV: (id, title, service, created, minutes to resolve, priority)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for n, (pid, title, svc, created, minutes, prio) in enumerate(rows, start=1):
            start = dt.datetime.fromisoformat(created)
            end = start + dt.timedelta(minutes=minutes)
            w.writerow([pid, n, title, svc, start.isoformat(), end.isoformat(), minutes * 60,
                        "high", prio])
    return path


@pytest.fixture
def engagement(tmp_path):
    root = write_engagement(tmp_path / "acme", ENGAGEMENT)
    e = analysis.load_engagement(root)
    # the baseline: three SEV1s resolved in 60, 120 and 180 minutes after detection
    import_file(e, pagerduty(tmp_path / "before.csv", [
        ("PA1", "API down", "api", "2026-02-02T10:00:00+00:00", 60, "P1"),
        ("PA2", "Checkout errors", "web", "2026-02-16T10:00:00+00:00", 120, "P1"),
        ("PA3", "Invoices failing", "billing", "2026-03-02T10:00:00+00:00", 180, "P1")]))
    return root


def test_a_check_in_needs_a_frozen_baseline(engagement):
    with pytest.raises(checkin.CheckinError, match="no frozen baseline"):
        checkin.checkin(engagement, dt.date(2026, 5, 5))


def test_before_and_after_by_hand_and_exports_that_stop_too_early(engagement, tmp_path):
    a = analysis.analyse(engagement)
    path, written = checkin.freeze(a)
    assert written and path.name == "baseline.json"
    # nothing imported after the plan's start: nothing is read as progress
    early = checkin.checkin(engagement, dt.date(2026, 5, 5))
    assert not early["coverage"]["covered"] and early["coverage"]["last_incident"] == "2026-03-02"
    assert all(f["after"] is None for f in early["figures"]) and early["risks"] == []
    # after the plan's start: one SEV1 resolved in 30 minutes, one SEV2 in 90
    import_file(analysis.load_engagement(engagement), pagerduty(tmp_path / "after.csv", [
        ("PB1", "API down", "api", "2026-04-20T10:00:00+00:00", 30, "P1"),
        ("PB2", "Search slow", "search", "2026-05-01T10:00:00+00:00", 90, "P2")]))
    c = checkin.checkin(engagement, dt.date(2026, 5, 5))
    assert c["coverage"]["covered"] and c["day"] == 30 and c["incident_count"] == 2
    assert c["window"]["first_day"] == "2026-04-06" and c["window"]["last_day"] == "2026-05-05"
    mttr = next(f for f in c["figures"] if f["key"] == "headline.mttr_minutes.median")
    # baseline median of 60, 120, 180 = 120; now median of 30 and 90 = 60, on two values only:
    # indicative, no direction claimed
    assert (mttr["before"], mttr["after"], mttr["direction"]) == (120.0, 60.0, "indicative")
    assert mttr["after_n"] == 2
    # counts compare per 30 days: 3 incidents in 90 days against 2 in 30
    count = next(f for f in c["figures"] if f["key"] == "incident_count")
    assert count["per_30_days"] == [1.0, 2.0] and count["direction"] == "worsening"
    assert count["after_display"] == "2 in 30 d"
    assert c["baseline"]["incident_count"] == 3


def test_the_baseline_stays_frozen_after_new_imports(engagement, tmp_path):
    checkin.freeze(analysis.analyse(engagement))
    frozen = (engagement / "baseline.json").read_text()
    # a late export adds a long SEV1 inside the baseline window: the analysis changes ...
    import_file(analysis.load_engagement(engagement), pagerduty(tmp_path / "late.csv", [
        ("PC1", "Database down", "db", "2026-03-20T10:00:00+00:00", 600, "P1")]))
    assert analysis.analyse(engagement).metrics["headline"]["mttr_minutes"]["median"] == 150.0
    # ... the baseline does not, and a second freeze keeps it unless forced
    _, written = checkin.freeze(analysis.analyse(engagement))
    assert not written and (engagement / "baseline.json").read_text() == frozen
    c = checkin.checkin(engagement, dt.date(2026, 5, 5))
    mttr = next(f for f in c["figures"] if f["key"] == "headline.mttr_minutes.median")
    assert mttr["before"] == 120.0
    assert json.loads(frozen)["metrics"]["incident_count"] == 3


def test_late_done_and_dropped_actions_against_their_due_dates(engagement, tmp_path):
    a = analysis.analyse(engagement)
    checkin.freeze(a)
    actions = json.loads((engagement / "baseline.json").read_text())["plan"]["actions"]
    due = {x["id"]: dt.date.fromisoformat(x["due"]) for x in actions}
    first, second, third = sorted(due, key=lambda k: (due[k], k))[:3]
    (engagement / "overrides.yaml").write_text(
        "actions:\n  status:\n"
        f"    {first}: {{status: done, date: {due[first].isoformat()}}}\n"
        f"    {second}: dropped\n"
        f"    {third}: {{status: blocked, note: waiting for the vendor}}\n", encoding="utf-8")
    as_of = max(due[first], due[second], due[third]) + dt.timedelta(days=3)
    c = checkin.checkin(engagement, as_of)
    by_id = {x["id"]: x for x in c["actions"]}
    assert by_id[first]["status"] == "done" and not by_id[first]["late"]
    assert by_id[second]["status"] == "dropped" and not by_id[second]["late"]
    assert by_id[third]["late"] and by_id[third]["note"] == "waiting for the vendor"
    assert by_id[third]["days_late"] == (as_of - due[third]).days
    late = [x for x in c["actions"] if x["late"]]
    assert c["action_counts"]["late"] == len(late)
    assert all(due[x["id"]] < as_of and x["status"] in checkin.OPEN for x in late)
    assert c["action_counts"]["total"] == len(actions)


@pytest.mark.slow
def test_the_sample_check_in_and_its_progress_report(sample_copy, tmp_path):
    import subprocess

    pypdf = pytest.importorskip("pypdf")
    from assess.progress import render_progress

    a = analysis.analyse(sample_copy)
    checkin.freeze(a)
    c = checkin.checkin(sample_copy, dt.date(2026, 12, 8))
    # the story: the month after the plan started is covered; some targets met, some late
    assert c["coverage"]["covered"] and c["day"] == 30
    assert c["targets"]["met"] >= 1 and c["targets"]["not_yet"] >= 1
    by_id = {x["id"]: x for x in c["actions"]}
    assert by_id["deploy-freeze-window"]["status"] == "done"
    assert by_id["restore-drill"]["late"] and "staging AWS account" in by_id["restore-drill"]["note"]
    # the risks are scored on a window as long as the baseline's: one length, in days
    assert c["risk_window"] == {"days": a.metrics["window"]["days"], "last_day": "2026-12-08"}
    friday = next(f for f in c["figures"] if f["key"] == "change_failure_rate.friday_after_16h")
    assert friday["met"] is True and friday["after"] == 0
    for lang, phrase in (("en", "Late, and why"), ("fr", "En retard, et pourquoi")):
        r = render_progress(analysis.load_engagement(sample_copy), c, tmp_path, lang)
        assert 2 <= r.pages <= 6 and not r.refused
        text = subprocess.run(["pdftotext", str(r.path), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert phrase in text and "staging AWS account" in text.replace("\n", " ")
        assert f"{a.metrics['window']['days']} {'days' if lang == 'en' else 'jours'}" in text
        assert "(90, " not in text
        reader = pypdf.PdfReader(str(r.path))
        assert "checkin.json" in reader.attachments
        assert json.loads(reader.attachments["checkin.json"][0])["as_of"] == "2026-12-08"
