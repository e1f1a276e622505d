"""Plans: due dates, the library's validation, overrides that survive a re-run, no incidents at all."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from assess import analysis, plans, risks, store
from assess.engagement import load_engagement

from .conftest import SAMPLE, write_engagement

HORIZONS = {"0-7": {"days": 7}, "7-30": {"days": 30}, "30-90": {"days": 90}}
MONDAY = dt.date(2026, 11, 9)


@pytest.mark.parametrize(("start", "horizon", "week", "due"), [
    (MONDAY, "0-7", 1, "2026-11-13"),  # day 7 is Sunday 15th: back to Friday 13th
    (MONDAY, "7-30", 2, "2026-11-20"),
    (MONDAY, "7-30", 4, "2026-12-04"),  # day 28 is Sunday 6 December
    (MONDAY, "7-30", None, "2026-12-08"),  # day 30 is a Tuesday: kept
    (MONDAY, "30-90", None, "2027-02-05"),  # day 90 is Saturday 6 February
    (dt.date(2026, 11, 11), "0-7", 1, "2026-11-17"),  # a Wednesday start: day 7 is Tuesday
    (dt.date(2026, 12, 28), "30-90", None, "2027-03-26"),  # across a year end
    (dt.date(2028, 2, 1), "7-30", None, "2028-03-01"),  # leap year: day 30 is 1 March (Wednesday)
])
def test_due_dates_by_hand(start, horizon, week, due):
    assert plans.due_date(start, horizon, week, HORIZONS).isoformat() == due


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
       st.sampled_from([("0-7", 1), ("7-30", 2), ("7-30", 3), ("7-30", 4), ("7-30", None),
                        ("30-90", None)]))
def test_due_dates_fall_on_a_working_day_inside_their_period(start, hw):
    horizon, week = hw
    due = plans.due_date(start, horizon, week, HORIZONS)
    nominal = start + dt.timedelta(days=(7 * week if week else HORIZONS[horizon]["days"]) - 1)
    assert due.weekday() < 5 and nominal - dt.timedelta(days=2) <= due <= nominal and due >= start


def _library() -> dict:
    return yaml.safe_load(risks.catalog_path(None, "remediations.yaml").read_text())


LIBRARY_BREAKS = [
    (lambda a: a.update(week=3), "action 'map-incidents': week: a 0-7-day action needs a week in 1"),
    (lambda a: a.update(horizon="30-90"), "week: a 30-90-day action is beyond the 30-day plan"),
    (lambda a: a.update(owner="intern"), "action 'map-incidents': owner: expected a role"),
    (lambda a: a.update(effort="XL"), "effort: expected S, M or L"),
    (lambda a: a.update(verify={"metric": "nope", "below": 1}),
     "verify.metric: 'nope' is neither in the metric catalog"),
    (lambda a: a.update(verify={"metric": "recurrence.rate"}), "a metric needs a target"),
    (lambda a: a.pop("verify"), "verify: expected a metric (with below or above) or a text"),
    (lambda a: a.update(horizon="1-2"), "horizon: expected one of 0-7, 7-30, 30-90"),
]


@pytest.mark.parametrize(("breakage", "message"), LIBRARY_BREAKS)
def test_library_validation_names_the_action_and_key(breakage, message):
    data = _library()
    breakage(data["actions"][0])
    with pytest.raises(risks.CatalogError) as exc:
        plans.parse_library(data, "remediations.yaml", {"recurrence.rate"})
    assert message in str(exc.value)


def _plan(root, lang="en"):
    return analysis.judgement(analysis.analyse(root), lang)


def _ids(plan) -> list[str]:
    return [a["id"] for a in plan["actions"]]


def test_every_action_has_an_owner_a_due_date_and_a_way_to_verify():
    j = _plan(SAMPLE)
    plan = j["plan"]
    assert plan["top_risks"] == [r["id"] for r in j["risks"] if r["top"]]
    for a in plan["actions"]:
        assert a["owner_display"] and dt.date.fromisoformat(a["due"]) >= MONDAY
        assert a["verify"]["text"]
    # top risks' actions come first within a week; every risk action names its risk
    week1 = plan["reset_plan"][0]["actions"]
    assert week1[0]["risks"] == ["unsafe-deploys"]
    # the sample's overrides name people for roles and add a consultant action
    assert {a["owner"] for a in plan["actions"]} >= {"Nadia Haddad", "Marc Olsen", "Camille Laurent"}
    pgb = next(a for a in plan["actions"] if a["id"] == "pgbouncer")
    assert pgb["source"] == "consultant" and pgb["week"] == 3 and pgb["due"] == "2026-11-27"
    assert pgb["risks"] == ["capacity-saturation"] and pgb["owner"] == "Marc Olsen"
    # the reset plan of the source articles is always there, week by week
    assert {"map-incidents", "rank-risks", "lock-roadmap"} <= set(_ids(plan))
    assert all(a["week"] == w["week"] for w in plan["reset_plan"] for a in w["actions"])
    assert sum(len(h["actions"]) for h in plan["roadmap"]) == len(plan["actions"])


def test_further_risks_with_evidence_are_deferred_to_the_90_day_horizon():
    j = _plan(SAMPLE)
    further = [r for r in j["risks"] if not r["top"] and r["has_evidence"]]
    deferred = [a for a in j["plan"]["actions"] if a["reason"] == "further-risk"]
    assert deferred and all(a["horizon"] == "30-90" and a["week"] is None for a in deferred)
    covered = {r for a in j["plan"]["actions"] for r in a["risks"]}
    assert {r["id"] for r in further} <= covered


OVERRIDES = textwrap.dedent("""\
    owners: {platform: Priya Raman, cto: Nadia Haddad}
    risks:
      order: [external-dependency]
      drop: [capacity-saturation]
      edit:
        unsafe-deploys: {finding: "Friday releases broke invoicing twice."}
    actions:
      drop: [deploy-freeze-window]
      pin: [restore-drill]
      edit:
        one-command-rollback: {owner: Jonas Weber, due: 2026-11-18, note: "Agreed at the readout"}
        business-alerts: {week: 1}
      add:
        - id: hire-sre
          title: Hire a senior SRE
          horizon: "30-90"
          owner: founder
          risk: on-call-overload
