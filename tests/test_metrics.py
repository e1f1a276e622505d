"""Metrics against hand computations on small tables, and invariants as hypothesis properties."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assess import metrics
from assess.incidents import ACTION_COLUMNS, DEPLOY_COLUMNS, empty, typed

UTC = "UTC"


def S(**kw) -> metrics.Settings:  # noqa: N802 - reads like a constructor
    base = {"start": pd.Timestamp("2026-01-01T00:00Z"), "end": pd.Timestamp("2026-04-01T00:00Z"),
            "timezone": UTC}
    base.update(kw)
    return metrics.Settings(**base)


def incidents(*rows: dict) -> pd.DataFrame:
    out = []
    for i, r in enumerate(rows):
        r = dict(r)
        r.setdefault("key", f"t:{i}")
        r.setdefault("external_id", str(i))
        r.setdefault("title", f"incident {i}")
        out.append(r)
    return typed(pd.DataFrame(out))


def compute(df, s=None, deploys=None, actions=None):
    return metrics.compute(df, deploys if deploys is not None else empty(DEPLOY_COLUMNS),
                           actions if actions is not None else empty(ACTION_COLUMNS), s or S())


def test_durations_by_hand():
    df = incidents(
        {"severity": "SEV1", "impact_start": "2026-02-01T10:00Z", "detected": "2026-02-01T10:10Z",
         "acknowledged": "2026-02-01T10:12Z", "mitigated": "2026-02-01T10:40Z",
         "resolved": "2026-02-01T11:00Z"},
        {"severity": "SEV2", "detected": "2026-02-02T10:00Z", "acknowledged": "2026-02-02T10:30Z",
         "resolved": "2026-02-02T12:00Z"},
        {"severity": "SEV2", "detected": "2026-02-03T10:00Z", "resolved": "2026-02-03T10:20Z"},
    )
    m = compute(df)
    assert m["incident_count"] == 3
    mttd = m["mttd_minutes"]
    assert (mttd["median"], mttd["p90"], mttd["mean"], mttd["max"], mttd["n"]) == (10, 10, 10, 10, 1)
    # one value among three incidents: the basis says so, and the grade is D (indicative)
    assert (mttd["incidents"], mttd["missing"], mttd["coverage"], mttd["grade"]) == (3, 2, 0.3333, "D")
    assert m["mtta_minutes"]["median"] == 16.0 and m["mtta_minutes"]["n"] == 2  # (2 + 30) / 2
    # time to resolve, from detection, for all three: 50, 120, 20 (never from the impact start)
    assert m["mttr_minutes"]["median"] == 50.0
    assert m["mttr_minutes"]["mean"] == pytest.approx(63.3)
    assert m["mttr_minutes"]["max"] == 120.0
    assert m["mttr_minutes"]["p90"] == pytest.approx(106.0)  # linear: 50 + 0.8 * 70
    assert m["mttr_minutes"]["fallbacks"] == 0
    # time to restore, from impact start: only where it is known (60)
    assert m["time_to_restore_minutes"]["median"] == 60.0 and m["time_to_restore_minutes"]["n"] == 1
    # time to mitigate: only the recorded mitigation (30); no stand-in from resolution
    assert m["mttm_minutes"]["median"] == 30.0 and m["mttm_minutes"]["n"] == 1
    assert m["mttm_minutes"]["missing"] == 2
    assert m["by_severity"]["SEV2"]["count"] == 2
    assert m["by_severity"]["SEV2"]["mttr_minutes"]["median"] == 70.0


def test_overlapping_outages_are_merged_and_partial_weighted():
    df = incidents(
        {"severity": "SEV1", "detected": "2026-02-01T10:00Z", "resolved": "2026-02-01T11:00Z"},
        {"severity": "SEV1", "detected": "2026-02-01T10:30Z", "resolved": "2026-02-01T11:30Z"},
        # a partial outage inside the first: already counted at full weight
        {"severity": "SEV2", "impact": "partial", "detected": "2026-02-01T10:10Z",
         "resolved": "2026-02-01T10:20Z"},
        # a partial outage alone: 40 min x 0.5
        {"severity": "SEV2", "impact": "partial", "detected": "2026-02-10T00:00Z",
         "resolved": "2026-02-10T00:40Z"},
        # SEV3 without outage impact: no downtime
        {"severity": "SEV3", "detected": "2026-02-11T00:00Z", "resolved": "2026-02-11T05:00Z"},
    )
    m = compute(df)
    feb = next(r for r in m["availability_by_month"] if r["month"] == "2026-02")
    assert feb["downtime_minutes"] == 110.0  # 90 merged + 20 weighted
    minutes = 28 * 24 * 60
    assert feb["minutes"] == minutes
    assert feb["availability"] == pytest.approx(1 - 110 / minutes, abs=1e-6)
    assert feb["error_budget_minutes"] == pytest.approx(0.001 * minutes, abs=0.05)  # 40.3 min
    assert feb["budget_consumed"] == pytest.approx(110 / (0.001 * minutes), abs=1e-3)
    assert feb["sla_met"] is False


def test_thirty_day_month_budget_is_43_2_minutes():
    m = compute(incidents(), S(start=pd.Timestamp("2026-04-01T00:00Z"),
                               end=pd.Timestamp("2026-05-01T00:00Z")))
    assert m["availability_by_month"][0]["error_budget_minutes"] == 43.2
    assert m["availability_by_month"][0]["availability"] == 1.0


def test_outage_spanning_a_month_boundary_is_split():
    df = incidents({"severity": "SEV1", "detected": "2026-01-31T23:30Z",
                    "resolved": "2026-02-01T00:45Z"})
    months = {r["month"]: r for r in compute(df)["availability_by_month"]}
    assert months["2026-01"]["downtime_minutes"] == 30.0
    assert months["2026-02"]["downtime_minutes"] == 45.0


def test_unresolved_and_pre_window_incidents():
    df = incidents(
        # began before the window, lasted into it: not counted, but its downtime is clipped in
        {"key": "old", "severity": "SEV1", "detected": "2025-12-31T23:00Z",
         "resolved": "2026-01-01T01:00Z"},
        # still open at the window end: no end time, so never downtime; listed, not hidden
        {"key": "open", "severity": "SEV1", "detected": "2026-03-31T23:00Z"},
    )
    m = compute(df)
    assert m["incident_count"] == 1 and m["open_incidents"] == 1
    assert m["mttr_minutes"]["n"] == 0
    months = {r["month"]: r["downtime_minutes"] for r in m["availability_by_month"]}
    assert months == {"2026-01": 60.0, "2026-02": 0.0, "2026-03": 0.0}
    assert m["availability"]["carried_in"] == ["old"]
    assert m["availability"]["open_excluded"] == ["open"]
    assert m["data_quality"]["open_in_window"] == ["open"]
    assert (m["data_quality"]["before_window"], m["data_quality"]["in_window"]) == (1, 1)


def test_partial_months_are_prorated_and_marked():
    s = S(start=pd.Timestamp("2026-01-16T00:00Z"), end=pd.Timestamp("2026-03-01T00:00Z"))
    rows = compute(incidents(), s)["availability_by_month"]
    assert [(r["month"], r["partial"], r["minutes"]) for r in rows] == [
        ("2026-01", True, 16 * 1440.0), ("2026-02", False, 28 * 1440.0)]


def test_months_follow_local_time_across_daylight_saving():
    # Paris: UTC+1 in winter, UTC+2 from 29 March 2026; March has 31*1440 - 60 minutes.
    s = S(start=pd.Timestamp("2026-02-28T23:00Z"), end=pd.Timestamp("2026-03-31T22:00Z"),
          timezone="Europe/Paris")
    df = incidents({"severity": "SEV1", "detected": "2026-02-28T23:10Z",  # 00:10 on 1 March, local
                    "resolved": "2026-02-28T23:40Z"})
    m = compute(df, s)
    assert [r["month"] for r in m["availability_by_month"]] == ["2026-03"]
    assert m["availability_by_month"][0]["minutes"] == 31 * 1440 - 60
    assert m["by_month"] == {"2026-03": 1}


def test_mixed_time_zones_in_input_are_one_instant():
    a = incidents({"detected": "2026-02-01T10:00+02:00", "resolved": "2026-02-01T09:00Z"})
    assert compute(a)["mttr_minutes"]["median"] == 60.0


def test_recurrence_by_root_cause_and_similar_titles():
    df = incidents(
        {"title": "[api] DB connection pool exhausted", "service": "api",
         "root_cause": "db-pool", "detected": "2026-01-05T10:00Z", "severity": "SEV1"},
        {"title": "[api] DB connection pool exhausted (again)", "service": "api",
         "detected": "2026-01-20T10:00Z", "severity": "SEV2"},
        {"title": "[api] DB connection pool exhausted", "service": "api",
         "detected": "2026-03-20T10:00Z", "severity": "SEV2"},  # 59 days later: not a recurrence
        {"title": "Certificate expired", "service": "edge", "detected": "2026-01-21T10:00Z"},
    )
    rec = compute(df)["recurrence"]
    assert rec["recurring"] == 1 and rec["rate"] == 0.25
    assert rec["classes"][0]["class"] == "db-pool @ api"
    assert rec["classes"][0]["incidents"] == 3


def test_mitigation_sla_per_severity():
    df = incidents(
        {"severity": "SEV1", "detected": "2026-02-01T10:00Z", "mitigation_started": "2026-02-01T10:04Z"},
        {"severity": "SEV1", "detected": "2026-02-02T10:00Z", "mitigation_started": "2026-02-02T10:06Z"},
        {"severity": "SEV1", "detected": "2026-02-03T10:00Z"},  # nothing measured
    )
    sla = compute(df)["mitigation_sla"]["SEV1"]
    assert (sla["incidents"], sla["measured"], sla["met"], sla["rate"]) == (3, 2, 1, 0.5)
    assert sla["missed"] == ["t:1"]


def test_postmortems_and_action_items():
    df = incidents(
        {"key": "a", "severity": "SEV1", "detected": "2026-02-01T10:00Z",
         "resolved": "2026-02-01T11:00Z", "postmortem_at": "2026-02-02T11:00Z"},  # 24 h
        {"key": "b", "severity": "SEV2", "detected": "2026-02-05T10:00Z",
         "resolved": "2026-02-05T11:00Z", "postmortem_at": "2026-02-09T11:00Z"},  # 96 h
        {"key": "c", "severity": "SEV2", "detected": "2026-02-07T10:00Z"},  # none
        {"key": "d", "severity": "SEV3", "detected": "2026-02-08T10:00Z"},  # not major
    )
    actions = typed(pd.DataFrame([
        {"incident_key": "a", "title": "x", "owner": "Ana", "due": "2026-02-10T00:00Z", "done": True},
        {"incident_key": "a", "title": "y", "owner": "Ana", "due": "2026-02-10T00:00Z", "done": False},
        {"incident_key": "b", "title": "z", "owner": None, "due": None, "done": False},
    ]), ACTION_COLUMNS)
    pm = compute(df, actions=actions)["postmortems"]
    assert (pm["major_incidents"], pm["with_postmortem"], pm["within_48h"]) == (3, 2, 1)
    assert pm["postmortem_rate"] == pytest.approx(0.6667, abs=1e-4)
    assert pm["within_48h_rate"] == 0.5
    assert (pm["action_items"], pm["action_items_with_owner_and_due"], pm["action_items_overdue"]) \
        == (3, 2, 1)
    assert pm["missing"] == ["c"]


def test_change_related_incidents_and_failure_rate():
    deploys = typed(pd.DataFrame([
        {"key": "d1", "deployed_at": "2026-02-06T16:30Z", "service": "api", "outcome": "rolled_back"},
        {"key": "d2", "deployed_at": "2026-02-06T17:00Z", "service": "web", "outcome": "success"},
        {"key": "d3", "deployed_at": "2026-02-09T09:00Z", "service": "api", "outcome": "success"},
        {"key": "d4", "deployed_at": "2026-02-10T09:00Z", "service": "api", "outcome": "success"},
    ]), DEPLOY_COLUMNS)
    df = incidents(
        {"service": "api", "detected": "2026-02-06T17:45Z"},  # 75 min after d1: related
        {"service": "api", "detected": "2026-02-09T12:00Z"},  # 3 h after d3: not related
        {"service": "db", "detected": "2026-02-06T17:10Z"},  # other service
    )
    ch = compute(df, deploys=deploys)["change_failure_rate"]
    assert ch["change_related_incidents"] == 1 and ch["incidents"] == ["t:0"]
    assert ch["deploys"] == 4 and ch["change_failure_rate"] == 0.25
    assert ch["rolled_back"] == 1
    assert ch["friday_after_16h"] == 2  # 6 Feb 2026 is a Friday


def test_on_call_load_in_local_time():
    df = incidents({"detected": "2026-02-02T07:30Z"},  # Monday 08:30 Paris: before 09:00
                   {"detected": "2026-02-02T09:30Z"},  # Monday 10:30: business hours
                   {"detected": "2026-02-07T12:00Z"})  # Saturday
    oc = compute(df, S(timezone="Europe/Paris"))["on_call"]
    assert (oc["out_of_hours"], oc["weekend"]) == (2, 1)


def test_maturity_levels_from_mttr_and_practice():
    titles = ["Login slow", "Disk full on worker", "Certificate expired", "Queue backlog",
              "Search index stale"]
    fast = incidents(*[{"severity": "SEV3", "detected": f"2026-02-{d:02d}T10:00Z",
                        "resolved": f"2026-02-{d:02d}T10:08Z", "title": t}
                       for d, t in enumerate(titles, start=1)])
    m = compute(fast)
    assert m["maturity"]["by_mttr"] == "Proactive" and m["maturity"]["level"] == "Proactive"
    slow = incidents({"severity": "SEV1", "detected": "2026-02-01T10:00Z",
                      "resolved": "2026-02-01T13:00Z"})
    m = compute(slow)
    assert m["maturity"]["level"] == "Reactive"
    assert any("had a postmortem" in r for r in m["maturity"]["reasons"])


def test_empty_engagement():
    m = compute(incidents())
    assert m["incident_count"] == 0 and m["mttr_minutes"]["n"] == 0
    assert m["recurrence"]["rate"] is None
    assert all(r["availability"] == 1.0 for r in m["availability_by_month"])


# --- properties -----------------------------------------------------------------------------

START = pd.Timestamp("2026-01-01T00:00Z")
incident_st = st.builds(
    lambda offset, length, sev, impact: {
        "detected": START + pd.Timedelta(minutes=offset),
        "resolved": START + pd.Timedelta(minutes=offset + length),
        "severity": sev, "impact": impact},
    st.integers(min_value=-5000, max_value=140_000), st.integers(min_value=1, max_value=20_000),
    st.sampled_from(["SEV1", "SEV2", "SEV3"]), st.sampled_from([None, "outage", "partial"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(incident_st, max_size=25))
def test_downtime_bounded_and_availability_in_unit_interval(rows):
    m = compute(incidents(*rows))
    for r in m["availability_by_month"]:
        assert 0 <= r["downtime_minutes"] <= r["minutes"]
        assert 0.0 <= r["availability"] <= 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(incident_st, max_size=15), incident_st)
def test_adding_an_incident_never_lowers_downtime(rows, extra):
    before = compute(incidents(*rows))["availability"]["downtime_minutes"]
    after = compute(incidents(*rows, extra))["availability"]["downtime_minutes"]
    assert after >= before - 0.1  # rounding to 0.1 min


@settings(max_examples=30, deadline=None)
@given(st.lists(incident_st, min_size=1, max_size=15), st.randoms(use_true_random=False))
def test_metrics_do_not_depend_on_row_order(rows, rnd):
    df = incidents(*rows)
    shuffled = df.sample(frac=1, random_state=rnd.randint(0, 10_000)).reset_index(drop=True)
    assert compute(df) == compute(shuffled)


def test_month_charts_keep_every_month_as_a_category():
    from assess import charts

    m = compute(incidents({"severity": "SEV1", "detected": "2026-01-05T10:00Z",
                           "resolved": "2026-01-05T11:00Z"}),
                S(start=pd.Timestamp("2026-01-16T00:00Z"), end=pd.Timestamp("2026-04-01T00:00Z")))
    for fig in (charts.availability_by_month(m), charts.error_budget(m)):
        d = fig.to_dict()
        assert d["layout"]["xaxis"]["type"] == "category"
        assert list(d["data"][0]["x"]) == ["2026-01 *", "2026-02", "2026-03"]


def test_change_window_edges_and_latest_deploy_blamed():
    deploys = typed(pd.DataFrame([
        {"key": "d1", "deployed_at": "2026-02-02T08:00Z", "service": "api", "outcome": "success"},
        {"key": "d2", "deployed_at": "2026-02-02T09:00Z", "service": "api", "outcome": "success"},
        {"key": "d3", "deployed_at": "2026-02-03T09:00Z", "service": "api", "outcome": "success"},
    ]), DEPLOY_COLUMNS)
    df = incidents(
        {"service": "api", "detected": "2026-02-02T10:00Z"},  # 60 min after d2 (and 120 after d1)
        {"service": "api", "detected": "2026-02-03T11:00Z"},  # exactly 120 min after d3: inside
        {"service": "api", "detected": "2026-02-03T11:01Z"},  # 121 min after d3: outside
    )
    ch = compute(df, deploys=deploys)["change_failure_rate"]
    assert ch["incidents"] == ["t:0", "t:1"]
    # d2 is blamed for the first incident (the latest deploy before it), d3 for the second
    assert ch["deploys_followed_by_incident"] == 2 and ch["change_failure_rate"] == round(2 / 3, 4)


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
@settings(max_examples=200, deadline=None)
def test_vectorised_title_normalisation_equals_the_scalar_one(title):
    vector = metrics.normalise_titles(pd.Series([title], dtype="string"))
    assert vector.iloc[0] == metrics.normalise_title(title)


@given(st.datetimes(min_value=pd.Timestamp("2026-01-01").to_pydatetime(),
                    max_value=pd.Timestamp("2026-03-31").to_pydatetime()))
@settings(max_examples=60, deadline=None)
def test_vectorised_business_hours_equal_the_engagement_rule(moment):
    s = S(timezone="Europe/Paris")
    detected = pd.Timestamp(moment, tz="UTC")
    oc = compute(incidents({"detected": detected}), s)["on_call"]
    local = detected.tz_convert("Europe/Paris").to_pydatetime()
    assert oc["out_of_hours"] == (0 if s.business_hours.contains(local) else 1)


def test_durations_per_month_and_service_by_hand():
    df = incidents(
        {"service": "api", "impact_start": "2026-01-10T10:00Z", "detected": "2026-01-10T10:10Z",
         "acknowledged": "2026-01-10T10:12Z", "resolved": "2026-01-10T11:00Z"},
        {"service": "api", "impact_start": "2026-02-10T10:00Z", "detected": "2026-02-10T10:30Z",
         "acknowledged": "2026-02-10T10:31Z", "resolved": "2026-02-10T12:00Z"},
        {"service": "web", "detected": "2026-02-11T10:00Z", "resolved": "2026-02-11T10:20Z"},
    )
    m = compute(df)
    api = m["durations_by_service"]["api"]
    assert api["count"] == 2
    assert (api["mttd_minutes"]["median"], api["mttd_minutes"]["max"]) == (20, 30)
    assert api["mttr_minutes"]["median"] == 70  # from detection: (50 + 90) / 2
    assert api["time_to_restore_minutes"]["median"] == 90  # from impact start: (60 + 120) / 2
    feb = m["durations_by_month"]["2026-02"]
    assert feb["count"] == 2 and feb["mtta_minutes"]["n"] == 1
    assert feb["mttr_minutes"]["median"] == 55  # from detection: (90 + 20) / 2
    assert feb["time_to_restore_minutes"]["n"] == 1  # web has no impact start: not blended in


# --- the audit rules (one rule per figure, its basis and confidence) ---------------------------


def test_years_of_old_unresolved_incidents_leave_availability_as_it_was():
    window = incidents({"key": "w", "severity": "SEV1", "detected": "2026-02-01T10:00Z",
                        "resolved": "2026-02-01T11:00Z"})
    before = compute(window)["availability"]
    old = [{"key": f"old:{i}", "severity": "SEV1", "impact": "outage",
            "detected": f"20{10 + i}-05-01T00:00Z"} for i in range(5)]
    m = compute(incidents(*window.to_dict("records"), *old))
    assert m["availability"]["availability"] == before["availability"]
    assert m["availability"]["downtime_minutes"] == 60.0
    assert m["availability"]["open_excluded"] == [f"old:{i}" for i in range(5)]
    assert m["incident_count"] == 1 and m["data_quality"]["before_window"] == 5


def test_one_impact_rule_whatever_the_source():
    base = {"detected": "2026-02-01T10:00Z", "resolved": "2026-02-01T11:00Z"}
    # no impact recorded (a PagerDuty row): the severity mapping decides, SEV2 -> partial
    pd_row = compute(incidents({"severity": "SEV2", **base}))
    jira_row = compute(incidents({"severity": "SEV2", "impact": "partial", **base}))
    assert pd_row["availability"]["downtime_minutes"] == 30.0  # 60 min x 0.5
    assert jira_row["availability"]["downtime_minutes"] == 30.0
    assert pd_row["availability"]["impact_from_severity"] == 1
    assert jira_row["availability"]["impact_from_source"] == 1
    # the source's own impact wins over the mapping: a SEV1 recorded as partial weighs 0.5
    assert compute(incidents({"severity": "SEV1", "impact": "partial", **base})
                   )["availability"]["downtime_minutes"] == 30.0
    # the engagement sets the mapping
    s = S(impact_by_severity=(("SEV1", "outage"), ("SEV2", "none")))
    assert compute(incidents({"severity": "SEV2", **base}), s)["availability"]["downtime_minutes"] == 0


def test_out_of_order_timeline_is_listed_and_not_measured():
    df = incidents(
        # an expired certificate: impact from 02:00, detected at 07:55, "mitigated" typed as 03:35
        {"key": "cert", "severity": "SEV1", "provenance": "jira.csv:3",
         "impact_start": "2026-02-01T02:00Z", "detected": "2026-02-01T07:55Z",
         "mitigated": "2026-02-01T03:35Z", "resolved": "2026-02-01T09:45Z"})
    m = compute(df)
    assert m["mttm_minutes"]["n"] == 0 and m["mttm_minutes"]["out_of_order"] == 1
    assert m["mttm_minutes"]["coverage"] == 0.0
    # the outage cannot have been seen to end before it was detected: 02:00 -> 07:55
    assert m["availability"]["downtime_minutes"] == 355.0
    assert m["availability"]["end_moved_to_detection"] == ["cert"]
    dq = m["data_quality"]
    assert dq["timeline_out_of_order"] == 1
    assert dq["timeline_problems"] == [{"key": "cert", "issue": "mitigated 260 min before detected",
                                        "provenance": "jira.csv:3"}]
    # the other durations of the same incident stand: 355 to detect, 110 to resolve
    assert (m["mttd_minutes"]["median"], m["mttr_minutes"]["median"]) == (355.0, 110.0)
    assert m["time_to_restore_minutes"]["median"] == 465.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 600), st.integers(0, 600), st.booleans()), min_size=1,
                max_size=8))
def test_restore_is_detect_plus_resolve_for_every_incident(rows):
    t0 = pd.Timestamp("2026-02-01T00:00Z")
    data = [{"impact_start": t0 + pd.Timedelta(hours=i) if known else None,
             "detected": t0 + pd.Timedelta(hours=i, minutes=ttd),
             "resolved": t0 + pd.Timedelta(hours=i, minutes=ttd + ttr)}
            for i, (ttd, ttr, known) in enumerate(rows)]
    table = metrics.enrich(incidents(*data), empty(DEPLOY_COLUMNS), empty(ACTION_COLUMNS), S())
    known = table["impact_start"].notna()
    assert (table.loc[known, "ttrestore"] == table.loc[known, "ttd"] + table.loc[known, "ttr"]).all()
    assert table.loc[~known, "ttrestore"].isna().all()


def test_mitigation_target_never_substitutes_a_missing_start():
    df = incidents(
        {"severity": "SEV1", "detected": "2026-02-01T10:00Z", "mitigation_started": "2026-02-01T10:03Z",
         "mitigated": "2026-02-01T10:30Z", "resolved": "2026-02-01T11:00Z"},
        # no mitigation start recorded: not measurable, never "missed" from its mitigated time
        {"severity": "SEV1", "detected": "2026-02-02T10:00Z", "mitigated": "2026-02-02T12:00Z",
         "resolved": "2026-02-02T13:00Z"},
    )
    sla = compute(df)["mitigation_sla"]["SEV1"]
    assert (sla["incidents"], sla["measured"], sla["met"], sla["rate"]) == (2, 1, 1, 1.0)
    assert (sla["not_recorded"], sla["coverage"], sla["missed"]) == (1, 0.5, [])


def test_headlines_for_sev1_sev2_beside_all_severities():
    rows = []
    titles = ["Checkout down", "Login errors for SSO tenants", "Webhooks delayed", "Invoices blank"]
    for i in range(4):  # 4 distinct majors, 2 reported by customers
        rows.append({"severity": "SEV1" if i == 0 else "SEV2", "title": titles[i],
                     "detection_source": "customer" if i < 2 else "alert",
                     "detected": f"2026-02-0{i + 1}T10:00Z", "resolved": f"2026-02-0{i + 1}T12:00Z"})
    for i in range(6):  # 6 alerts of the same low-severity family, recurring
        rows.append({"severity": "SEV4", "title": "disk usage above 90%", "detection_source": "alert",
                     "detected": f"2026-03-0{i + 1}T10:00Z", "resolved": f"2026-03-0{i + 1}T10:10Z"})
    m = compute(incidents(*rows))
    ci = m["customer_impact"]
    assert (ci["customer_reported_share"], ci["major_customer_reported_share"]) == (0.2, 0.5)
    assert (m["recurrence"]["rate"], m["recurrence"]["major_rate"]) == (0.5, 0.0)
    assert m["headline"]["count"] == 4 and m["headline"]["mttr_minutes"]["median"] == 120.0
    assert m["headline"]["customer_reported_share"] == 0.5
    assert m["mttr_minutes"]["median"] == 10.0  # all severities: the SEV4 noise dominates


def test_dora_change_failure_rate_from_the_deploy_log():
    deploys = typed(pd.DataFrame([
        {"key": "d:1", "deployed_at": "2026-02-02T10:00Z", "service": "api", "outcome": "success"},
        {"key": "d:2", "deployed_at": "2026-02-03T10:00Z", "service": "api", "outcome": "rolled_back"},
        {"key": "d:3", "deployed_at": "2026-02-04T10:00Z", "service": "api", "outcome": "success"},
        {"key": "d:4", "deployed_at": "2026-02-05T10:00Z", "service": "web", "outcome": "success"},
    ]), DEPLOY_COLUMNS)
    df = incidents(
        # 30 min after d:1, no recorded cause: change related by time, d:1 failed
        {"key": "i:1", "service": "api", "detected": "2026-02-02T10:30Z", "resolved": "2026-02-02T11:00Z"},
        # 20 min after d:3, but its postmortem says missing monitoring: not change related
        {"key": "i:2", "service": "api", "root_cause": "missing-monitoring",
         "detected": "2026-02-04T10:20Z", "resolved": "2026-02-04T11:00Z"},
        # no deploy near it, but its recorded cause is a bad deploy
        {"key": "i:3", "service": "web", "root_cause": "bad-deploy",
         "detected": "2026-02-20T10:00Z", "resolved": "2026-02-20T10:40Z"},
    )
    ch = compute(df, deploys=deploys)["change_failure_rate"]
    # DORA: d:1 (followed by a change incident) and d:2 (rolled back) of 4 deploys
    assert (ch["deploys"], ch["remediated_deploys"], ch["change_failure_rate"]) == (4, 2, 0.5)
    assert ch["incidents"] == ["i:1", "i:3"] and ch["change_related_share"] == round(2 / 3, 4)
    assert (ch["recorded_cause"], ch["time_only"]) == (1, 1)
    assert ch["cleared_by_cause"] == ["i:2"]
    assert (ch["near_deploy_incidents"], ch["near_deploy_share"]) == (2, round(2 / 3, 4))
    assert ch["recovery_minutes"]["median"] == 35.0  # (30 + 40) / 2


def test_median_interval_by_order_statistics():
    import numpy as np

    # n = 10: P(B <= 1) = 11/1024 <= 5%, P(B <= 2) = 56/1024 > 5%: x(3)..x(8), coverage 97.9%
    assert metrics.median_interval(np.arange(1.0, 11.0)) == [3.0, 8.0]
    # n = 3: too few for 90%: the whole range, and the grade says it is indicative
    assert metrics.median_interval(np.array([5.0, 50.0, 500.0])) == [5.0, 500.0]
    assert metrics.stats(pd.Series([5.0, 50.0, 500.0]))["grade"] == "D"


@pytest.mark.parametrize(("n", "coverage", "expected"), [
    (0, None, None), (4, 1.0, "D"), (5, 0.1, "C"), (10, 0.5, "B"), (19, 0.9, "B"), (20, 0.8, "A"),
    (200, 0.79, "B"), (200, 0.49, "C"),
])
def test_confidence_grades(n, coverage, expected):
    assert metrics.grade(n, coverage) == expected


def test_month_over_month_trend():
    rows = [{"detected": f"2026-01-{d:02d}T10:00Z", "resolved": f"2026-01-{d:02d}T12:00Z"}
            for d in (5, 10, 15, 20)]
    rows += [{"detected": "2026-03-10T10:00Z", "resolved": "2026-03-10T10:30Z"}]
    tr = compute(incidents(*rows))["trends"]
    assert tr["mttr_minutes"]["by_month"] == {"2026-01": 120.0, "2026-02": None, "2026-03": 30.0}
    assert (tr["mttr_minutes"]["first"], tr["mttr_minutes"]["last"]) == (120.0, 30.0)
    assert tr["mttr_minutes"]["direction"] == "improving"
    # incidents per 30 days: 4 in January's 31 days, 1 in March's 31
    assert tr["incidents_per_30_days"]["by_month"]["2026-01"] == round(4 * 30 / 31, 1)
    assert tr["incidents_per_30_days"]["direction"] == "improving"


def test_dora_levels_from_the_benchmark_file():
    deploys = typed(pd.DataFrame([{"key": f"d:{i}", "service": "api", "outcome": "success",
                                   "deployed_at": pd.Timestamp("2026-01-01T10:00Z")
                                   + pd.Timedelta(days=i)} for i in range(90)]), DEPLOY_COLUMNS)
    m = compute(incidents(), deploys=deploys)
    b = m["benchmarks"]
    assert b["year"] == 2024 and "DORA" in b["source"]
    # 90 deploys in 90 days = 7 a week: daily is DORA's "high"; elite is several a day
    assert m["change_failure_rate"]["deploys_per_week"] == 7.0
    assert b["deployment_frequency"]["level"] == "high"
    assert b["change_failure_rate"]["level"] == "elite"  # 0 of 90
    # 8% sits between clusters: never labelled with a cluster name that reads backwards
    m8 = dict(m, change_failure_rate={**m["change_failure_rate"], "change_failure_rate": 0.08})
    assert metrics.benchmark_levels(m8)["change_failure_rate"]["level"] == "elite-medium"
    assert b["recovery_time"]["level"] is None  # no change-related incident: not measurable


@pytest.mark.parametrize("name", ["gcp_incidents_2023-03-09.json", "emma_statuspage_incidents.json",
                                  "servicenow_incident_event_log_subset.csv"])
def test_a_real_export_of_old_incidents_leaves_the_window_as_it_was(sample_copy, name):
    """Years of another tool's incidents, some never resolved, added to the sample: the window's
    figures do not move, and what was left out is counted and named."""
    from assess.analysis import analyse
    from assess.store import import_file

    from .conftest import realdata

    path = realdata(name)
    before = analyse(sample_copy).metrics
    import_file(analyse(sample_copy).engagement, path)
    after = analyse(sample_copy).metrics
    for key in ("availability", "budget_consumed", "downtime_minutes"):
        assert after["availability"][key] == before["availability"][key], key
    assert after["incident_count"] == before["incident_count"]
    assert after["mttr_minutes"] == before["mttr_minutes"]
    dq, dq0 = after["data_quality"], before["data_quality"]
    assert dq["before_window"] > dq0["before_window"]
    # every imported incident is counted once: in the window, before it, after it or without start
    assert dq["incidents_imported"] == dq["in_window"] + dq["before_window"] + dq["after_window"] \
        + dq["no_start"]
    assert dq["in_window"] == dq0["in_window"]
    assert not after["availability"]["carried_in"]


def test_timeline_problems_compare_with_the_latest_time_recorded_before():
    from assess.incidents import timeline_problems

    df = incidents(
        {"key": "ok", "impact_start": "2026-02-01T09:00Z", "detected": "2026-02-01T09:10Z",
         "resolved": "2026-02-01T10:00Z"},
        # no acknowledgement: the resolution is still compared with the detection
        {"key": "r", "detected": "2026-02-02T10:00Z", "resolved": "2026-02-02T09:30Z"},
        # two pairs out of order in one incident: both listed, each against detection
        {"key": "m", "detected": "2026-02-03T10:00Z", "mitigated": "2026-02-03T09:00Z",
         "resolved": "2026-02-03T09:45Z"},
    )
    got = timeline_problems(df)
    assert got[["key", "earlier", "later", "minutes"]].values.tolist() == [
        ["r", "detected", "resolved", 30.0],
        ["m", "detected", "mitigated", 60.0],
        ["m", "detected", "resolved", 15.0],
    ]


def test_weighted_and_full_outage_availability_and_their_grade():
    df = incidents(
        # a full outage of 60 min, impact recorded by the source
        {"severity": "SEV1", "impact": "outage", "detected": "2026-02-01T10:00Z",
         "resolved": "2026-02-01T11:00Z"},
        # a partial impact of 120 min assumed from the severity (no impact recorded)
        {"severity": "SEV2", "detected": "2026-02-02T10:00Z", "resolved": "2026-02-02T12:00Z"},
    )
    a = compute(df)["availability"]
    minutes = 90 * 1440
    assert a["downtime_minutes"] == 120.0  # 60 + 120 x 0.5
    assert a["full_outage_downtime_minutes"] == 60.0
    assert a["full_outage_availability"] == round(1 - 60 / minutes, 6)
    assert (a["counted_incidents"], a["impact_recorded_share"]) == (2, 0.5)
    assert (a["start_from_detection"], a["end_from_resolution"]) == (2, 2)
    assert a["grade"] == "D"  # two incidents


def test_time_to_detect_by_who_detected_and_a_wide_interval_caps_the_grade():
    rows = [{"detection_source": "alert", "impact_start": f"2026-02-{d:02d}T10:00Z",
             "detected": f"2026-02-{d:02d}T10:04Z"} for d in range(1, 11)]
    rows += [{"detection_source": "customer", "impact_start": f"2026-03-{d:02d}T10:00Z",
              "detected": f"2026-03-{d:02d}T16:00Z"} for d in range(1, 11)]
    m = compute(incidents(*rows))
    by = m["mttd_by_detection_source"]
    assert (by["alert"]["median"], by["customer"]["median"]) == (4.0, 360.0)
    # 20 values, full coverage, but the median sits between two groups: 4 min .. 6 h
    mttd = m["mttd_minutes"]
    assert mttd["n"] == 20 and mttd["interval"] == [4.0, 360.0]
    assert mttd["grade"] == "C"
    assert by["alert"]["grade"] == "B"  # 10 values, tight: B


def test_trend_names_the_worst_month_between_first_and_last():
    rows = [{"severity": "SEV1", "detected": "2026-01-10T10:00Z", "resolved": "2026-01-10T11:00Z"},
            {"severity": "SEV1", "detected": "2026-02-10T10:00Z", "resolved": "2026-02-10T20:00Z"},
            {"severity": "SEV1", "detected": "2026-03-10T10:00Z", "resolved": "2026-03-10T10:30Z"}]
    tr = compute(incidents(*rows))["trends"]
    assert tr["availability"]["worst_month"] == "2026-02"
    assert tr["major_mttr_minutes"]["by_month"] == {"2026-01": 60.0, "2026-02": 600.0,
                                                    "2026-03": 30.0}
    assert tr["major_mttr_minutes"]["direction"] == "improving"
    assert tr["major_mttr_minutes"]["worst_month"] == "2026-02"


def test_charts_speak_the_report_language():
    from assess import charts

    m = compute(incidents({"severity": "SEV1", "detection_source": "customer",
                           "detected": "2026-02-01T10:00Z", "resolved": "2026-02-01T11:00Z"}))
    en = {k: f.to_dict() for k, f in charts.report_figures(m, "#000000", "#111111").items()}
    fr = {k: f.to_dict() for k, f in charts.report_figures(m, "#000000", "#111111", "fr").items()}
    assert fr["mttr_trend"]["layout"]["title"]["text"].startswith("Temps médian de résolution")
    assert fr["detection"]["data"][0]["labels"] == ["client"]
    assert en["detection"]["data"][0]["labels"] == ["customer"]
    assert fr["availability"]["data"][0]["text"][0].endswith("\u202f%")
    assert "," in fr["availability"]["data"][0]["text"][0]
    for name in en:  # no English title left in the French edition
        assert fr[name]["layout"]["title"]["text"] != en[name]["layout"]["title"]["text"], name


@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 5)), st.sampled_from("abcd"),
                          st.sampled_from(["x", "y", None])), min_size=1, max_size=40))
@settings(max_examples=200, deadline=None)
def test_start_order_and_recurrence_match_their_plain_pandas_definitions(rows):
    """enrich.start_key_order and recurring_flags (integer work, no text sort) give what the plain
    pandas definitions give: sort by start (missing last) then key; an incident recurs when the
    previous incident of its class, in that order, started at most `days` before."""
    from assess import enrich

    base = pd.Timestamp("2026-01-01T00:00Z")
    frame = pd.DataFrame({
        "start": pd.Series([base + pd.Timedelta(days=d) if d is not None else pd.NaT
                            for d, _, _ in rows], dtype="datetime64[us, UTC]"),
        "key": pd.Series([f"{k}{i % 3}" for i, (_, k, _) in enumerate(rows)], dtype="string"),
        "class": pd.Series([c for _, _, c in rows], dtype="string")})
    expected = frame.sort_values(["start", "key"], kind="mergesort").index.to_numpy()
    assert list(enrich.start_key_order(frame["start"], frame["key"])) == list(expected)
    ordered = frame.sort_values(["class", "start", "key"], kind="mergesort")
    same = ordered["class"].eq(ordered["class"].shift())
    gap = ordered["start"] - ordered["start"].shift()
    plain = (same & (gap <= pd.Timedelta(days=2))).reindex(frame.index).fillna(False).astype(bool)
    assert enrich.recurring_flags(frame, 2).tolist() == plain.tolist()


def test_a_root_cause_class_says_how_many_of_its_incidents_record_that_cause():
    """An incident without a root cause joins the class of a similar title that has one: the
    class counts both, and says how many record the cause themselves."""
    t = pd.Timestamp("2026-03-01T10:00Z")
    rows = [{"title": "DB pool exhausted on api", "root_cause": "db-pool", "service": "api",
             "detected": t, "resolved": t + pd.Timedelta(minutes=30)},
            {"title": "DB pool exhausted on api", "root_cause": None, "service": "api",
             "detected": t + pd.Timedelta(days=2), "resolved": t + pd.Timedelta(days=2, minutes=20)},
            {"title": "DB pool exhausted on api", "root_cause": None, "service": "api",
             "detected": t + pd.Timedelta(days=4), "resolved": t + pd.Timedelta(days=4, minutes=20)}]
    doc = compute(incidents(*rows))
    [cls] = doc["recurrence"]["classes"]
    assert cls["class"] == "db-pool @ api" and cls["incidents"] == 3 and cls["recorded_cause"] == 1
