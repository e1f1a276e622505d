"""The engagement folder format: a valid file loads; each kind of invalid one names the key."""

from __future__ import annotations

import datetime as dt

import pytest

from assess.engagement import EngagementError, init_engagement, load_engagement

from .conftest import MINIMAL, write_engagement


def test_minimal_engagement_has_documented_defaults(engagement_dir):
    e = load_engagement(engagement_dir)
    assert e.client == "Acme"
    assert e.window_days == 90
    assert e.window_start == dt.date(2026, 1, 1)  # 90 days ending 31 March, both included
    assert e.sla_target == pytest.approx(0.999)
    assert e.mitigation_targets == {"SEV1": 5.0, "SEV2": 15.0, "SEV3": 240.0}
    assert e.start_date is None  # the plan starts the Monday after the report date (plans.build)
    assert e.team.people == () and e.team.size is None and e.team.default_days_per_week == 1.0
    start, end = e.window_bounds_utc()
    assert start.isoformat() == "2025-12-31T23:00:00+00:00"  # Paris midnight in winter
    assert end.isoformat() == "2026-03-31T22:00:00+00:00"  # Paris midnight in summer time


def test_sample_engagement_loads_with_branding():
    from .conftest import SAMPLE

    e = load_engagement(SAMPLE)
    assert e.client == "Brightloop"
    assert e.branding.logo is not None and e.branding.logo.name == "brightloop.svg"
    assert e.branding.primary_color == "#14365D"
    assert e.sla_target == pytest.approx(0.999)


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (("client: {name: Acme}", "client: {}"), "client.name", "required"),
        (("timezone: Europe/Paris", "timezone: Mars/Olympus"), "timezone", "IANA time zone"),
        (("target: 99.9", "target: 120"), "sla.target", "between 50 and 100"),
        (("target: 99.9", "target: high"), "sla.target", "percentage"),
        (("end: 2026-03-31", "end: 31/03/2026"), "window.end", "YYYY-MM-DD"),
        (("days: 90", "days: -3"), "window.days", "between"),
        (("days: 90", "days: 7.5"), "window.days", "whole number"),
    ],
)
def test_invalid_values_name_the_key(tmp_path, change, key, expected):
    old, new = change
    write_engagement(tmp_path, MINIMAL.replace(old, new))
    with pytest.raises(EngagementError) as err:
        load_engagement(tmp_path)
    assert f"key '{key}'" in str(err.value)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("extra", "key", "expected"),
    [
        ("mitigation_targets: {SEV9: 5}", "mitigation_targets.SEV9", "SEV1"),
        ("mitigation_targets: {SEV1: soon}", "mitigation_targets.SEV1", "a number"),
        ("branding: {primary_color: blue}", "branding.primary_color", "#RRGGBB"),
        ("branding: {logo: ../../etc/passwd.svg}", "branding.logo", "inside the engagement"),
        ("branding: {logo: branding/missing.svg}", "branding.logo", "existing file"),
        ("branding: {logo: notes.txt}", "branding.logo", ".svg"),
        ("business_hours: {start: '18:00', end: '09:00'}", "business_hours.end", "after"),
        ("business_hours: {days: [someday]}", "business_hours.days", "day names"),
        ("language: de", "language", "en or fr"),
        ("severity_mapping: {jira: {Blocker: SEV0}}", "severity_mapping", "SEV1..SEV4"),
        ("revenue_critical_journeys: checkout", "revenue_critical_journeys", "list"),
    ],
)
def test_invalid_sections_name_the_key(tmp_path, extra, key, expected):
    write_engagement(tmp_path, MINIMAL + extra + "\n")
    with pytest.raises(EngagementError) as err:
        load_engagement(tmp_path)
    assert f"key '{key}'" in str(err.value)
    assert expected in str(err.value)


def test_yaml_syntax_error_names_the_line(tmp_path):
    write_engagement(tmp_path, MINIMAL + "branding: {name: [unclosed\n")
    with pytest.raises(EngagementError, match=r"not valid YAML at line \d+"):
        load_engagement(tmp_path)


def test_not_a_mapping(tmp_path):
    write_engagement(tmp_path, "- just\n- a list\n")
    with pytest.raises(EngagementError, match="mapping of settings"):
        load_engagement(tmp_path)


def test_missing_folder_and_file(tmp_path):
    with pytest.raises(EngagementError, match="no such directory"):
        load_engagement(tmp_path / "nope")
    with pytest.raises(EngagementError, match="assess init"):
        load_engagement(tmp_path)


def test_init_creates_a_loadable_folder_and_refuses_to_overwrite(tmp_path):
    root = init_engagement(tmp_path / "new", client="O'Reilly: Data & Co", consultant="Ana",
                           timezone="America/New_York", end=dt.date(2026, 6, 30))
    e = load_engagement(root)
    assert e.client == "O'Reilly: Data & Co"
    assert e.timezone == "America/New_York"
    assert (root / "incidents").is_dir() and (root / "answers" / "self").is_dir()
    with pytest.raises(EngagementError, match="already an engagement"):
        init_engagement(root)