""")


def _apply_overrides(root):
    (root / "overrides.yaml").write_text(OVERRIDES, encoding="utf-8")


def _check_overrides(j) -> None:
    ranked, plan = j["risks"], j["plan"]
    assert ranked[0]["id"] == "external-dependency" and ranked[0]["pinned"] and ranked[0]["top"]
    capacity = next(r for r in ranked if r["id"] == "capacity-saturation")
    assert capacity["dropped"] and not capacity["top"]
    assert [r["id"] for r in ranked if r["top"]][1:] == ["unsafe-deploys", "detection-blind-spots"]
    assert next(r for r in ranked if r["id"] == "unsafe-deploys")["finding"] == \
        "Friday releases broke invoicing twice."
    ids = _ids(plan)
    assert "deploy-freeze-window" not in ids and "restore-drill" in ids
    rollback = next(a for a in plan["actions"] if a["id"] == "one-command-rollback")
    assert (rollback["owner"], rollback["due"], rollback["note"]) == (
        "Jonas Weber", "2026-11-18", "Agreed at the readout")
    alerts = next(a for a in plan["actions"] if a["id"] == "business-alerts")
    assert (alerts["week"], alerts["horizon"], alerts["due"]) == (1, "0-7", "2026-11-13")
    hire = next(a for a in plan["actions"] if a["id"] == "hire-sre")
    assert (hire["owner_role"], hire["due"], hire["risks"]) == ("founder", "2027-02-05", ["on-call-overload"])
    assert plan["overridden"]


def test_overrides_survive_a_re_import_and_re_run(sample_copy, tmp_path):
    _apply_overrides(sample_copy)
    before = (sample_copy / "overrides.yaml").read_bytes()
    _check_overrides(_plan(sample_copy))
    # new data arrives: another export with two incidents, imported into the engagement
    extra = tmp_path / "more.csv"
    extra.write_text("id,title,severity,service,detected,resolved,detection_source\n"
                     "X-1,Stripe webhooks failing,SEV2,billing,2026-10-20T10:00:00Z,"
                     "2026-10-20T11:00:00Z,alert\n"
                     "X-2,Payment provider timeouts,SEV2,billing,2026-10-22T10:00:00Z,"
                     "2026-10-22T12:00:00Z,customer\n", encoding="utf-8")
    report = store.import_file(load_engagement(sample_copy), extra, fmt="generic-csv", strict=True)
    assert report.new == 2 and not report.rejected
    again = _plan(sample_copy)
    _check_overrides(again)
    assert again["risks"][0]["evidence"]["incident_count"] == 7  # 5 before, 2 new provider incidents
    assert (sample_copy / "overrides.yaml").read_bytes() == before  # a run never rewrites it


def test_a_pinned_risk_without_evidence_stays_out_of_the_top_three(sample_copy):
    (sample_copy / "overrides.yaml").write_text("risks: {order: [untested-backups]}\n")
    (sample_copy / "answers" / "intake.yaml").unlink()
    j = _plan(sample_copy)
    backups = next(r for r in j["risks"] if r["id"] == "untested-backups")
    assert not backups["has_evidence"] and not backups["top"]
    assert any("untested-backups" in w for w in j["plan"]["warnings"])


@pytest.mark.parametrize(("text", "message"), [
    ("owners: {janitor: Bob}\n", "overrides.yaml: owners.janitor: unknown role"),
    ("risks: {order: [nope]}\n", "overrides.yaml: risks.order: unknown risk 'nope'"),
    ("actions: {edit: {restore-drill: {due: next week}}}\n",
     "actions.edit.restore-drill.due: expected a date as YYYY-MM-DD, got 'next week'"),
    ("actions: {edit: {restore-drill: {horizon: '0-7', week: 3}}}\n",
     "week 3 does not fall in the 0-7-day horizon"),
    ("actions: {add: [{id: x, title: T}]}\n", "actions.add[0]: horizon: required for a new action"),
    ("actions: {add: [{id: restore-drill, title: T, horizon: '30-90', owner: cto}]}\n",
     "id: 'restore-drill' is already used"),
    ("plan: {}\n", "unknown section(s) plan"),
])
def test_overrides_validation(sample_copy, text, message):
    (sample_copy / "overrides.yaml").write_text(text)
    with pytest.raises(risks.CatalogError) as exc:
        _plan(sample_copy)
    assert message in str(exc.value)


def test_an_engagement_with_no_incidents_gets_a_plan_from_the_questionnaire(tmp_path):
    root = write_engagement(tmp_path / "quiet", textwrap.dedent("""\
        client: {name: Quiet Co}
        consultant: {name: Ana Silva}
        window: {end: 2026-10-31, days: 90}
        start_date: 2026-11-09
        timezone: Europe/Paris
        sla: {target: 99.9}
    """))
    shutil.copytree(SAMPLE / "answers", root / "answers")
    j = _plan(root)
    top = [r for r in j["risks"] if r["top"]]
    assert len(top) == 3
    for r in top:
        assert r["evidence"]["incident_count"] == 0 and r["evidence"]["answers"]
        assert r["finding"]  # the answers-only wording
    plan = j["plan"]
    top_actions = {a for r in top for a in r["actions"]}
    assert top_actions & set(_ids(plan)) == top_actions
    assert all(a["owner_display"] and a["due"] for a in plan["actions"])
    # no answers either: the plan is the reset plan alone, and no risk is in the top three
    shutil.rmtree(root / "answers")
    j = _plan(root)
    assert not any(r["top"] for r in j["risks"])
    assert {a["reason"] for a in j["plan"]["actions"]} == {"reset-plan"}


def test_french_plan():
    plan = _plan(SAMPLE, "fr")["plan"]
    assert [w["title"] for w in plan["reset_plan"]] == [
        "Audit flash", "Stabilisation ciblée", "Correction des causes racines", "Industrialisation"]
    assert plan["roadmap"][0]["title"] == "0–7 jours"
    pgb = next(a for a in plan["actions"] if a["id"] == "pgbouncer")
    assert pgb["title"].startswith("Placer un pooler")
