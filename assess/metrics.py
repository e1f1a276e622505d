"""Baseline metrics over the assessment window: a pure function of the enriched incident table.

Every definition is documented in docs/metrics.md; the short form:
- The set: incidents whose start (impact start, else detection) falls in [window start, window
  end). The same set feeds the count, the durations, the charts and the risks. Downtime also counts
  incidents that began before the window and ended inside it (clipped, listed as carried in).
- Durations have one start and one end each: MTTD impact start -> detected, MTTA detected ->
  acknowledged, time to mitigate detected -> mitigated, MTTR detected -> resolved ("time to
  resolve, from detection"), time to restore impact start -> resolved. No stand-in times. A pair
  recorded out of order is not measurable for that incident and counted as out of order.
- Every duration carries its basis (n, missing, out of order, coverage), a 90% interval for its
  median (order statistics) and a confidence grade A-D (assess/data/metrics.yaml, `rules.grades`).
- Downtime: the incident's impact (its source's, else the engagement's severity-to-impact mapping)
  weighs it: outage 1, partial or degraded `partial_outage_weight`. From start to mitigated (else
  resolved), never before detection; an incident with no end is not downtime and is listed.
  Overlaps are merged: each minute counts once, at its highest weight.
- Headlines are given for SEV1-SEV2 (`headline`) beside the all-severity figures.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .engagement import SEVERITIES
from .enrich import (  # noqa: F401 - re-exported: the metrics' public names
    DURATIONS,
    MAJOR,
    TITLE_SIMILARITY,
    Settings,
    enrich,
    incident_classes,
    metrics_yaml,
    normalise_title,
    normalise_titles,
    out_of_hours,
    paged_at,
    rules,
)
from .files import safe_yaml
from .paths import data_dir

MATURITY_LEVELS = ("Reactive", "Defined", "Proactive", "Preventive")
# Median MTTR bands of the source articles' maturity model (minutes): Preventive < 5,
# Proactive 10-15, Defined 30-60, Reactive 2-4 h. Values between bands go to the lower level.
MTTR_BANDS = ((5.0, "Preventive"), (15.0, "Proactive"), (60.0, "Defined"))
POSTMORTEM_DEADLINE = pd.Timedelta(hours=48)
DURATION_KEYS = {  # metrics document key -> enriched column
    "mttd_minutes": "ttd",
    "mtta_minutes": "tta",
    "mttm_minutes": "ttm",
    "mttr_minutes": "ttr",
    "time_to_restore_minutes": "ttrestore",
}
SEVERITY_WEIGHT = {"SEV1": 8, "SEV2": 4, "SEV3": 2, "SEV4": 1}


@cache
def catalog() -> dict[str, dict[str, Any]]:
    """The metric catalog (assess/data/metrics.yaml): path -> unit, labels, better, definition."""
    return metrics_yaml()["metrics"]


@cache
def phrases() -> dict[str, dict[str, str]]:
    """The sentences that state a figure's basis, interval, trend and benchmark (metrics.yaml)."""
    return metrics_yaml()["phrases"]


@cache
def benchmarks() -> dict[str, Any]:
    """Published benchmarks with their source (assess/data/benchmarks.yaml)."""
    return safe_yaml((data_dir("assess/data") / "benchmarks.yaml").read_text(encoding="utf-8"))


# --- confidence --------------------------------------------------------------------------------


def grade(n: int, coverage: float | None) -> str | None:
    """A plain confidence grade: A, B, C (enough values, shrinking coverage) or D (indicative)."""
    if n == 0:
        return None
    cov = 1.0 if coverage is None else coverage
    for letter, need in rules()["grades"].items():
        if n >= need["n"] and cov >= need["coverage"]:
            return letter
    return "D"


