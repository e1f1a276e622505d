"""Plans: due dates, the library's validation, overrides that survive a re-run, no incidents at all,
horizons kept, capacity levelled, diagnostic, status, postmortems reconciled, checks, error budget."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import textwrap

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from assess import analysis, plans, remediations, risks, store
from assess.engagement import Person, Team, load_engagement

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
    (lambda a: a.pop("verify"), "verify: expected a text (the leading indicator the action moves)"),
    (lambda a: a.update(verify={"metric": "recurrence.rate", "below": 0.1}),
     "verify.text: expected the leading indicator the action itself moves"),
    (lambda a: a.update(matches=["(unclosed"]), "matches: '(unclosed' is not a valid regex"),
    (lambda a: a.update(days=0), "days: expected a number of person-days above 0"),
    (lambda a: a.update(horizon="1-2"), "horizon: expected one of 0-7, 7-30, 30-90"),
]


@pytest.mark.parametrize(("breakage", "message"), LIBRARY_BREAKS)
def test_library_validation_names_the_action_and_key(breakage, message):
    data = _library()
    breakage(data["actions"][0])
    with pytest.raises(risks.CatalogError) as exc:
        plans.parse_library(data, "remediations.yaml", {"recurrence.rate"})
    assert message in str(exc.value)


TODAY = dt.date(2026, 11, 2)  # before the sample's start: nothing is overdue yet


def _plan(root, lang="en", today=TODAY):
    return analysis.judgement(analysis.analyse(root), lang, today=today)


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
    assert {a["owner"] for a in plan["actions"]} >= {"Nadia Haddad", "Marc Olsen", "Priya Raman"}
    pgb = next(a for a in plan["actions"] if a["id"] == "pgbouncer")
    assert pgb["source"] == "consultant" and pgb["week"] == 3 and pgb["due"] == "2026-11-27"
    assert pgb["risks"] == ["capacity-saturation"] and pgb["owner"] == "Marc Olsen"
    # a postmortem of the sample records PgBouncer done: linked, done, on nobody's week
    assert pgb["status"] == "done" and pgb["status_source"] == "postmortem"
    assert [g["title"] for g in pgb["postmortem"]] == ["Raise pool size and add PgBouncer"]
    # the reset plan of the source articles is always there, week by week; the consultant's
    # diagnostic is the engagement's output, done in week 1
    assert {"lock-roadmap"} <= set(_ids(plan))
    assert [a["id"] for a in plan["diagnostic"]] == ["map-incidents", "baseline-metrics", "rank-risks"]
    assert plan["reset_plan"][0]["diagnostic"] == plan["diagnostic"]
    assert all(a["status"] == "done" and a["owner"] == "Camille Laurent" for a in plan["diagnostic"])
    assert not {"map-incidents", "baseline-metrics", "rank-risks"} & set(_ids(plan))
    assert all(a["week"] == w["week"] for w in plan["reset_plan"] for a in w["actions"])
    assert sum(len(h["actions"]) for h in plan["roadmap"]) == len(plan["actions"])


def test_further_risks_keep_the_library_horizon_of_their_first_action():
    j = _plan(SAMPLE)
    further = [r for r in j["risks"] if not r["top"] and r["has_evidence"]]
    catalog, library = plans.load_catalogs()
    taken = [a for a in j["plan"]["actions"] if a["reason"] == "further-risk"]
    assert taken
    for a in taken:
        assert a["horizon"] == library.actions[a["id"]].horizon
    covered = {r for a in j["plan"]["actions"] + j["plan"]["diagnostic"] for r in a["risks"]}
    assert {r["id"] for r in further} <= covered


def test_the_sample_plan_fits_its_people_or_says_what_does_not():
    plan = _plan(SAMPLE)["plan"]
    cap = plan["capacity"]
    assert cap["levelled"]
    names = {p["name"] for p in cap["people"]}
    # everyone the engagement names: the team, the owners by role, the postmortems' owners
    assert {"Tom Becker", "Jonas Weber", "Sam Okafor", "Elodie Roux", "Nadia Haddad"} <= names
    for p in cap["people"]:
        for w in p["weeks"]:
            assert w["load"] <= w["capacity"] + 1e-9, (p["name"], w)
    # what does not fit is listed with a decision, and its days are on nobody's week
    overflow = {x["action"] for x in cap["overflow"]}
    for a in plan["actions"]:
        assert (a["fits"] is False) == (a["id"] in overflow)
    assert {d["action"] for d in plan["decisions"] if d["kind"] == "capacity"} == overflow
    levelled = sum(a["days"] for a in plan["actions"] if a["fits"])
    assert sum(p["load"] for p in cap["people"]) == pytest.approx(levelled)


def test_no_action_appears_twice_with_a_postmortem():
    plan = _plan(SAMPLE)["plan"]
    linked = [g["title"] for a in plan["actions"] for g in a["postmortem"]]
    assert len(linked) == len(set(linked))
    pgb_like = [a for a in plan["actions"] if "pgbouncer" in a["title"].lower()]
    assert len(pgb_like) == 1
    # the open items are adopted with their owner
    smoke = next(a for a in plan["actions"] if a["source"] == "postmortem")
    assert smoke["title"] == "Add smoke tests to the deploy pipeline" and smoke["owner"] == "Tom Becker"
    cert = next(a for a in plan["actions"] if a["id"] == "cert-expiry-monitoring")
    assert cert["owner"] == "Jonas Weber" and cert["horizon"] == "0-7" and cert["week"] == 1


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
    assert (hire["owner_role"], hire["risks"]) == ("founder", ["on-call-overload"])
    assert "2026-12-08" < hire["due"] <= "2027-02-05"  # staggered inside the 30-90-day horizon
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
    # no people named: nothing is levelled, and the plan says why instead of guessing capacity
    assert not j["plan"]["capacity"]["levelled"] and j["plan"]["capacity"]["unstaffed"]


def test_french_plan():
    plan = _plan(SAMPLE, "fr")["plan"]
    assert [w["title"] for w in plan["reset_plan"]] == [
        "Audit flash", "Stabilisation ciblée", "Correction des causes racines", "Industrialisation"]
    assert plan["roadmap"][0]["title"] == "0–7 jours"
    pgb = next(a for a in plan["actions"] if a["id"] == "pgbouncer")
    assert pgb["title"].startswith("Placer un pooler")


# --- hand-built plans: the ranking, the team and the postmortems written here ----------------------


def _ranking(*entries):
    """Risks in the order given: (id, has_evidence, actions)."""
    out, top = [], 0
    for i, (rid, ev, actions) in enumerate(entries, start=1):
        out.append({"id": rid, "title": rid, "has_evidence": ev, "actions": list(actions), "rank": i,
                    "top": ev and top < 3})
        top += out[-1]["top"]
    return out


def _team(*people, default=1.0):
    return Team(size=10, people=tuple(Person(*p) for p in people), default_days_per_week=default)


def _build(ranking, *, team=None, overrides=None, postmortems=(), metrics=None, start=MONDAY,
           today=dt.date(2026, 11, 2), lang="en"):
    catalog, library = plans.load_catalogs()
    return plans.build(ranking, catalog, library, start, metrics or {}, overrides, lang, team=team,
                       postmortems=postmortems, today=today)


def _by_id(plan):
    return {a["id"]: a for a in plan["actions"]}


def test_a_quick_win_of_a_further_risk_stays_in_week_one_and_late_actions_are_staggered():
    ranking = _ranking(("capacity-saturation", True, ["saturation-alerts"]),
                       ("unsafe-deploys", True, ["deploy-freeze-window"]),
                       ("detection-blind-spots", True, ["synthetic-checks"]),
                       ("cert-secret-hygiene", True, ["cert-expiry-monitoring", "secret-manager"]),
                       ("no-reliability-targets", True, ["define-slos"]),
                       ("external-dependency", True, ["degraded-mode"]),
                       ("knowledge-silo", True, ["runbook-per-alert"]))
    team = _team(("Priya", "platform", 5), ("Nadia", "cto", 5), ("Marc", "eng-lead", 5),
                 ("Elodie", "support-lead", 5), ("Fay", "founder", 5))
    plan = _build(ranking, team=team)
    cert = _by_id(plan)["cert-expiry-monitoring"]
    assert (cert["reason"], cert["horizon"], cert["week"], cert["due"]) == (
        "further-risk", "0-7", 1, "2026-11-13")
    late = [a for a in plan["actions"] if a["horizon"] == "30-90"]
    # define-slos, degraded-mode, runbook-per-alert: three different weeks from week 5 on
    assert {a["id"] for a in late} == {"define-slos", "degraded-mode", "runbook-per-alert"}
    assert len({a["due"] for a in late}) == 3
    assert all("2026-12-08" < a["due"] <= "2027-02-05" for a in late)
    assert sorted(a["start_week"] for a in late) == [5, 7, 10]  # 5 + i*8//3


def test_capacity_is_levelled_and_what_does_not_fit_asks_for_a_decision():
    # Priya alone, 1 day a week: three week-1 quick wins (0.5 day each) cannot all be done in week 1
    ranking = _ranking(("capacity-saturation", True, ["saturation-alerts"]),
                       ("external-dependency", True, ["dependency-monitoring"]),
                       ("cert-secret-hygiene", True, ["cert-expiry-monitoring"]))
    plan = _build(ranking, team=_team(("Priya", "platform", 1)))
    by = _by_id(plan)
    week1 = [by[a] for a in ("saturation-alerts", "dependency-monitoring", "cert-expiry-monitoring")]
    assert [a["fits"] for a in week1] == [True, True, False]
    [over] = [x for x in plan["capacity"]["overflow"] if x["action"] == "cert-expiry-monitoring"]
    assert (over["owner"], over["needs_days"], over["free_days"], over["by"]) == (
        "Priya", 0.5, 0.0, "2026-11-13")
    assert "decide whether to give Priya more reliability time" in over["decision"]
    priya = next(p for p in plan["capacity"]["people"] if p["name"] == "Priya")
    assert priya["weeks"][0] == {"week": 1, "load": 1.0, "capacity": 1.0}
    # an M action (3.5 days) at 1 day a week from week 2 is done in week 5: past the 30 days
    assert by["business-alerts"]["fits"] is False
    # a second platform engineer takes what the first cannot carry
    plan = _build(ranking, team=_team(("Priya", "platform", 1), ("Jonas", "platform", 4)))
    by = _by_id(plan)
    assert by["cert-expiry-monitoring"]["owner"] == "Jonas" and by["cert-expiry-monitoring"]["fits"]
    assert by["cert-expiry-monitoring"]["handed_over_from"] == "Priya"
    for p in plan["capacity"]["people"]:
        assert all(w["load"] <= w["capacity"] for w in p["weeks"])


def test_a_role_nobody_holds_is_reported_not_levelled():
    plan = _build(_ranking(("capacity-saturation", True, ["saturation-alerts"])),
                  team=_team(("Marc", "eng-lead", 2)))
    unstaffed = {u["role"]: u for u in plan["capacity"]["unstaffed"]}
    assert "saturation-alerts" in unstaffed["platform"]["actions"]
    assert _by_id(plan)["saturation-alerts"]["staffed"] is False
    assert any(d["kind"] == "unstaffed" and d["role"] == "platform" for d in plan["decisions"])


def test_the_diagnostic_is_the_engagements_output_done_in_week_one():
    plan = _build(_ranking(), overrides=plans.Overrides(owners={"consultant": "Ana Silva"}))
    assert [a["id"] for a in plan["diagnostic"]] == ["map-incidents", "baseline-metrics", "rank-risks"]
    for a in plan["diagnostic"]:
        assert (a["status"], a["week"], a["due"], a["owner_display"]) == ("done", 1, "2026-11-13",
                                                                          "Ana Silva")
    assert not any(a["owner_role"] == "consultant" for a in plan["actions"])
    assert all(p["load"] == 0 for p in plan["capacity"]["people"])


def test_status_overdue_and_the_default_start():
    o = plans.Overrides(action_status={
        "deploy-freeze-window": {"status": "done", "date": dt.date(2026, 11, 11), "note": None},
        "one-command-rollback": {"status": "blocked", "date": None, "note": "waiting for CI"}})
    ranking = _ranking(("unsafe-deploys", True, ["deploy-freeze-window", "one-command-rollback"]))
    team = _team(("Nadia", "cto", 2), ("Priya", "platform", 5))
    plan = _build(ranking, team=team, overrides=o, today=dt.date(2026, 11, 25))
    by = _by_id(plan)
    assert (by["deploy-freeze-window"]["status"], by["deploy-freeze-window"]["done_date"]) == (
        "done", "2026-11-11")
    assert not by["deploy-freeze-window"]["overdue"]  # done: never overdue
    # blocked and due on 20 November, seen on the 25th: overdue, and the plan says so
    assert by["one-command-rollback"]["due"] == "2026-11-20" and by["one-command-rollback"]["overdue"]
    assert "one-command-rollback" in plan["overdue"]
    assert any("still open past the due date" in w and "one-command-rollback" in w for w in plan["warnings"])
    # the done action takes no one's time (Nadia's only week-1 action)
    nadia = next(p for p in plan["capacity"]["people"] if p["name"] == "Nadia")
    assert by["deploy-freeze-window"]["fits"] is None and nadia["weeks"][0]["load"] == 0
    # no start date: the Monday after the report date (a Monday report starts a week later)
    plan = _build(ranking, team=team, start=None, today=dt.date(2026, 11, 25))
    assert (plan["start_date"], plan["start_date_default"]) == ("2026-11-30", True)
    assert _build(ranking, start=None, today=dt.date(2026, 11, 30))["start_date"] == "2026-12-07"
    assert not _build(ranking, team=team, start=None, today=dt.date(2026, 11, 25))["overdue"]


def without_statuses(folder):
    """The sample's overrides without the statuses of its day-30 review, and reported today (not
    on its 6 November delivery date, which would hide statuses reached later): a plan just made."""
    path = folder / "overrides.yaml"
    data = yaml.safe_load(path.read_text())
    data["actions"].pop("status", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    settings = folder / "engagement.yaml"
    settings.write_text("\n".join(line for line in settings.read_text().splitlines()
                                  if not line.startswith("report_date:")) + "\n")


def test_status_is_edited_in_overrides_and_validated(sample_copy):
    without_statuses(sample_copy)
    catalog, library = plans.load_catalogs(sample_copy)
    plans.edit_overrides(sample_copy, catalog, library, action="saturation-alerts",
                         status=("done", dt.date(2026, 11, 12)))
    plans.edit_overrides(sample_copy, catalog, library, action="one-command-rollback",
                         status=("in progress", None))
    data = yaml.safe_load((sample_copy / "overrides.yaml").read_text())
    assert data["actions"]["status"] == {"saturation-alerts": {"status": "done", "date": "2026-11-12"},
                                         "one-command-rollback": "in progress"}
    assert data["actions"]["add"][0]["id"] == "pgbouncer"  # the rest of the file is kept
    # a plan reported before the status was reached does not know it yet
    early = _by_id(_plan(sample_copy, today=dt.date(2026, 11, 10))["plan"])
    assert early["saturation-alerts"]["status"] == "planned"
    by = _by_id(_plan(sample_copy, today=dt.date(2026, 11, 30))["plan"])
    assert (by["saturation-alerts"]["status"], by["saturation-alerts"]["done_date"]) == ("done", "2026-11-12")
    assert by["one-command-rollback"]["status"] == "in progress"
    plans.edit_overrides(sample_copy, catalog, library, action="one-command-rollback",
                         status=("planned", None))
    data = yaml.safe_load((sample_copy / "overrides.yaml").read_text())
    assert list(data["actions"]["status"]) == ["saturation-alerts"]
    with pytest.raises(risks.CatalogError, match="actions.status.saturation-alerts: expected one of planned"):
        plans.edit_overrides(sample_copy, catalog, library, action="saturation-alerts",
                             status=("finished", None))


PM = [
    {"incident_key": "pd:1", "title": "Raise pool size and add PgBouncer", "owner": "Priya", "due": None,
     "done": False},
    {"incident_key": "pd:2", "title": "Raise pool size and add PgBouncer", "owner": "Priya", "due": None,
     "done": True},
    {"incident_key": "pd:1", "title": "Add DB connection pool saturation alert", "owner": None,
     "due": None, "done": False},
    {"incident_key": "pd:3", "title": "Alert 21 days before any certificate expires", "owner": "Jonas",
     "due": dt.date(2026, 9, 24), "done": False},
    {"incident_key": "pd:3", "title": "Document the on-call handover", "owner": "Lea", "due": None,
     "done": False},
    {"incident_key": "pd:3", "title": "Buy a second coffee machine", "owner": "Lea", "due": None,
     "done": True},
]


def test_postmortem_items_are_linked_adopted_and_never_added_twice():
    add = {"id": "pgbouncer", "title": "Put PgBouncer in front of the database", "horizon": "7-30",
           "week": 3, "owner": "eng-lead", "matches": ["pgbouncer"]}
    ranking = _ranking(("capacity-saturation", True, ["saturation-alerts"]))
    team = _team(("Priya", "platform", 3), ("Marc", "eng-lead", 3))
    plan = _build(ranking, team=team, overrides=plans.Overrides(action_add=[add]), postmortems=PM)
    by = _by_id(plan)
    # the last record of a recurring item says done: the consultant's action is done, not re-added
    assert by["pgbouncer"]["status"] == "done" and by["pgbouncer"]["status_source"] == "postmortem"
    assert by["pgbouncer"]["postmortem"][0]["incidents"] == ["pd:1", "pd:2"]
    # an open item matching a plan action is linked; without an owner the role's person keeps it
    assert [g["title"] for g in by["saturation-alerts"]["postmortem"]] == [
        "Add DB connection pool saturation alert"]
    assert by["saturation-alerts"]["owner"] == "Priya"
    # an open item matching a library action outside the plan brings it in, with its owner
    cert = by["cert-expiry-monitoring"]
    assert (cert["reason"], cert["owner"], cert["postmortem"][0]["due"]) == (
        "postmortem", "Jonas", "2026-09-24")
    # an open item matching nothing is adopted as it is, with its owner (a person the plan counts)
    adopted = by["pm-document-the-on-call-handover"]
    assert (adopted["source"], adopted["owner"], adopted["effort"]) == ("postmortem", "Lea", "S")
    assert "Lea" in {p["name"] for p in plan["capacity"]["people"]}
    assert not any("coffee" in a["title"] for a in plan["actions"])  # done, and no part of the plan
    titles = [g["title"] for a in plan["actions"] for g in a["postmortem"]]
    assert len(titles) == len(set(titles)) == 4


def test_a_check_already_met_is_not_a_goal():
    ranking = _ranking(("no-incident-command", True, ["severity-playbook"]),
                       ("postmortem-follow-through", True, ["postmortem-backlog"]))
    metrics = {"severity_classified_share": 0.99, "postmortems": {"postmortem_rate": 0.5}}
    by = _by_id(_build(ranking, metrics=metrics))
    met, open_ = by["severity-playbook"]["verify"], by["postmortem-backlog"]["verify"]
    assert met["met"] and "already met: 99%" in met["watch"] and "not a goal" in met["watch"]
    assert not open_["met"] and "(now 50%)" in open_["watch"]
    # the check itself is the leading indicator the action moves, never the lagging rate
    assert met["text"].startswith("Severity table published")
    assert open_["text"].startswith("A postmortem written for every SEV1/SEV2")


@pytest.mark.parametrize(("consumed", "triggered", "week1_capacity"), [
    (2.5, True, 4.0),     # spent: twice the 2 days, until it recovers
    (1.0, False, 2.0),    # exactly all of it: not over
    (None, False, 2.0),   # not measurable
])
def test_the_error_budget_rule_moves_capacity_while_the_budget_is_spent(consumed, triggered, week1_capacity):
    metrics = {"availability": {"budget_consumed": consumed}}
    plan = _build(_ranking(("capacity-saturation", True, ["saturation-alerts"])), metrics=metrics,
                  team=_team(("Priya", "platform", 2)))
    rule = plan["error_budget_rule"]
    assert (rule["metric"], rule["threshold"], rule["value"], rule["triggered"]) == (
        "availability.budget_consumed", 1.0, consumed, triggered)
    priya = next(p for p in plan["capacity"]["people"] if p["name"] == "Priya")
    assert priya["weeks"][0]["capacity"] == week1_capacity and priya["weeks"][4]["capacity"] == 2.0
    if triggered:
        assert "spent 2.5× over" in rule["text"] and "4 person-days a week" in rule["text"]
        assert rule["weeks"] == [1, 2, 3, 4]


def test_answer_signals_are_checked_against_the_intake_that_feeds_the_risks(tmp_path):
    data = yaml.safe_load(risks.catalog_path(None, "risks.yaml").read_text())
    data["risks"][0]["signals"].append({"answer": "self.roles_clear", "weight": 1})
    (tmp_path / "risks.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(risks.CatalogError, match="answer: 'self.roles_clear' is not a question"):
        remediations.load_catalogs(tmp_path)


def test_the_plan_command_records_statuses_and_prints_decisions(sample_copy):
    from click.testing import CliRunner

    from assess.cli import main

    without_statuses(sample_copy)
    runner = CliRunner()
    r = runner.invoke(main, ["plan", str(sample_copy), "--status", "saturation-alerts=done@2026-11-12",
                             "--status", "pm-add-smoke-tests-to-the-deploy-pipeline=in-progress",
                             "--status", "one-command-rollback=blocked"])
    assert r.exit_code == 0, r.output
    status = yaml.safe_load((sample_copy / "overrides.yaml").read_text())["actions"]["status"]
    assert status == {"saturation-alerts": {"status": "done", "date": "2026-11-12"},
                      "pm-add-smoke-tests-to-the-deploy-pipeline": "in progress",
                      "one-command-rollback": "blocked"}
    out = r.output
    assert "Alert on saturation before the limit (DB pools, disks, memory, queues) - Priya Raman " \
           "(done 2026-11-12)" in out
    assert "[done] Map the last 90 days of incidents - Camille Laurent (the engagement's diagnostic)" in out
    assert "Error-budget rule: The error budget is spent" in out
    assert "Decisions needed" in out and "person-days it needs by" in out
    r = runner.invoke(main, ["plan", str(sample_copy), "--json"])
    plan = json.loads(r.output)
    for key in ("diagnostic", "capacity", "decisions", "error_budget_rule", "overdue", "postmortem_items"):
        assert key in plan
    smoke = next(a for a in plan["actions"] if a["id"] == "pm-add-smoke-tests-to-the-deploy-pipeline")
    assert smoke["status"] == "in progress"
    for bad, message in (("saturation-alerts", "expected ACTION=STATUS"),
                         ("saturation-alerts=done@soon", "'soon' is not a date"),
                         ("no-such=done", "actions.status.no-such: unknown action")):
        r = runner.invoke(main, ["plan", str(sample_copy), "--status", bad])
        assert r.exit_code != 0 and message in r.output, r.output


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_report_shows_status_overdue_capacity_and_the_rule(lang):
    from assess import report

    a = analysis.analyse(SAMPLE)
    today = dt.date(2026, 11, 30)  # three weeks into the sample's plan
    j = analysis.judgement(a, lang, today=today)
    plan = j["plan"]
    assert plan["overdue"]
    ctx = report.build_context(a, lang, _svgs(a), judgement=j)
    html = report.render_html("assessment.html", ctx)
    t, _ = report.translator(lang)
    reset = html.split('id="reset"')[1].split('id="roadmap"')[0].replace("&#39;", "'")
    overdue_notice = str(t("plan_overdue", date="X", n=len(plan["overdue"]))).split("X")[1][:30]
    assert overdue_notice in reset
    assert reset.count(str(t("overdue"))) >= len(plan["overdue"])
    assert plan["error_budget_rule"]["text"].split("(")[0].strip() in reset
    for d in plan["decisions"]:
        assert d["text"].split(":")[0] in reset
    assert str(t("status_done")) in reset  # PgBouncer, done in a postmortem
    assert plan["diagnostic"][0]["title"] in reset


def _svgs(a):
    from assess import charts

    return {name: "<svg xmlns='http://www.w3.org/2000/svg'/>"
            for name in charts.report_figures(a.metrics, "#000000", "#000000")}


@pytest.mark.parametrize(("team", "message"), [
    ("team: {people: [{name: Priya, days_per_week: lots}]}",
     "key 'team.people[0].days_per_week': expected a number"),
    ("team: {people: [{name: Priya}, {name: priya}]}", "key 'team.people[1].name': expected a name not"),
    ("team: {people: [{name: Priya, days_per_week: 9}]}", "between 0 and 7"),
    ("team: {size: 2.5}", "key 'team.size': expected a whole number"),
    ("team: {crew: []}", "key 'team': expected a mapping with size"),
])
def test_team_settings_are_validated_naming_the_key(tmp_path, team, message):
    from assess.engagement import EngagementError

    root = write_engagement(tmp_path / "e", "client: {name: A}\nconsultant: {name: B}\n"
                                            "window: {end: 2026-10-31}\n" + team + "\n")
    with pytest.raises(EngagementError, match=re.escape(message)):
        load_engagement(root)


def test_a_consultant_risk_is_validated_ranked_and_edited(sample_copy):
    from assess import analysis, overrides

    catalog, library = plans.load_catalogs(sample_copy)
    # a catalog id, a likelihood above 1: refused with the file, the entry and the key
    with pytest.raises(risks.CatalogError) as exc:
        overrides.edit_overrides(sample_copy, catalog, library, risk_add={
            "id": "unsafe-deploys", "title": "T", "finding": "F", "likelihood": 1.5, "impact": 3})
    assert "risks.add[0]: id: expected a new risk id" in str(exc.value)
    assert "risks.add[0]: likelihood: expected a number above 0 and at most 1" in str(exc.value)
    overrides.edit_overrides(sample_copy, catalog, library, risk_add={
        "id": "key-person", "title": "The CTO signs every release", "finding": "F",
        "likelihood": 0.5, "impact": 4, "actions": ["restore-drill"]})
    ranked = analysis.judgement(analysis.analyse(sample_copy))["risks"]
    own = next(r for r in ranked if r["id"] == "key-person")
    assert own["score"] == 2.0 and own["source"] == "consultant" and not own["top"]
    scores = [r["score"] for r in ranked if r["has_evidence"] and not r.get("dropped")]
    assert scores == sorted(scores, reverse=True)  # ranked in by its score
    overrides.edit_overrides(sample_copy, catalog, library, risk="key-person",
                             risk_edit={"finding": "Every release waits for the CTO."})
    ranked = analysis.judgement(analysis.analyse(sample_copy))["risks"]
    assert next(r for r in ranked if r["id"] == "key-person")["finding"] == \
        "Every release waits for the CTO."


def test_the_capacity_table_lists_everyone_the_rule_counts():
    """The rule's person-days are the sum of the rows the report lists: the team (even with
    nothing planned yet) and whoever else carries an action; an owner with no work is not
    capacity (the sample's consultant, named for her role in overrides.yaml)."""
    a = analysis.analyse(SAMPLE)
    plan = analysis.judgement(a, "en")["plan"]
    rule, people = plan["error_budget_rule"], plan["capacity"]["people"]
    listed = [p for p in people if p["counted"]]
    assert rule["days_per_week"]["normal"] == sum(p["days_per_week"] for p in listed)
    assert rule["days_per_week"]["budget_spent"] == sum(p["days_per_week_budget_spent"]
                                                        for p in listed)
    team = {p.name for p in a.engagement.team.people}
    assert {p["name"] for p in listed} == team | {p["name"] for p in people if p["load"] > 0}
    idle = [p for p in people if not p["counted"]]
    assert idle and all(p["load"] == 0 and p["source"] != "team" for p in idle)
    # the report prints the same totals in its capacity table's last row
    from assess import report

    ctx = report.build_context(a, "en", _svgs(a), judgement=analysis.judgement(a, "en"))
    html = report.render_html("assessment.html", ctx)
    foot = html.split("<tfoot>")[1].split("</tfoot>")[0]
    days = rule["days_per_week"]
    assert f"{days['normal']} → {days['budget_spent']}" in foot
    assert f"{round(sum(p['load'] for p in listed), 2)}" in foot


def test_an_owner_shows_their_own_role_and_the_role_the_action_asks():
    a = analysis.analyse(SAMPLE)
    plan = analysis.judgement(a, "en")["plan"]
    roles = {p["name"]: p["role_label"] for p in plan["capacity"]["people"]}
    for x in plan["actions"]:
        if not x.get("owner") or not x.get("owner_label"):
            continue
        mine = roles.get(x["owner"])
        if mine == x["owner_label"]:
            assert x["owner_note"] == mine
        elif mine:
            assert x["owner_note"] == f"{mine}, for the {x['owner_label']}"
    roadmap = next(x for x in plan["actions"] if x["id"] == "lock-roadmap")
    assert roadmap["owner"] == "Nadia Haddad" and roadmap["owner_note"].startswith("CTO, for the")


def test_a_late_action_that_misses_its_staggered_weeks_takes_earlier_free_weeks():
    """Later actions are staggered through weeks 5-13; one that does not fit from its staggered
    week but fits in the free weeks before it is placed there, never left waiting for a decision
    beside idle weeks (Marc, 1.5 days a week: 3.5 days from week 5, then 10 days that weeks 9-13
    cannot hold but weeks 5-13 can)."""
    ranking = _ranking(("no-incident-command", True, ["incident-drill"]),
                       ("capacity-saturation", True, ["split-workloads"]))
    plan = _build(ranking, team=_team(("Marc", "eng-lead", 1.5)))
    by = _by_id(plan)
    drill, split = by["incident-drill"], by["split-workloads"]
    assert drill["fits"] and drill["start_week"] == 5
    assert split["fits"] and split["start_week"] == 5
    assert "split-workloads" not in {x["action"] for x in plan["capacity"]["overflow"]}
    marc = next(p for p in plan["capacity"]["people"] if p["name"] == "Marc")
    assert all(w["load"] <= w["capacity"] + 1e-9 for w in marc["weeks"])
    assert sum(w["load"] for w in marc["weeks"][4:]) == pytest.approx(13.5)  # weeks 5-13 full


def test_a_decision_speaks_of_the_due_date_the_plan_shows():
    ranking = _ranking(("capacity-saturation", True, ["split-workloads", "capacity-review"]))
    plan = _build(ranking, team=_team(("Nadia", "cto", 0.5), ("Marc", "eng-lead", 0.5)))
    for x in plan["capacity"]["overflow"]:
        action = _by_id(plan)[x["action"]]
        assert not action["fits"] and x["by"] == action["due"]
        assert plans.fmt_date(dt.date.fromisoformat(action["due"]), "en") in x["decision"]


def test_a_done_action_followed_by_a_major_incident_of_its_risk_is_to_be_checked():
    """The sample's PgBouncer item is done in the October postmortem (due 25 October, a local
    day), and a SEV1 pool exhaustion came on 28 October: the plan does not count it as a fix on
    its word; actions done with nothing after them carry no mark."""
    a = analysis.analyse(SAMPLE)
    items = analysis.postmortem_items(a)
    assert dt.date(2026, 10, 25) in {i["due"] for i in items
                                     if i["title"] == "Raise pool size and add PgBouncer"}
    plan = analysis.judgement(a, "en")["plan"]
    by = _by_id(plan)
    flag = by["pgbouncer"]["recurred_after_done"]
    assert flag["since"] == "2026-10-25"
    assert [(i["severity"], i["started"][:10]) for i in flag["incidents"]] == [("SEV1", "2026-10-28")]
    assert flag["text"] in plan["warnings"]
    done = [x for x in plan["actions"] if x["status"] == "done" and x["id"] != "pgbouncer"]
    assert done and not any(x.get("recurred_after_done") for x in done)
