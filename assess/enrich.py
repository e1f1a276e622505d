"""The enriched incident table: every incident once, with every fact derived from it.

Built once per analysis from the canonical tables (exports -> canonical tables -> this table ->
metrics, risks, reports, pages); nothing downstream recomputes a flag or turns a list of keys back
into a mask. One rule per fact, documented in docs/metrics.md:

- start: the impact start, else detection (`start_fallback`). In the window when the start falls in
  [window start, window end).
- durations, each with one start and one end (never blended): ttd impact start -> detected,
  tta detected -> acknowledged, ttm detected -> mitigated, ttr detected -> resolved ("time to
  resolve, from detection"), ttrestore impact start -> resolved ("time to restore, from impact
  start"), tt_start_mitigation detected -> mitigation started. A duration whose two times run
  backwards is not measurable for that incident (NaN) and counted as out of order.
- impact: the source's own impact when it records one, else the engagement's severity-to-impact
  mapping (default SEV1 outage, SEV2 partial); `impact_basis` says which.
- downtime: from the start to mitigated (else resolved); an end recorded before detection is moved
  to detection (the earliest an outage can have been seen to end); an incident with no end at all
  is never counted as downtime (`outage_open`, listed by the metrics); clipped to the window.
- change related: a recorded root cause decides (a change cause -> related, any other -> not);
  without one, an incident that started within the change window after a deploy of its service
  is related by time (`change_basis` 'recorded' or 'time').
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .engagement import DEFAULT_IMPACT_BY_SEVERITY, BusinessHours, Engagement
from .files import safe_yaml
from .incidents import timeline_problems
from .paths import data_dir

TITLE_SIMILARITY = 0.82
# Title clustering's bounds (a hostile or careless export must not make the analysis quadratic):
# titles are compared on their first TITLE_COMPARE_CHARS normalised characters, and a title is
# compared with at most TITLE_CLUSTERS_MAX clusters (those formed first: root-cause classes, then
# title clusters in start order); past that, an unmatched title is a class of its own.
TITLE_COMPARE_CHARS = 200
TITLE_CLUSTERS_MAX = 1000
MAJOR = ("SEV1", "SEV2")
DURATIONS = {  # column -> (from, to)
    "ttd": ("impact_start", "detected"),
    "tta": ("detected", "acknowledged"),
    "ttm": ("detected", "mitigated"),
    "ttr": ("detected", "resolved"),
    "ttrestore": ("impact_start", "resolved"),
    "tt_start_mitigation": ("detected", "mitigation_started"),
}


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
    impact_by_severity: tuple[tuple[str, str], ...] = field(
        default=tuple(sorted(DEFAULT_IMPACT_BY_SEVERITY.items())))

    @classmethod
    def from_engagement(cls, e: Engagement) -> Settings:
        start, end = e.window_bounds_utc()
        return cls(start=pd.Timestamp(start), end=pd.Timestamp(end), timezone=e.timezone,
                   sla_target=e.sla_target,
                   mitigation_targets=tuple(sorted(e.mitigation_targets.items())),
                   partial_outage_weight=e.partial_outage_weight,
                   change_window_minutes=e.change_window_minutes,
                   recurrence_days=e.recurrence_days, business_hours=e.business_hours,
                   impact_by_severity=tuple(sorted(e.impact_by_severity.items())))


@cache
def metrics_yaml() -> dict[str, Any]:
    """assess/data/metrics.yaml, parsed once: the catalog, the rules and the phrases."""
    return safe_yaml((data_dir("assess/data") / "metrics.yaml").read_text(encoding="utf-8"))


@cache
def rules() -> dict[str, Any]:
    """The metric rules a consultant may change (assess/data/metrics.yaml, `rules`)."""
    data = metrics_yaml()
    return data["rules"]


def _minutes(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 60.0


# --- recurrence classes ------------------------------------------------------------------------

_NOISE = re.compile(r"\b(?:[0-9a-f]{6,}|\d+(?:\.\d+)*%?|[a-z]+-\d+)\b")
_PUNCT = re.compile(r"[^a-z ]+")


def normalise_title(title: str) -> str:
    """Lower-case, without numbers, ids, brackets and punctuation, for fuzzy matching."""
    text = _NOISE.sub(" ", str(title).lower())
    return " ".join(_PUNCT.sub(" ", text).split())


def normalise_titles(titles: pd.Series) -> pd.Series:
    """normalise_title over a column, vectorised (pyarrow's regex engine); same results.

    One pass instead of three: at each position the noise tokens are tried first, then a single
    character outside [a-z ], then a space, exactly the matches the passes of normalise_title find
    in turn (they all read the lower-cased text), and each run of them becomes one space."""
    text = titles.astype("string").str.lower()
    # one character at a time: a run of them could swallow the start of a noise token
    text = text.str.replace(f"(?:{_NOISE.pattern}|[^a-z ]| )+", " ", regex=True)
    return text.str.strip()


def incident_classes(df: pd.DataFrame) -> pd.Series:
    """A class per incident: 'root cause @ service' when known, else a cluster of similar titles.

    Incidents with a known root cause form their classes first; an incident without one joins the
    class whose titles its own most resembles (normalised titles, similarity at least
    TITLE_SIMILARITY by rapidfuzz's ratio, root-cause classes before title clusters, ties to the
    earliest), so one postmortem's root cause labels the whole family. Work is per distinct
    normalised title, not per incident, so a million incidents cost what their titles cost; it is
    bounded by TITLE_COMPARE_CHARS and TITLE_CLUSTERS_MAX (near-linear in the distinct titles).
    """
    from rapidfuzz import fuzz, process

    titles = df["title"].fillna("").astype("string")
    norms = normalise_titles(titles)
    rc = df["root_cause"].astype("string").str.strip().str.lower()
    has_rc = (rc.notna() & (rc != "")).to_numpy(bool)
    rc_labels = rc[has_rc] + " @ " + df.loc[has_rc, "service"].fillna("any").astype("string")
    # the first root-cause label of each distinct normalised title, in table order
    firsts = pd.DataFrame({"norm": norms[has_rc].to_numpy(object),
                           "label": rc_labels.to_numpy(object)}).drop_duplicates("norm")
    seen: dict[str, str] = dict(zip(firsts["norm"], firsts["label"], strict=True))
    rep_norms = [n[:TITLE_COMPARE_CHARS] for n in firsts["norm"][:TITLE_CLUSTERS_MAX]]
    rep_labels = list(firsts["label"][:TITLE_CLUSTERS_MAX])
    pending = ~has_rc
    first_title = titles[pending].groupby(norms[pending], sort=False).first()
    for norm, title in first_title.items():
        if norm in seen:
            continue
        match = process.extractOne(norm[:TITLE_COMPARE_CHARS], rep_norms, scorer=fuzz.ratio,
                                   score_cutoff=TITLE_SIMILARITY * 100) if rep_norms else None
        label = rep_labels[match[2]] if match else f"similar to: {title}"
        seen[norm] = label
        if not match and len(rep_norms) < TITLE_CLUSTERS_MAX:
            rep_norms.append(norm[:TITLE_COMPARE_CHARS])
            rep_labels.append(label)
    # every row's label in pyarrow, through the distinct titles (no Python string per incident)
    codes, uniques = pd.factorize(norms)
    by_title = pa.array([seen[u] for u in uniques], pa.large_string()).take(pa.array(codes))
    own = _arrow(rc + " @ " + df["service"].fillna("any").astype("string"))
    labels = pc.if_else(pa.array(has_rc), own, by_title)
    return pd.Series(pd.arrays.ArrowStringArray(labels), index=df.index, dtype="string")


def _arrow(text: pd.Series):
    """A pandas 'string' column's pyarrow array (one chunk)."""
    array = pa.array(text.array)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def recurring_flags(df: pd.DataFrame, days: int, in_start_order: bool = False) -> pd.Series:
    """True where an earlier incident of the same class started within `days` before (the
    previous incident of its class in start-then-key order; no class, no recurrence).
    `in_start_order`: the rows are in that order already (the enriched table's)."""
    if df.empty:
        return pd.Series([], dtype=bool, index=df.index)
    codes = pd.factorize(df["class"])[0]
    by_start = np.arange(len(df)) if in_start_order else start_key_order(df["start"], df["key"])
    order = by_start[np.argsort(codes[by_start], kind="stable")]
    code = codes[order]
    start = _micros(df["start"])[order]
    gap = start[1:] - start[:-1]
    known = (start[1:] != _NAT) & (start[:-1] != _NAT)
    hit = (code[1:] == code[:-1]) & (code[1:] >= 0) & known & (gap <= days * 86_400_000_000)
    flags = np.zeros(len(df), dtype=bool)
    flags[order[1:]] = hit
    return pd.Series(flags, index=df.index)


_NAT = np.iinfo(np.int64).min


def _micros(when: pd.Series) -> np.ndarray:
    """A UTC timestamp column as int64 microseconds (missing: _NAT)."""
    return when.to_numpy(dtype="datetime64[us]").view("int64")


def start_key_order(start: pd.Series, key: pd.Series) -> np.ndarray:
    """Row positions in start order (missing last), ties by key: what
    sort_values(["start", "key"], kind="mergesort") gives, without sorting a million keys
    as text (only the rows that share a start are ordered by key)."""
    t = _micros(start)
    t = np.where(t == _NAT, np.iinfo(np.int64).max, t)
    order = np.argsort(t, kind="stable")
    ts = t[order]
    same = ts[1:] == ts[:-1]
    if same.any():
        tied = np.zeros(len(ts), dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        at = np.flatnonzero(tied)
        rows = order[at]
        rank = pd.factorize(key.to_numpy(dtype=object, na_value=None)[rows], sort=True)[0]
        rank = np.where(rank < 0, len(rows), rank)  # a missing key last, as sort_values puts it
        order[at] = rows[np.lexsort((rank, t[rows]))]
    return order


# --- business hours ----------------------------------------------------------------------------


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


# --- the table ---------------------------------------------------------------------------------


def _impact(df: pd.DataFrame, s: Settings) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Effective impact, its basis ('source' | 'severity' | NA) and the downtime weight."""
    by_severity = dict(s.impact_by_severity)
    codes, severities = pd.factorize(df["severity"])  # a few distinct values: map those
    mapped = pd.Series(pd.array([by_severity.get(v) for v in severities], dtype="string")
                       .take(codes, allow_fill=True), index=df.index)
    source = df["impact"].astype("string")
    impact = source.fillna(mapped)
    which = np.where(source.notna(), 0, np.where(mapped.notna(), 1, -1))
    basis = pd.Series(pd.array(["source", "severity"], dtype="string").take(which, allow_fill=True),
                      index=df.index)
    weight = np.where(impact.eq("outage").fillna(False), 1.0,
                      np.where(impact.isin(["partial", "degraded"]).fillna(False),
                               s.partial_outage_weight, 0.0))
    return impact, basis, weight


def _change(df: pd.DataFrame, deploys: pd.DataFrame, s: Settings) -> pd.DataFrame:
    """Per incident: the latest deploy of its service within the change window before its start
    (`deploy_key`, time evidence) and whether it is change related, with the basis."""
    window = pd.Timedelta(minutes=s.change_window_minutes)
    deploy_key = pd.Series(pd.NA, index=df.index, dtype="string")
    deps = deploys.dropna(subset=["service", "deployed_at"])
    deps = deps.iloc[start_key_order(deps["deployed_at"], deps["key"])]
    known = (df["service"].notna() & df["start"].notna()).to_numpy(bool)
    if known.any() and len(deps):
        # services as shared integer codes: merge_asof's `by` on integers, not text
        codes, _ = pd.factorize(pd.concat([df["service"][known], deps["service"]],
                                          ignore_index=True))
        incs = pd.DataFrame({"start": df["start"][known].array, "pos": np.flatnonzero(known),
                             "service": codes[:known.sum()]}).sort_values("start", kind="mergesort")
        joined = pd.merge_asof(
            incs, pd.DataFrame({"deploy_key": deps["key"].to_numpy(object),
                                "service": codes[known.sum():],
                                "deployed_at": deps["deployed_at"].array}),
            left_on="start", right_on="deployed_at", by="service", direction="backward",
            tolerance=window, allow_exact_matches=True)
        hits = joined["deploy_key"].notna().to_numpy(bool)
        source = np.full(len(df), -1)  # each incident's deploy, by position among the hits
        source[joined["pos"].to_numpy()[hits]] = np.arange(int(hits.sum()))
        keys = pd.array(joined["deploy_key"].to_numpy(object)[hits], dtype="string")
        deploy_key = pd.Series(keys.take(source, allow_fill=True), index=df.index)
    out = pd.DataFrame({"deploy_key": deploy_key})
    near = out["deploy_key"].notna().to_numpy(bool)
    cause = df["root_cause"].astype("string").str.strip()
    recorded = (cause.notna() & cause.ne("")).to_numpy(bool)
    change_cause = cause.str.contains(rules()["change_root_cause"], case=False, regex=True)
    change_cause = change_cause.fillna(False).to_numpy(bool)
    related = np.where(recorded, change_cause, near)
    basis = np.where(recorded & change_cause, "recorded", np.where(~recorded & near, "time", None))
    out["near_deploy"] = near
    out["change_related"] = related
    out["change_basis"] = pd.Series(basis, index=df.index, dtype="string")
    # a recorded root cause that is not a change clears a time coincidence: say so
    out["change_cleared_by_cause"] = near & recorded & ~change_cause
    return out


def _timeline(df: pd.DataFrame) -> pd.Series:
    """A sentence per incident whose recorded times run backwards (NA where in order)."""
    problems = timeline_problems(df)
    text = pd.Series(pd.NA, index=df.index, dtype="string")
    if len(problems):
        words = (problems["later"].str.replace("_", " ") + " " + problems["minutes"].map(
            lambda m: f"{m:g}") + " min before " + problems["earlier"].str.replace("_", " "))
        # most incidents have one pair out of order: join only where there are several
        # the pairs of one incident joined with "; " in lifecycle order (problems come sorted
        # by position, then lifecycle), a rank at a time in pyarrow rather than a join per row
        position = problems["position"].to_numpy()
        rank = problems.groupby("position").cumcount().to_numpy()
        parts = words.astype("string").array
        firsts = position[rank == 0]
        sentences = parts[rank == 0]
        for level in range(1, int(rank.max()) + 1):
            at = np.searchsorted(firsts, position[rank == level])
            longer = sentences.take(at) + "; " + parts[rank == level]
            where = np.arange(len(sentences))
            where[at] = len(sentences) + np.arange(len(longer))
            sentences = type(sentences)._concat_same_type([sentences, longer]).take(where)
        source = np.full(len(df), -1)  # each row's sentence, by position in `sentences`
        source[firsts] = np.arange(len(firsts))
        text = pd.Series(sentences.take(source, allow_fill=True), index=df.index)
    return text


def enrich(incidents: pd.DataFrame, deploys: pd.DataFrame, actions: pd.DataFrame,
           s: Settings) -> pd.DataFrame:
    """Every incident with its derived facts (columns listed in docs/metrics.md), sorted by start
    then key so that every order-dependent step is independent of the input's order."""
    start = incidents["impact_start"].fillna(incidents["detected"])
    order = start_key_order(start, incidents["key"])
    df = incidents.take(order).reset_index(drop=True)  # the one copy of the canonical columns
    df["start"] = start.take(order).reset_index(drop=True)
    df["start_fallback"] = df["impact_start"].isna() & df["detected"].notna()
    df["in_window"] = ((df["start"] >= s.start) & (df["start"] < s.end)).fillna(False)
    df["before_window"] = (df["start"] < s.start).fillna(False)
    df["after_window"] = (df["start"] >= s.end).fillna(False)
    df["major"] = df["severity"].isin(MAJOR).fillna(False).astype(bool)
    df["open"] = df["resolved"].isna()
    for col, (a, b) in DURATIONS.items():
        df[col] = _minutes(df[b] - df[a])
    df["timeline_issue"] = _timeline(df)
    df["timeline_problem"] = df["timeline_issue"].notna()
    local = df["start"].dt.tz_convert(s.timezone)
    df["month"] = _labels(local.dt.tz_localize(None).dt.to_period("M").dt.start_time, "%Y-%m")
    df["week"] = _labels(local.dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time,
                         "%Y-%m-%d")

    impact, basis, weight = _impact(df, s)
    df["impact_effective"] = impact
    df["impact_basis"] = basis
    df["outage_weight"] = weight
    end = df["mitigated"].fillna(df["resolved"])
    end = end.where(~(end < df["detected"]).fillna(False), df["detected"])
    df["outage_end_moved"] = (df["mitigated"].fillna(df["resolved"]) < df["detected"]).fillna(False)
    counts = (weight > 0) & df["start"].notna().to_numpy(bool)
    df["outage_open"] = counts & end.isna().to_numpy(bool) & (df["start"] < s.end).fillna(False)
    begin_in = df["start"].clip(lower=s.start, upper=s.end)
    end_in = end.clip(lower=s.start, upper=s.end)
    minutes_in = _minutes(end_in - begin_in).clip(lower=0).fillna(0.0)
    df["outage_begin"] = df["start"].where(counts)
    df["outage_end"] = end.where(counts)
    df["outage_minutes_in_window"] = np.where(counts & end.notna().to_numpy(bool),
                                              minutes_in * weight, 0.0)

    targets = dict(s.mitigation_targets)
    target = df["severity"].map(targets).astype("Float64")
    measured = df["tt_start_mitigation"].where(df["tt_start_mitigation"] >= 0)
    df["mitigation_target_minutes"] = target
    df["missed_mitigation_target"] = (measured > target).astype("boolean").where(
        measured.notna() & target.notna())

    for col, values in _change(df, deploys, s).items():  # concat(axis=1) copies every column
        df[col] = values
    paged = paged_at(df, s)
    df["out_of_hours"] = (out_of_hours(paged, s.business_hours) & paged.notna()).astype(bool)
    has_pm = df["postmortem_at"].notna() | df["postmortem_url"].notna()
    df["missing_postmortem"] = df["major"] & ~has_pm

    # an incident recurs when its class was seen within the recurrence window before it, even
    # if that earlier incident fell before the assessment window: look back that far; only the
    # window's incidents carry a class and a recurrence flag onwards
    lookback = s.start - pd.Timedelta(days=s.recurrence_days)
    in_window = df["in_window"].to_numpy(bool)
    seen = in_window | ((df["start"] >= lookback) & (df["start"] < s.start)).fillna(False) \
        .to_numpy(bool)
    classes = pa.nulls(len(df), pa.large_string())
    recurring = np.zeros(len(df), dtype=bool)
    if seen.any() and in_window.any():
        # only the columns each step reads: a row filter of the whole table copies every column
        sub = df.loc[seen, ["title", "root_cause", "service", "start", "key"]]
        sub["class"] = incident_classes(sub[["title", "root_cause", "service"]])
        keep = in_window[seen]
        recurring[np.flatnonzero(seen)[keep]] = recurring_flags(
            sub[["class", "start", "key"]], s.recurrence_days, in_start_order=True
        ).to_numpy(bool)[keep]
        # each window row takes its class from `sub` by position; the others take a null
        source = np.full(len(df), len(sub))
        source[np.flatnonzero(seen)[keep]] = np.flatnonzero(keep)
        known = _arrow(sub["class"])
        classes = pa.concat_arrays([known, pa.nulls(1, known.type)]).take(pa.array(source))
    df["class"] = pd.Series(pd.arrays.ArrowStringArray(classes), index=df.index, dtype="string")
    df["recurring"] = recurring
    return df


def _labels(when: pd.Series, fmt: str) -> pd.Series:
    """when.dt.strftime(fmt), formatting each distinct value once (a million incidents fall in
    a few hundred weeks); NaT stays missing."""
    codes, uniques = pd.factorize(when)
    if not len(uniques):
        return when.dt.strftime(fmt)
    text = pd.Series(uniques).dt.strftime(fmt)
    return pd.Series(text.array.take(codes, allow_fill=True), index=when.index)
