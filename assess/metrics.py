"""Baseline metrics over the assessment window: a pure function of the canonical tables.

Every definition and fallback is documented in docs/metrics.md; the short form:
- An incident is in the window when its start (impact start, or detection when that is missing)
  falls in [window start, window end). Downtime from incidents that began earlier is clipped in.
- MTTD = detected - impact start (only where the impact start is known, no fallback: a fallback
  would report zero). MTTA = acknowledged - detected. Time to mitigate (MTTM) = mitigated - detected,
  falling back to resolved when mitigation was not recorded. MTTR = resolved - start.
  Each: median (the headline), p90, mean, max, n, and how many values used a fallback.
- Downtime: incidents that took a service down (SEV1 or impact 'outage') count in full, partial or
  degraded ones by the engagement's `partial_outage_weight`; from start to mitigated (else resolved,
  else the window end). Overlaps are merged: each minute counts once, at its highest weight.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .engagement import SEVERITIES, BusinessHours, Engagement

MATURITY_LEVELS = ("Reactive", "Defined", "Proactive", "Preventive")
# Median MTTR bands of the source articles' maturity model (minutes): Preventive < 5,
# Proactive 10-15, Defined 30-60, Reactive 2-4 h. Values between bands go to the lower level.
MTTR_BANDS = ((5.0, "Preventive"), (15.0, "Proactive"), (60.0, "Defined"))
POSTMORTEM_DEADLINE = pd.Timedelta(hours=48)
TITLE_SIMILARITY = 0.82


@dataclass(frozen=True)
class Settings:
    """What the metrics need from the engagement (no I/O, no Flask)."""

    start: pd.Timestamp  # window start, UTC
    end: pd.Timestamp  # window end (exclusive), UTC
    timezone: str = "UTC"
    sla_target: float = 0.999
    mitigation_targets: tuple[tuple[str, float], ...] = (("SEV1", 5.0), ("SEV2", 15.0),
                                                         ("SEV3", 240.0))
    partial_outage_weight: float = 0.5
    change_window_minutes: float = 120.0
    recurrence_days: int = 30
    business_hours: BusinessHours = BusinessHours()

    @classmethod
    def from_engagement(cls, e: Engagement) -> Settings:
        start, end = e.window_bounds_utc()
        return cls(start=pd.Timestamp(start), end=pd.Timestamp(end), timezone=e.timezone,
                   sla_target=e.sla_target,
                   mitigation_targets=tuple(sorted(e.mitigation_targets.items())),
                   partial_outage_weight=e.partial_outage_weight,
                   change_window_minutes=e.change_window_minutes,
                   recurrence_days=e.recurrence_days, business_hours=e.business_hours)


def _minutes(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 60.0


def stats(values: pd.Series, fallbacks: int = 0) -> dict[str, Any]:
    """median, p90, mean, max and n of a series of minutes (NaN ignored; negatives excluded)."""
    v = values.dropna().astype(float)
    v = v[v >= 0]
    if v.empty:
        return {"median": None, "p90": None, "mean": None, "max": None, "n": 0,
                "fallbacks": fallbacks}
    return {
        "median": round(float(v.median()), 1),
        "p90": round(float(np.percentile(v.to_numpy(), 90)), 1),
        "mean": round(float(v.mean()), 1),
        "max": round(float(v.max()), 1),
        "n": int(len(v)),
        "fallbacks": int(fallbacks),
    }


def prepare(incidents: pd.DataFrame, s: Settings) -> pd.DataFrame:
    """Derived columns: start (with fallback), durations in minutes, local month, in-window flag."""
    df = incidents.copy()
    df["start"] = df["impact_start"].fillna(df["detected"])
    df["start_fallback"] = df["impact_start"].isna() & df["detected"].notna()
    df["mitigated_eff"] = df["mitigated"].fillna(df["resolved"])
    df["mitigated_fallback"] = df["mitigated"].isna() & df["resolved"].notna()
    df["ttd"] = _minutes(df["detected"] - df["impact_start"])
    df["tta"] = _minutes(df["acknowledged"] - df["detected"])
    df["ttm"] = _minutes(df["mitigated_eff"] - df["detected"])
    df["ttr"] = _minutes(df["resolved"] - df["start"])
    started = df["mitigation_started"].fillna(df["mitigated_eff"])
    df["tt_start_mitigation"] = _minutes(started - df["detected"])
    df["in_window"] = (df["start"] >= s.start) & (df["start"] < s.end)
    local = df["start"].dt.tz_convert(s.timezone)
    df["month"] = local.dt.strftime("%Y-%m")
    df["week"] = (local.dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
                  .dt.strftime("%Y-%m-%d"))
    # sort so that every order-dependent step (recurrence) is independent of the input's order
    return df.sort_values(["start", "key"], kind="mergesort").reset_index(drop=True)


def _duration_block(df: pd.DataFrame) -> dict[str, Any]:
    return {
        "mttd_minutes": stats(df["ttd"]),
        "mtta_minutes": stats(df["tta"]),
        "mttm_minutes": stats(df["ttm"], int((df["mitigated_fallback"] & df["ttm"].notna()).sum())),
        "mttr_minutes": stats(df["ttr"], int((df["start_fallback"] & df["ttr"].notna()).sum())),
    }


# --- recurrence -----------------------------------------------------------------------------

_NOISE = re.compile(r"\b(?:[0-9a-f]{6,}|\d+(?:\.\d+)*%?|[a-z]+-\d+)\b")
_PUNCT = re.compile(r"[^a-z ]+")


def normalise_title(title: str) -> str:
    """Lower-case, without numbers, ids, brackets and punctuation, for fuzzy matching."""
    text = _NOISE.sub(" ", str(title).lower())
    return " ".join(_PUNCT.sub(" ", text).split())


def normalise_titles(titles: pd.Series) -> pd.Series:
    """normalise_title over a column, vectorised (pyarrow's regex engine); same results."""
    text = titles.astype("string").str.lower()
    text = text.str.replace(_NOISE.pattern, " ", regex=True)
    text = text.str.replace(_PUNCT.pattern, " ", regex=True)
    return text.str.replace(r" +", " ", regex=True).str.strip()


def incident_classes(df: pd.DataFrame) -> pd.Series:
    """A class per incident: 'root cause @ service' when known, else a cluster of similar titles.

    Incidents with a known root cause form their classes first; an incident without one joins the
    class whose titles its own most resembles (normalised titles, similarity at least
    TITLE_SIMILARITY by rapidfuzz's ratio, root-cause classes before title clusters, ties to the
    earliest), so one postmortem's root cause labels the whole family. Work is per distinct
    normalised title, not per incident, so a million incidents cost what their titles cost.
    """
    from rapidfuzz import fuzz, process

    titles = df["title"].fillna("").astype("string")
    norms = normalise_titles(titles)
    rc = df["root_cause"].astype("string").str.strip().str.lower()
    has_rc = rc.notna() & (rc != "")
    labels = pd.Series(pd.NA, index=df.index, dtype="string")
    labels[has_rc] = rc[has_rc] + " @ " + df.loc[has_rc, "service"].fillna("any").astype("string")
    rep_norms: list[str] = []
    rep_labels: list[str] = []
    seen: dict[str, str] = {}
    for norm, label in zip(norms[has_rc], labels[has_rc], strict=True):
        if norm not in seen:
            seen[norm] = label
            rep_norms.append(norm)
            rep_labels.append(label)
    pending = ~has_rc
    first_title = titles[pending].groupby(norms[pending], sort=False).first()
    for norm, title in first_title.items():
        if norm in seen:
            continue
        match = process.extractOne(norm, rep_norms, scorer=fuzz.ratio,
                                   score_cutoff=TITLE_SIMILARITY * 100) if rep_norms else None
        label = rep_labels[match[2]] if match else f"similar to: {title}"
        seen[norm] = label
        if not match:
            rep_norms.append(norm)
            rep_labels.append(label)
    labels[pending] = norms[pending].map(seen)
    return labels.astype("string")


SEVERITY_WEIGHT = {"SEV1": 8, "SEV2": 4, "SEV3": 2, "SEV4": 1}


def recurrence(df: pd.DataFrame, days: int) -> dict[str, Any]:
    """Recurring incidents: an earlier incident of the same class started within `days` before."""
    if df.empty:
        return {"rate": None, "recurring": 0, "n": 0, "window_days": days, "classes": []}
    window = pd.Timedelta(days=days)
    ordered = df.sort_values(["class", "start", "key"], kind="mergesort")
    same = ordered["class"].eq(ordered["class"].shift())
    gap = ordered["start"] - ordered["start"].shift()
    recurring = (same & (gap <= window)).reindex(df.index).fillna(False).astype(bool)
    df = df.assign(recurring=recurring,
                   weight=df["severity"].map(SEVERITY_WEIGHT).fillna(1).astype(int))
    hit = df.groupby("class")["recurring"].transform("any")
    families = df[hit]
    summary = families.groupby("class", sort=True).agg(
        incidents=("key", "size"), weight=("weight", "sum"), recurrences=("recurring", "sum"))
    keys = families.assign(key=families["key"].astype(object)).groupby("class", sort=True)["key"].agg(list)
    services = (families.dropna(subset=["service"]).drop_duplicates(["class", "service"])
                .sort_values("service").groupby("class")["service"].agg(list))
    classes = [{
        "class": str(label), "incidents": int(row.incidents), "weight": int(row.weight),
        "recurrences": int(row.recurrences), "keys": [str(k) for k in keys[label]],  # lists
        "services": [str(v) for v in services.get(label, [])],
    } for label, row in summary.iterrows()]
    # the heaviest families first: severity-weighted size (SEV1 8, SEV2 4, SEV3 2, SEV4 1)
    classes.sort(key=lambda c: (-c["weight"], -c["incidents"], c["class"]))
    n = len(df)
    return {"rate": round(int(recurring.sum()) / n, 4), "recurring": int(recurring.sum()), "n": n,
            "window_days": days, "classes": classes}


# --- availability ---------------------------------------------------------------------------


def outage_intervals(df: pd.DataFrame, s: Settings) -> pd.DataFrame:
    """[begin, end, weight] of each incident that took a service down, clipped to the window."""
    full = (df["severity"] == "SEV1").fillna(False) | (df["impact"] == "outage").fillna(False)
    partial = df["impact"].isin(["partial", "degraded"]).fillna(False) & ~full
    weight = np.where(full, 1.0, np.where(partial, s.partial_outage_weight, 0.0))
    out = pd.DataFrame({
        "begin": df["start"],
        "end": df["mitigated_eff"].fillna(s.end),
        "weight": weight,
        "key": df["key"],
    })
    out = out[(out["weight"] > 0) & out["begin"].notna()]
    out["begin"] = out["begin"].clip(lower=s.start)
    out["end"] = out["end"].clip(upper=s.end)
    return out[out["end"] > out["begin"]].reset_index(drop=True)


def merged_downtime(intervals: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp) -> float:
    """Weighted downtime minutes inside [lo, hi): overlapping intervals count once, at max weight."""
    if intervals.empty:
        return 0.0
    begin = intervals["begin"].clip(lower=lo, upper=hi)
    end = intervals["end"].clip(lower=lo, upper=hi)
    keep = end > begin
    if not keep.any():
        return 0.0
    b = begin[keep].to_numpy()
    e = end[keep].to_numpy()
    w = intervals["weight"][keep].to_numpy()
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
    return float(((run_end - run_begin) / np.timedelta64(1, "m")).sum())


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


def availability(df: pd.DataFrame, s: Settings) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per local calendar month and over the window: downtime, availability, error budget."""
    intervals = outage_intervals(df, s)
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
    overall = {
        "sla_target": round(s.sla_target, 6),
        "downtime_minutes": round(total_down, 1),
        "availability": round(1.0 - total_down / total_minutes, 6),
        "error_budget_minutes": round(allowed * total_minutes, 1),
        "budget_consumed": round(total_down / (allowed * total_minutes), 4),
        "months_below_sla": sum(1 for r in rows if not r["sla_met"]),
        "outage_incidents": [str(k) for k in intervals["key"]],
    }
    return rows, overall


# --- the other blocks -----------------------------------------------------------------------


def mitigation_sla(df: pd.DataFrame, s: Settings) -> dict[str, Any]:
    out = {}
    for sev, target in s.mitigation_targets:
        sub = df[df["severity"] == sev]
        measured = sub["tt_start_mitigation"].dropna()
        measured = measured[measured >= 0]
        met = int((measured <= target).sum())
        out[sev] = {
            "target_minutes": target, "incidents": int(len(sub)), "measured": int(len(measured)),
            "met": met, "rate": round(met / len(measured), 4) if len(measured) else None,
            "fallbacks": int(sub["mitigation_started"].isna().sum()),
            "missed": sub.loc[(sub["tt_start_mitigation"] > target).fillna(False), "key"]
            .astype(str).tolist(),
        }
    return out


def customer_impact(df: pd.DataFrame) -> dict[str, Any]:
    known = df["detection_source"].dropna()
    customer = int((known == "customer").sum())
    return {
        "customer_reported": customer,
        "customer_reported_share": round(customer / len(known), 4) if len(known) else None,
        "detection_known": int(len(known)),
        "customers_affected": int(df["customers_affected"].sum()),
        "customers_affected_n": int(df["customers_affected"].notna().sum()),
        "support_tickets": int(df["support_tickets"].sum()),
        "support_tickets_n": int(df["support_tickets"].notna().sum()),
        "revenue_impact": round(float(df["revenue_impact"].sum()), 2),
        "revenue_impact_n": int(df["revenue_impact"].notna().sum()),
    }


def postmortem_discipline(df: pd.DataFrame, actions: pd.DataFrame, s: Settings) -> dict[str, Any]:
    major = df[df["severity"].isin(["SEV1", "SEV2"]).fillna(False)]
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
        "median_delay_hours": (round(float((delay.dropna().dt.total_seconds() / 3600).median()), 1)
                               if delay.notna().any() else None),
        "missing": major.loc[~has_pm, "key"].astype(str).tolist(),
        "action_items": int(len(acts)),
        "action_items_with_owner_and_due": int(owned.sum()),
        "action_items_owned_rate": round(float(owned.mean()), 4) if len(acts) else None,
        "action_items_overdue": int(overdue.sum()),
        "action_items_done": int(acts["done"].fillna(False).sum()) if len(acts) else 0,
    }


def change_related(df: pd.DataFrame, deploys: pd.DataFrame, s: Settings) -> dict[str, Any]:
    """Incidents that started within the change window after a deploy of the same service, and
    the deploys followed by one (the latest deploy before each such incident): one as-of join."""
    window = pd.Timedelta(minutes=s.change_window_minutes)
    deps = deploys[(deploys["deployed_at"] >= s.start - window) & (deploys["deployed_at"] < s.end)]
    deps = deps.dropna(subset=["service", "deployed_at"]).sort_values(["deployed_at", "key"])
    incs = df.dropna(subset=["service", "start"])[["key", "service", "start"]]
    incs = incs.assign(pos=incs.index)
    related_keys: list[str] = []
    failed_deploys: set[str] = set()
    if len(incs) and len(deps):
        joined = pd.merge_asof(
            incs.sort_values("start").astype({"service": object}),
            deps[["key", "service", "deployed_at"]].rename(columns={"key": "deploy_key"})
            .astype({"service": object}),
            left_on="start", right_on="deployed_at", by="service", direction="backward",
            tolerance=window, allow_exact_matches=True)
        hits = joined[joined["deploy_key"].notna()]
        positions = np.sort(hits["pos"].to_numpy())
        related_keys = df["key"].iloc[positions].astype(str).tolist()
        failed_deploys = set(hits["deploy_key"].astype(str).tolist())
    in_window = deps[deps["deployed_at"] >= s.start]
    weeks = (s.end - s.start).total_seconds() / (7 * 86400)
    local = in_window["deployed_at"].dt.tz_convert(s.timezone)
    friday_late = int(((local.dt.day_of_week == 4) & (local.dt.hour >= 16)).sum())
    n_dep = len(in_window)
    failed_in_window = failed_deploys & set(in_window["key"].astype(str).tolist())
    return {
        "window_minutes": s.change_window_minutes,
        "change_related_incidents": len(related_keys),
        "change_related_share": round(len(related_keys) / len(df), 4) if len(df) else None,
        "incidents": related_keys,
        "deploys": n_dep,
        "deploys_per_week": round(n_dep / weeks, 1) if weeks else None,
        "deploys_followed_by_incident": len(failed_in_window),
        "rolled_back": int((in_window["outcome"] == "rolled_back").sum()),
        "friday_after_16h": friday_late,
        "change_failure_rate": round(len(failed_in_window) / n_dep, 4) if n_dep else None,
    }


def out_of_hours(local: pd.Series, bh: BusinessHours) -> pd.Series:
    """True where a local wall-clock time falls outside business hours (vectorised contains())."""
    minute = local.dt.hour * 60 + local.dt.minute + local.dt.second / 60
    inside = (local.dt.day_of_week.isin(bh.days)
              & (minute >= bh.start.hour * 60 + bh.start.minute + bh.start.second / 60)
              & (minute < bh.end.hour * 60 + bh.end.minute + bh.end.second / 60))
    return ~inside


def paged_at(df: pd.DataFrame, s: Settings) -> pd.Series:
    """When each incident paged someone, in the client's time zone (detected, else start)."""
    return df["detected"].fillna(df["start"]).dt.tz_convert(s.timezone)


def on_call_load(df: pd.DataFrame, s: Settings) -> dict[str, Any]:
    local = paged_at(df, s).dropna()
    after = int(out_of_hours(local, s.business_hours).sum())
    weekend = int((local.dt.day_of_week >= 5).sum())
    night = int(((local.dt.hour < 7) | (local.dt.hour >= 22)).sum())
    weeks = (s.end - s.start).total_seconds() / (7 * 86400)
    n = len(local)
    return {
        "incidents": int(n),
        "out_of_hours": after,
        "out_of_hours_share": round(after / n, 4) if n else None,
        "weekend": weekend,
        "night": night,
        "pages_per_week": round(n / weeks, 1) if weeks else None,
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
        why("no_mttr", "no resolved incident to measure MTTR on")
    else:
        by_mttr = next((lvl for limit, lvl in MTTR_BANDS if mttr_median < limit), "Reactive")
        why("mttr_band", f"median MTTR {mttr_median:.0f} min is in the {by_mttr} band "
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
        limit("Defined", "sla", f"availability missed the SLA in {avail_overall['months_below_sla']} "
                                "month(s)", months=avail_overall["months_below_sla"])
    level = min(by_mttr, cap, key=MATURITY_LEVELS.index)
    return {"level": level, "rank": MATURITY_LEVELS.index(level) + 1, "by_mttr": by_mttr,
            "practice_cap": cap, "reasons": reasons, "reason_codes": codes}


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
    """The metrics document and the in-window incidents it was computed from (with their
    derived columns and class), so risk evidence reuses the classes instead of recomputing them."""
    prepared = prepare(incidents, s)
    # downtime also counts incidents that began before the window and lasted into it
    avail_rows, avail_overall = availability(prepared[prepared["start"] < s.end], s)
    df = prepared[prepared["in_window"]].reset_index(drop=True)
    df["class"] = incident_classes(df)
    durations = _duration_block(df)
    by_severity = {}
    for sev in (*SEVERITIES, None):
        sub = df[df["severity"].isna()] if sev is None else df[df["severity"] == sev]
        if sev is None and sub.empty:
            continue
        by_severity[sev or "unclassified"] = {"count": int(len(sub)), **_duration_block(sub)}
    rec = recurrence(df, s.recurrence_days)
    pm = postmortem_discipline(df, actions, s)
    classified = round(float(df["severity"].notna().mean()), 4) if len(df) else None
    mttr_by_month = {str(m): stats(g["ttr"])["median"] for m, g in df.groupby("month")}
    weekly = (df.assign(severity=df["severity"].fillna("unclassified"))
              .groupby(["week", "severity"]).size())
    doc = {
        "window": {"start": s.start.isoformat(), "end": s.end.isoformat(), "timezone": s.timezone,
                   "first_day": s.start.tz_convert(s.timezone).date().isoformat(),
                   "last_day": (s.end.tz_convert(s.timezone) - pd.Timedelta(days=1)).date().isoformat(),
                   "days": round((s.end - s.start).total_seconds() / 86400)},
        "incident_count": int(len(df)),
        "open_incidents": int(df["resolved"].isna().sum()),
        "fallbacks": {
            "impact_start_from_detected": int(df["start_fallback"].sum()),
            "mitigated_from_resolved": int(df["mitigated_fallback"].sum()),
        },
        **durations,
        "by_severity": by_severity,
        "by_month": _counts(df["month"]),
        "by_service": _counts(df["service"]),
        "by_detection_source": _counts(df["detection_source"]),
        "by_week_severity": [{"week": w, "severity": sv, "count": int(c)}
                             for (w, sv), c in weekly.items()],
        "mttr_by_month": mttr_by_month,
        "durations_by_month": {str(m): {"count": int(len(g)), **_duration_block(g)}
                               for m, g in df.groupby("month")},
        "durations_by_service": {str(k): {"count": int(len(g)), **_duration_block(g)}
                                 for k, g in df.groupby(df["service"].fillna("unknown"))},
        "service_mttr_minutes": {str(k): stats(g["ttr"])["median"]
                                 for k, g in df.groupby(df["service"].fillna("unknown"))},
        "severity_classified_share": classified,
        "mitigation_sla": mitigation_sla(df, s),
        "recurrence": rec,
        "availability_by_month": avail_rows,
        "availability": avail_overall,
        "customer_impact": customer_impact(df),
        "postmortems": pm,
        "change_failure_rate": change_related(df, deploys, s),
        "on_call": on_call_load(df, s),
        "maturity": maturity(durations["mttr_minutes"]["median"], pm, rec, avail_overall,
                             classified),
    }
    return doc, df
