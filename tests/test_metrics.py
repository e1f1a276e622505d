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
    assert m["mttd_minutes"] == {"median": 10.0, "p90": 10.0, "mean": 10.0, "max": 10.0, "n": 1,
                                 "fallbacks": 0}
    assert m["mtta_minutes"]["median"] == 16.0 and m["mtta_minutes"]["n"] == 2  # (2 + 30) / 2
    # MTTR: 60 (impact start known), 120 and 20 from detection (fallback)
    assert m["mttr_minutes"]["median"] == 60.0
    assert m["mttr_minutes"]["mean"] == pytest.approx(66.7)
    assert m["mttr_minutes"]["max"] == 120.0
    assert m["mttr_minutes"]["p90"] == pytest.approx(108.0)  # linear: 60 + 0.8 * 60
    assert m["mttr_minutes"]["fallbacks"] == 2
    # time to mitigate: 30 (recorded), then 120 and 20 from resolution
    assert m["mttm_minutes"]["median"] == 30.0 and m["mttm_minutes"]["fallbacks"] == 2
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
        {"severity": "SEV1", "detected": "2025-12-31T23:00Z", "resolved": "2026-01-01T01:00Z"},
        # still open at the window end: downtime to the window end, excluded from MTTR
        {"severity": "SEV1", "detected": "2026-03-31T23:00Z"},
    )
    m = compute(df)
    assert m["incident_count"] == 1 and m["open_incidents"] == 1
    assert m["mttr_minutes"]["n"] == 0
    months = {r["month"]: r["downtime_minutes"] for r in m["availability_by_month"]}
    assert months == {"2026-01": 60.0, "2026-02": 0.0, "2026-03": 60.0}


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
    assert api["mttr_minutes"]["median"] == 90  # (60 + 120) / 2
    feb = m["durations_by_month"]["2026-02"]
    assert feb["count"] == 2 and feb["mtta_minutes"]["n"] == 1
    assert feb["mttr_minutes"]["median"] == 70  # (120 + 20) / 2, web's start falls back to detection