def median_interval(sorted_values: np.ndarray, level: float = 0.90) -> list[float] | None:
    """A distribution-free interval for the median: order statistics x(l)..x(n-1-l), the
    narrowest whose binomial coverage reaches `level` ([min, max] when n is too small for it)."""
    n = len(sorted_values)
    if n == 0:
        return None
    tail = (1.0 - level) / 2
    if n <= 1000:
        cdf, low = 0.0, 0
        for k in range(n // 2):
            cdf += math.comb(n, k) / 2.0 ** n
            if cdf > tail:
                break
            low = k + 1
    else:  # normal approximation of the binomial
        low = max(0, int(math.floor(n / 2 - 1.6449 * math.sqrt(n) / 2)))
    high = n - 1 - low
    return [round(float(sorted_values[low]), 1), round(float(sorted_values[high]), 1)]


def stats(values: pd.Series, incidents: int | None = None) -> dict[str, Any]:
    """median, p90, mean, max, n of a series of minutes, with its basis and confidence.

    NaN is missing; a negative value is a pair of times out of order: neither is measured."""
    if isinstance(values, pd.Series) and values.dtype.kind == "f":  # the enriched durations
        raw = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        raw = pd.to_numeric(values, errors="coerce").astype(float).to_numpy(na_value=np.nan)
    total = len(raw) if incidents is None else incidents
    out_of_order = int((raw < 0).sum())
    v = raw[raw >= 0]
    n = len(v)
    coverage = round(n / total, 4) if total else None
    basis = {"n": n, "incidents": int(total), "missing": int(total - n - out_of_order),
             "out_of_order": out_of_order, "coverage": coverage, "fallbacks": 0,
             "grade": grade(n, coverage)}
    if n == 0:
        return {"median": None, "p90": None, "mean": None, "max": None, "interval": None, **basis}
    v = np.sort(v)
    interval = median_interval(v)
    # a median whose interval spans a wide range is no better than C, whatever its n
    spread = rules().get("max_interval_spread")
    if spread and basis["grade"] in ("A", "B") and interval and \
            interval[1] > spread * max(interval[0], 1.0):
        basis["grade"] = "C"
    return {
        "median": round(float(np.median(v)), 1),
        "p90": round(float(np.percentile(v, 90)), 1),
        "mean": round(float(v.mean()), 1),
        "max": round(float(v[-1]), 1),
        "interval": interval,
        **basis,
    }


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _duration_block(df: pd.DataFrame) -> dict[str, Any]:
    return {key: stats(df[col], len(df)) for key, col in DURATION_KEYS.items()}


# --- recurrence --------------------------------------------------------------------------------


def recurrence(df: pd.DataFrame, days: int) -> dict[str, Any]:
    """Recurring incidents (the enriched `recurring` flag) and their families."""
    if df.empty:
        return {"rate": None, "recurring": 0, "n": 0, "window_days": days, "classes": [],
                "major_rate": None, "major_recurring": 0, "major_n": 0, "root_cause_share": None,
                "major_root_cause_share": None, "grade": None, "major_grade": None}
    df = df[["key", "class", "service", "severity", "major", "recurring", "root_cause"]]
    # per class through integer codes (every window incident has a class): the classes with a
    # recurrence are the families, each with its size, severity weight and recurrences
    codes, labels = pd.factorize(df["class"])
    known = codes >= 0
    weight = df["severity"].map(SEVERITY_WEIGHT).fillna(1).astype(int).to_numpy()
    again = df["recurring"].to_numpy(bool)
    count = np.bincount(codes[known], minlength=len(labels))
    weights = np.bincount(codes[known], weights=weight[known], minlength=len(labels))
    recurrences = np.bincount(codes[known], weights=again[known], minlength=len(labels))
    # how many of a class's incidents record a root cause themselves (the rest joined it by title)
    own_cause = df["root_cause"].astype("string").str.strip().fillna("").ne("").to_numpy(bool)
    recorded = np.bincount(codes[known], weights=own_cause[known], minlength=len(labels))
    family = recurrences > 0
    in_family = known & family[np.where(known, codes, 0)]
    families = df[in_family]
    keys = _keys_by_class(families)
    services = (families.dropna(subset=["service"]).drop_duplicates(["class", "service"])
                .sort_values("service").groupby("class")["service"].agg(list))
    services = {label: [str(v) for v in values] for label, values in services.items()}
    classes = [{
        "class": str(labels[c]), "incidents": int(count[c]), "weight": int(weights[c]),
        "recurrences": int(recurrences[c]), "recorded_cause": int(recorded[c]),
        "keys": keys[labels[c]],
        "services": services.get(labels[c], []),
    } for c in np.flatnonzero(family)]
    # the heaviest families first: severity-weighted size (SEV1 8, SEV2 4, SEV3 2, SEV4 1)
    classes.sort(key=lambda c: (-c["weight"], -c["incidents"], c["class"]))
    n, recurring = len(df), int(df["recurring"].sum())
    major = df[df["major"]]
    major_recurring = int(major["recurring"].sum())
    # a class is surest when a root cause names it; a family of similar alert titles is a guess:
    # the grade's coverage is the share of incidents whose root cause was recorded
    cause = df["root_cause"].astype("string").str.strip().fillna("").ne("")
    return {"rate": share(recurring, n), "recurring": recurring, "n": n, "window_days": days,
            "classes": classes, "major_rate": share(major_recurring, len(major)),
            "major_recurring": major_recurring, "major_n": int(len(major)),
            "root_cause_share": share(int(cause.sum()), n),
            "major_root_cause_share": share(int(cause[df["major"]].sum()), len(major)),
            "grade": grade(n, share(int(cause.sum()), n)),
            "major_grade": grade(len(major), share(int(cause[df["major"]].sum()), len(major)))}


def _keys_by_class(families: pd.DataFrame) -> dict[Any, list[Any]]:
    """Each class's incident keys in table order: groupby("class")["key"].agg(list) without a
    Python call per class."""
    codes, labels = pd.factorize(families["class"])
    if not len(labels):
        return {}
    order = np.argsort(codes, kind="stable")
    keys = families["key"].astype(str).astype(object).to_numpy()[order]
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    firsts = codes[order][np.r_[0, bounds]]
    return {labels[c]: part.tolist() for c, part in zip(firsts, np.split(keys, bounds), strict=True)}


# --- availability ------------------------------------------------------------------------------


def _counted(table: pd.DataFrame, s: Settings) -> pd.Series:
    """Rows whose downtime counts: weighed, with a start and an end, overlapping the window."""
    return ((table["outage_weight"] > 0) & table["outage_end"].notna() & table["outage_begin"].notna()
            & (table["outage_end"].clip(upper=s.end) > table["outage_begin"].clip(lower=s.start)))


def outage_intervals(table: pd.DataFrame, s: Settings) -> pd.DataFrame:
    """[begin, end, weight, key] of each incident counted as downtime, clipped to the window."""
    rows = table.loc[_counted(table, s), ["outage_begin", "outage_end", "outage_weight", "key"]]
    return pd.DataFrame({"begin": rows["outage_begin"].clip(lower=s.start),
                         "end": rows["outage_end"].clip(upper=s.end),
                         "weight": rows["outage_weight"], "key": rows["key"]}).reset_index(drop=True)


def availability(table: pd.DataFrame, s: Settings) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per local calendar month and over the window: downtime, availability, error budget, and
    the basis: which incidents counted, which were carried in, which were left out and why."""
    intervals = outage_intervals(table, s)
    allowed = 1.0 - s.sla_target
    rows = []
    for label, m0, m1, lo, hi in _months(s):
        minutes = (hi - lo).total_seconds() / 60.0
        downtime = merged_downtime(intervals, lo, hi)
        budget = allowed * minutes
        rows.append({
            "month": label,
            "partial": bool(lo > m0 or hi < m1),
            "minutes": round(minutes, 1),
            "downtime_minutes": round(downtime, 1),
            "availability": round(1.0 - downtime / minutes, 6) if minutes else None,
            "error_budget_minutes": round(budget, 1),
            "budget_consumed": round(downtime / budget, 4) if budget else None,
            "burn_rate": round((downtime / minutes) / allowed, 4) if minutes and allowed else None,
            "sla_met": bool(downtime <= budget + 1e-9),
        })
    total_minutes = (s.end - s.start).total_seconds() / 60.0
    total_down = merged_downtime(intervals, s.start, s.end)
    full_down = merged_downtime(intervals[intervals["weight"] >= 1.0], s.start, s.end)
    counted_mask = _counted(table, s)
    counted = table.loc[counted_mask, ["key", "impact_basis", "before_window", "outage_end_moved",
                                       "start_fallback", "mitigated", "resolved"]]
    recorded = int(counted["impact_basis"].eq("source").sum())
    weighted = table.loc[(table["outage_weight"] > 0) & (table["in_window"] | counted_mask),
                         ["impact_basis"]]
    overall = {
        "sla_target": round(s.sla_target, 6),
        "downtime_minutes": round(total_down, 1),
        "availability": round(1.0 - total_down / total_minutes, 6),
        "error_budget_minutes": round(allowed * total_minutes, 1),
        "budget_consumed": round(total_down / (allowed * total_minutes), 4),
        "months_below_sla": sum(1 for r in rows if not r["sla_met"]),
        "outage_incidents": [str(k) for k in intervals["key"]],
        "carried_in": [str(k) for k in counted.loc[counted["before_window"], "key"]],
        "open_excluded": [str(k) for k in table.loc[table["outage_open"]
                                                    & (table["in_window"] | table["before_window"]),
                                                    "key"]],
        "end_moved_to_detection": [str(k) for k in counted.loc[counted["outage_end_moved"], "key"]],
        "impact_from_source": int(weighted["impact_basis"].eq("source").sum()),
        "impact_from_severity": int(weighted["impact_basis"].eq("severity").sum()),
        "impact_by_severity": dict(s.impact_by_severity),
        "partial_outage_weight": s.partial_outage_weight,
        # full outages alone, unweighted: the figure an investor reads as uptime
        "full_outage_downtime_minutes": round(full_down, 1),
        "full_outage_availability": round(1.0 - full_down / total_minutes, 6),
        # how much of the figure rests on recorded facts rather than the rules' assumptions
        "counted_incidents": int(len(counted)),
        "impact_recorded_share": share(recorded, len(counted)),
        "start_from_detection": int(counted["start_fallback"].sum()),
        "end_from_resolution": int((counted["mitigated"].isna() & counted["resolved"].notna()).sum()),
        "grade": grade(len(counted), share(recorded, len(counted))),
    }
    return rows, overall


# --- the other blocks --------------------------------------------------------------------------


def mitigation_sla(df: pd.DataFrame, s: Settings) -> dict[str, Any]:
    """Mitigation started within the severity's target, only where the start was recorded."""
    out = {}
    df = df[["severity", "missed_mitigation_target", "mitigation_started", "tt_start_mitigation",
             "key"]]
    for sev, target in s.mitigation_targets:
        sub = df[df["severity"] == sev]
        missed = sub["missed_mitigation_target"]
        measured = int(missed.notna().sum())
        met = int((missed == False).sum())  # noqa: E712 - a nullable boolean column
        not_recorded = int(sub["mitigation_started"].isna().sum())
        out[sev] = {
            "target_minutes": target, "incidents": int(len(sub)), "measured": measured,
            "met": met, "rate": share(met, measured),
            "not_recorded": not_recorded,
            "out_of_order": int((sub["tt_start_mitigation"] < 0).sum()),
            "coverage": share(measured, len(sub)),
            "grade": grade(measured, share(measured, len(sub))),
            "fallbacks": 0,
            "missed": sub.loc[missed.fillna(False).astype(bool), "key"].astype(str).tolist(),
        }
    return out


def _customer_share(df: pd.DataFrame) -> tuple[int, int]:
    known = df["detection_source"].dropna()
    return int((known == "customer").sum()), int(len(known))


def customer_impact(df: pd.DataFrame) -> dict[str, Any]:
    customer, known = _customer_share(df)
    major_customer, major_known = _customer_share(df.loc[df["major"], ["detection_source"]])
    return {
        "customer_reported": customer,
        "customer_reported_share": share(customer, known),
        "detection_known": known,
        "major_customer_reported": major_customer,
        "major_customer_reported_share": share(major_customer, major_known),
        "major_detection_known": major_known,
        "grade": grade(known, share(known, len(df))),
        "major_grade": grade(major_known, share(major_known, int(df["major"].sum()))),
        "customers_affected": int(df["customers_affected"].sum()),
        "customers_affected_n": int(df["customers_affected"].notna().sum()),
        "support_tickets": int(df["support_tickets"].sum()),
        "support_tickets_n": int(df["support_tickets"].notna().sum()),
        "revenue_impact": round(float(df["revenue_impact"].sum()), 2),
        "revenue_impact_n": int(df["revenue_impact"].notna().sum()),
    }


def change_failure(df: pd.DataFrame, deploys: pd.DataFrame, s: Settings) -> dict[str, Any]:
    """DORA's change failure rate from the deploy log, and the change-related incidents.

    A deploy of the window failed when it was rolled back, failed, or is the deploy a
    change-related incident followed (within the change window). Incidents that merely started
    soon after a deploy are a separate, time-only signal (`near_deploy_*`)."""
    deps = deploys[(deploys["deployed_at"] >= s.start) & (deploys["deployed_at"] < s.end)]
    weeks = (s.end - s.start).total_seconds() / (7 * 86400)
    local = deps["deployed_at"].dt.tz_convert(s.timezone)
    friday_late = int(((local.dt.day_of_week == 4) & (local.dt.hour >= 16)).sum())
    related = df.loc[df["change_related"], ["key", "deploy_key", "change_basis", "ttr"]]
    near = df.loc[df["near_deploy"], ["key"]]
    blamed = related["deploy_key"].dropna().astype(str).unique()
    dep_keys = deps["key"].astype(str)
    rolled_back = deps["outcome"].eq("rolled_back").fillna(False)
    failed = deps["outcome"].eq("failed").fillna(False)
    followed = dep_keys.isin(blamed)
    remediated = rolled_back | failed | followed
    n_dep, n = len(deps), len(df)
    return {
        "window_minutes": s.change_window_minutes,
        "change_related_incidents": int(len(related)),
        "change_related_share": share(len(related), n),
        "incidents": related["key"].astype(str).tolist(),
        "recorded_cause": int(related["change_basis"].eq("recorded").sum()),
        "time_only": int(related["change_basis"].eq("time").sum()),
        "cleared_by_cause": df.loc[df["change_cleared_by_cause"], "key"].astype(str).tolist(),
        "near_deploy_incidents": int(len(near)),
        "near_deploy_share": share(len(near), n),
        "deploys": n_dep,
        "deploys_per_week": round(n_dep / weeks, 1) if weeks else None,
        "deploys_per_day": round(n_dep / (weeks * 7), 2) if weeks else None,
        "deploys_followed_by_incident": int(followed.sum()),
        "rolled_back": int(rolled_back.sum()),
        "failed": int(failed.sum()),
        "remediated_deploys": int(remediated.sum()),
        "friday_after_16h": friday_late,
        "change_failure_rate": share(int(remediated.sum()), n_dep),
        # the deploy log's own outcomes alone (rolled back or failed), without incident matches
        "outcome_failure_rate": share(int((rolled_back | failed).sum()), n_dep),
        "services_deployed": int(deps["service"].nunique()),
        "deploys_per_week_per_service": round(
            float(deps.groupby("service").size().median()) / weeks, 1) if n_dep and weeks else None,
        "grade": grade(n_dep, 1.0 if n_dep else None),
        "recovery_minutes": stats(related["ttr"], len(related)),
    }


def on_call_load(df: pd.DataFrame, s: Settings) -> dict[str, Any]:
    local = paged_at(df, s).dropna()
    after = int(df["out_of_hours"].sum())
    weekend = int((local.dt.day_of_week >= 5).sum())
    night = int(((local.dt.hour < 7) | (local.dt.hour >= 22)).sum())
    weeks = (s.end - s.start).total_seconds() / (7 * 86400)
    n = len(local)
    return {
        "incidents": int(n),
        "out_of_hours": after,
        "out_of_hours_share": share(after, n),
        "weekend": weekend,
        "night": night,
        "pages_per_week": round(n / weeks, 1) if weeks else None,
    }


# --- trend, benchmarks, data quality -----------------------------------------------------------


def _direction(first: float | None, last: float | None, better: str) -> str:
    if first is None or last is None:
        return "not measurable"
    # availability compares its unavailability (1 - a): 99.0% -> 99.5% halves the downtime share
    if better == "higher":
        first, last, better = 1.0 - first, 1.0 - last, "lower"
    flat = rules()["trend_flat_share"] * abs(first)
    if abs(last - first) <= flat:
        return "flat"
    lower = last < first
    return "improving" if lower == (better == "lower") else "worsening"


def trends(df: pd.DataFrame, avail_rows: list[dict[str, Any]], s: Settings) -> dict[str, Any]:
    """Month over month for the headline figures: the values per month, first and last month,
    the change and whether it is improving, worsening or flat (docs/metrics.md)."""
    months = [r["month"] for r in avail_rows]
    days = {r["month"]: r["minutes"] / 1440.0 for r in avail_rows}
    narrow = df[["month", "major", "ttr", "detection_source"]]
    groups = {m: g for m, g in narrow.groupby("month")}
    series: dict[str, dict[str, Any]] = {
        "incidents_per_30_days": {m: round(len(groups.get(m, [])) * 30.0 / days[m], 1)
                                  if days[m] else None for m in months},
        "major_incidents_per_30_days": {
            m: round(int(groups[m]["major"].sum()) * 30.0 / days[m], 1) if m in groups and days[m]
            else (0.0 if days[m] else None) for m in months},
        "mttr_minutes": {m: stats(groups[m]["ttr"])["median"] if m in groups else None
                         for m in months},
        "major_mttr_minutes": {m: stats(groups[m].loc[groups[m]["major"], "ttr"])["median"]
                               if m in groups else None for m in months},
        "customer_reported_share": {m: share(*_customer_share(groups[m])) if m in groups else None
                                    for m in months},
        "downtime_minutes": {r["month"]: r["downtime_minutes"] for r in avail_rows},
        # a rate, so a partial first month compares fairly with a full one
        "availability": {r["month"]: r["availability"] for r in avail_rows},
    }
    out = {}
    for key, values in series.items():
        known = [(m, v) for m, v in values.items() if v is not None]
        first = known[0] if known else (None, None)
        last = known[-1] if len(known) > 1 else (None, None)
        better = "higher" if key == "availability" else "lower"
        worst = (min if better == "higher" else max)(known, key=lambda kv: kv[1]) if known \
            else (None, None)
        out[key] = {"by_month": values, "first_month": first[0], "last_month": last[0],
                    "first": first[1], "last": last[1],
                    "change": round(last[1] - first[1], 4) if last[1] is not None else None,
                    "direction": _direction(first[1], last[1], better),
                    # first and last alone can hide a bad month between them: name the worst
                    "worst_month": worst[0], "worst": worst[1]}
    return out


def benchmark_levels(doc: dict[str, Any]) -> dict[str, Any]:
    """Where the client sits in each published benchmark (assess/data/benchmarks.yaml)."""
    from .risks import metric_value

    dora = benchmarks()["dora"]
    out: dict[str, Any] = {"source": dora["source"], "year": dora["year"]}
    for key in ("deployment_frequency", "change_failure_rate", "recovery_time"):
        b = dora[key]
        value = metric_value(doc, b["metric"])
        level = None
        if isinstance(value, int | float):
            for lv in b["levels"]:
                ok = value >= lv["at_least"] if "at_least" in lv else value <= lv["at_most"]
                if ok:
                    level = lv
                    break
        out[key] = {"metric": b["metric"], "value": value,
                    "level": level["level"] if level else None,
                    "en": level["en"] if level else None, "fr": level["fr"] if level else None}
    return out


def data_quality(table: pd.DataFrame, df: pd.DataFrame) -> dict[str, Any]:
    """What the figures rest on: the stated set, timelines out of order, open incidents."""
    bad = df[df["timeline_problem"]]
    return {
        "incidents_imported": int(len(table)),
        "in_window": int(len(df)),
        "before_window": int(table["before_window"].sum()),
        "after_window": int(table["after_window"].sum()),
        "no_start": int(table["start"].isna().sum()),
        "open_in_window": df.loc[df["open"], "key"].astype(str).tolist(),
        "timeline_out_of_order": int(len(bad)),
        "timeline_problems": [{"key": str(k), "issue": str(v), "provenance": None if pd.isna(p)
                               else str(p)} for k, v, p in
                              zip(bad["key"], bad["timeline_issue"], bad["provenance"],
                                  strict=True)],
        "impact_from_severity": int((df["impact_basis"] == "severity").sum()),
    }


def maturity(mttr_median: float | None, pm: dict[str, Any], rec: dict[str, Any],
             avail_overall: dict[str, Any], classified_share: float | None) -> dict[str, Any]:
    """The four-level model: the MTTR band, capped by practice evidence; reasons shown."""
    reasons: list[str] = []
    codes: list[dict[str, Any]] = []  # the same reasons as data, for reports in other languages

    def why(code: str, text: str, **values: Any) -> None:
        reasons.append(text)
        codes.append({"code": code, "values": values})

    if mttr_median is None:
        by_mttr = "Reactive"
        why("no_mttr", "no resolved incident to measure the time to resolve on")
    else:
        by_mttr = next((lvl for limit, lvl in MTTR_BANDS if mttr_median < limit), "Reactive")
        why("mttr_band", f"the median time to resolve (MTTR, from detection) of {mttr_median:.0f} "
            f"min is in the {by_mttr} band "
            "(Preventive < 5, Proactive <= 15, Defined <= 60, Reactive > 60 min)",
            minutes=round(mttr_median), level=by_mttr)
    cap = "Preventive"

    def limit(level: str, code: str, text: str, **values: Any) -> None:
        nonlocal cap
        if MATURITY_LEVELS.index(level) < MATURITY_LEVELS.index(cap):
            cap = level
        why(code, text, **values)

    if pm["postmortem_rate"] is not None and pm["postmortem_rate"] < 0.5:
        limit("Reactive", "postmortem_rate",
              f"only {pm['postmortem_rate']:.0%} of SEV1/SEV2 incidents had a postmortem",
              share=pm["postmortem_rate"])
    if classified_share is not None and classified_share < 0.8:
        limit("Reactive", "classified", f"only {classified_share:.0%} of incidents carry a severity",
              share=classified_share)
    if pm["within_48h_rate"] is not None and pm["within_48h_rate"] < 0.5:
        limit("Defined", "within_48h",
              f"{pm['within_48h_rate']:.0%} of postmortems were held within 48 hours",
              share=pm["within_48h_rate"])
    if pm["action_items_owned_rate"] is not None and pm["action_items_owned_rate"] < 0.8:
        limit("Defined", "owned", f"{pm['action_items_owned_rate']:.0%} of action items have an owner "
                                  "and a due date", share=pm["action_items_owned_rate"])
    if rec["rate"] is not None and rec["rate"] > 0.1:
        limit("Defined", "recurrence", f"{rec['rate']:.0%} of incidents recur within "
                                       f"{rec['window_days']} days",
              share=rec["rate"], days=rec["window_days"])
    if avail_overall["months_below_sla"]:
        months = avail_overall["months_below_sla"]
        limit("Defined", "sla", f"availability missed the SLA in {months} "
                                f"month{'' if months == 1 else 's'}", months=months)
    level = min(by_mttr, cap, key=MATURITY_LEVELS.index)
    return {"level": level, "rank": MATURITY_LEVELS.index(level) + 1, "by_mttr": by_mttr,
            "practice_cap": cap, "reasons": reasons, "reason_codes": codes}



def postmortem_discipline(df: pd.DataFrame, actions: pd.DataFrame, s: Settings) -> dict[str, Any]:
    major = df.loc[df["severity"].isin(["SEV1", "SEV2"]).fillna(False),
                   ["key", "postmortem_at", "postmortem_url", "resolved", "detected"]]
    has_pm = major["postmortem_at"].notna() | major["postmortem_url"].notna()
    ref = major["resolved"].fillna(major["detected"])
    delay = major["postmortem_at"] - ref
    within = (delay <= POSTMORTEM_DEADLINE).fillna(False) & major["postmortem_at"].notna()
    acts = actions[_isin(actions["incident_key"], df["key"])] if not actions.empty else actions
    owned = acts["owner"].notna() & acts["due"].notna() if not acts.empty else pd.Series([], dtype=bool)
    overdue = ((acts["due"] < s.end) & ~acts["done"].fillna(False)).fillna(False) if not acts.empty \
        else pd.Series([], dtype=bool)
    n = len(major)
    return {
        "major_incidents": n,
        "with_postmortem": int(has_pm.sum()),
        "postmortem_rate": round(float(has_pm.mean()), 4) if n else None,
        "within_48h": int(within.sum()),
        "within_48h_rate": round(int(within.sum()) / int(has_pm.sum()), 4) if has_pm.sum() else None,
        # against every SEV1/SEV2, not only those that had one: a missing postmortem is late too
        "within_48h_major_rate": round(int(within.sum()) / n, 4) if n else None,
        "median_delay_hours": (round(float((delay.dropna().dt.total_seconds() / 3600).median()), 1)
                               if delay.notna().any() else None),
        "missing": major.loc[~has_pm, "key"].astype(str).tolist(),
        "action_items": int(len(acts)),
        "action_items_with_owner_and_due": int(owned.sum()),
        "action_items_owned_rate": round(float(owned.mean()), 4) if len(acts) else None,
        "action_items_overdue": int(overdue.sum()),
        "action_items_done": int(acts["done"].fillna(False).sum()) if len(acts) else 0,
    }



def merged_downtime(intervals: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp) -> float:
    """Weighted downtime minutes inside [lo, hi): overlapping intervals count once, at max weight."""
    if intervals.empty:
        return 0.0
    # as UTC datetime64 arrays: a tz-aware column's to_numpy() is an array of Timestamp objects
    begin = np.clip(_utc64(intervals["begin"]), _utc64(lo), _utc64(hi))
    end = np.clip(_utc64(intervals["end"]), _utc64(lo), _utc64(hi))
    keep = end > begin
    if not keep.any():
        return 0.0
    b = begin[keep]
    e = end[keep]
    w = intervals["weight"].to_numpy()[keep]
    # Each minute counts at the highest weight covering it. With levels w1 > w2 > ... that is
    # sum_i (w_i - w_{i+1}) * |union of intervals whose weight >= w_i|, with w_{k+1} = 0.
    levels = sorted(set(w.tolist()), reverse=True)
    total = 0.0
    for i, level in enumerate(levels):
        below = levels[i + 1] if i + 1 < len(levels) else 0.0
        sel = w >= level
        total += (level - below) * union_minutes(b[sel], e[sel])
    return total


def union_minutes(begin: np.ndarray, end: np.ndarray) -> float:
    """Length in minutes of the union of [begin, end) intervals."""
    if len(begin) == 0:
        return 0.0
    order = np.argsort(begin, kind="mergesort")
    b, e = begin[order], end[order]
    reach = np.maximum.accumulate(e)
    # a new run starts where an interval begins after everything before it has ended
    starts = np.ones(len(b), dtype=bool)
    starts[1:] = b[1:] > reach[:-1]
    first = np.flatnonzero(starts)
    last = np.append(first[1:] - 1, len(b) - 1)
    run_begin, run_end = b[first], reach[last]
    minutes = ((run_end - run_begin) / np.timedelta64(1, "m")).tolist()
    # added in order, one after the other (numpy's pairwise sum may differ in the last digit)
    return float(functools.reduce(operator.add, minutes))


def _utc64(value: pd.Series | pd.Timestamp) -> np.ndarray | np.datetime64:
    """UTC instants as naive datetime64 (microseconds)."""
    if isinstance(value, pd.Series):
        return value.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    return np.datetime64(value.tz_convert("UTC").tz_localize(None).as_unit("us").to_datetime64())



def _months(s: Settings) -> list[tuple[str, pd.Timestamp, pd.Timestamp, pd.Timestamp, pd.Timestamp]]:
    """(YYYY-MM, month start, month end, in-window start, in-window end) in local calendar months."""
    tz = ZoneInfo(s.timezone)
    local_start = s.start.tz_convert(tz)
    month = pd.Timestamp(dt.datetime(local_start.year, local_start.month, 1), tz=tz)
    out = []
    while month.tz_convert("UTC") < s.end:
        nxt = (month.tz_localize(None) + pd.offsets.MonthBegin(1)).tz_localize(tz)
        m0, m1 = month.tz_convert("UTC"), nxt.tz_convert("UTC")
        out.append((month.strftime("%Y-%m"), m0, m1, max(m0, s.start), min(m1, s.end)))
        month = nxt
    return out



def _isin(values: pd.Series, among: pd.Series) -> np.ndarray:
    """values.isin(among) through pyarrow: pandas' isin builds Python objects for string columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    left = pa.array(values.astype("string").array)
    right = pa.array(among.astype("string").array)
    return pc.is_in(left, value_set=right).fill_null(False).to_numpy(zero_copy_only=False)


def _counts(series: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.fillna("unknown").value_counts().sort_index().items()}


def compute(incidents: pd.DataFrame, deploys: pd.DataFrame, actions: pd.DataFrame,
            s: Settings) -> dict[str, Any]:
    """All baseline metrics as one JSON-ready document (schema in docs/metrics.md)."""
    return compute_with_frame(incidents, deploys, actions, s)[0]


def compute_with_frame(incidents: pd.DataFrame, deploys: pd.DataFrame, actions: pd.DataFrame,
                       s: Settings) -> tuple[dict[str, Any], pd.DataFrame]:
    """The metrics document and the in-window rows of the enriched table it was computed from,
    which the risks, the reports and the pages read (never recomputing a flag)."""
    table = enrich(incidents, deploys, actions, s)
    frame = window_rows(table)
    return compute_from_table(table, deploys, actions, s, frame), frame


def window_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The in-window rows of the enriched table. The table is in start order, so they are one
    run of rows: a slice shares the table's memory where a boolean filter would copy it."""
    rows = np.flatnonzero(table["in_window"].to_numpy(bool))
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return table.iloc[rows[0]:rows[-1] + 1].reset_index(drop=True)
    return table[table["in_window"]].reset_index(drop=True)


def compute_from_table(table: pd.DataFrame, deploys: pd.DataFrame, actions: pd.DataFrame,
                       s: Settings, frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """The metrics document from the enriched table (enrich.enrich); `frame`, its in-window rows
    when the caller has them already."""
    avail_rows, avail_overall = availability(table, s)
    df = window_rows(table) if frame is None else frame
    durations = _duration_block(df)
    # time to detect splits by who detected: one median over both describes neither
    mttd_by_source = {str(k): stats(g, len(g)) for k, g in
                      df["ttd"].groupby(df["detection_source"].fillna("unknown"))}
    # groups read only what they need: a group of the whole table copies every column
    spans = df[list(DURATION_KEYS.values())]
    by_month = [(str(m), g) for m, g in spans.groupby(df["month"])]
    by_service = [(str(k), g) for k, g in spans.groupby(df["service"].fillna("unknown"))]
    by_severity = {}
    for sev in (*SEVERITIES, None):
        sub = spans[df["severity"].isna()] if sev is None else spans[df["severity"] == sev]
        if sev is None and sub.empty:
            continue
        by_severity[sev or "unclassified"] = {"count": int(len(sub)), **_duration_block(sub)}
    major = df.loc[df["major"], [*DURATION_KEYS.values(), "detection_source"]]
    rec = recurrence(df, s.recurrence_days)
    pm = postmortem_discipline(df, actions, s)
    classified = round(float(df["severity"].notna().mean()), 4) if len(df) else None
    weekly = (df[["week"]].assign(severity=df["severity"].fillna("unclassified"))
              .groupby(["week", "severity"]).size())
    impact = customer_impact(df)
    doc = {
        "window": {"start": s.start.isoformat(), "end": s.end.isoformat(), "timezone": s.timezone,
                   "first_day": s.start.tz_convert(s.timezone).date().isoformat(),
                   "last_day": (s.end.tz_convert(s.timezone) - pd.Timedelta(days=1)).date().isoformat(),
                   "days": round((s.end - s.start).total_seconds() / 86400)},
        "incident_count": int(len(df)),
        "open_incidents": int(df["open"].sum()),
        "fallbacks": {
            "impact_start_from_detected": int(df["start_fallback"].sum()),
            "mitigated_from_resolved": 0,
        },
        **durations,
        "mttd_by_detection_source": mttd_by_source,
        "headline": {
            "set": "SEV1-SEV2",
            "count": int(len(major)),
            **_duration_block(major),
            "mttd_by_detection_source": {str(k): stats(g, len(g)) for k, g in major["ttd"].groupby(
                major["detection_source"].fillna("unknown"))},
            "customer_reported_share": impact["major_customer_reported_share"],
            "recurrence_rate": rec["major_rate"],
        },
        "by_severity": by_severity,
        "by_month": _counts(df["month"]),
        "by_service": _counts(df["service"]),
        "by_detection_source": _counts(df["detection_source"]),
        "by_week_severity": [{"week": w, "severity": sv, "count": int(c)}
                             for (w, sv), c in weekly.items()],
        "mttr_by_month": {m: stats(g["ttr"])["median"] for m, g in by_month},
        "durations_by_month": {m: {"count": int(len(g)), **_duration_block(g)} for m, g in by_month},
        "durations_by_service": {k: {"count": int(len(g)), **_duration_block(g)}
                                 for k, g in by_service},
        "service_mttr_minutes": {k: stats(g["ttr"])["median"] for k, g in by_service},
        "severity_classified_share": classified,
        "mitigation_sla": mitigation_sla(df, s),
        "recurrence": rec,
        "availability_by_month": avail_rows,
        "availability": avail_overall,
        "customer_impact": impact,
        "postmortems": pm,
        "change_failure_rate": change_failure(df, deploys, s),
        "on_call": on_call_load(df, s),
        "trends": trends(df, avail_rows, s),
        "data_quality": data_quality(table, df),
        "maturity": maturity(durations["mttr_minutes"]["median"], pm, rec, avail_overall,
                             classified),
    }
    doc["benchmarks"] = benchmark_levels(doc)
    return doc
