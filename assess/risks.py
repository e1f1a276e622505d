"""Systemic risks ranked from the evidence: the catalog (YAML), its validation, and the scoring.

A pure function of plain data: the metrics document, the in-window incidents it was computed from
(with their class), and the intake interview's gaps. The formula (docs/risks.md):

    likelihood = weight of the signals that fired / weight of all the risk's signals   (0..1)
    impact     = catalog impact (1-3)
                 + 1 if an evidence incident is SEV1 or took a service down (severity)
                 + 1 if an evidence incident reached customers: customer-reported, customers
                   affected, SEV1/SEV2 (by the severity table), or impact outage, partial or
                   degraded (customers)
                 + 1 if an evidence incident belongs to a recurring family: the same class again
                   within the recurrence window (recurrence)                            (1..6)
    score      = likelihood (to 2 decimals) x impact (to 1 decimal), to 2 decimals: the
                 product of the figures the reports print

Order: score, then impact, then evidence incidents, then catalog order (descending, descending,
descending, ascending). A risk with no fired signal has no evidence: it is listed last and is never
in the top three. Consultant overrides (order, drop, edits) are applied by `plans.apply_risk_overrides`.
"""

from __future__ import annotations

import math
import re
import string
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from . import questionnaires
from .errors import AssessError
from .files import safe_yaml
from .formatting import fmt_value
from .metrics import catalog as metric_catalog
from .paths import data_dir

LANGS = ("en", "fr")
UNITS = ("pct", "pct1", "pct2", "minutes", "count", "number", "times")
SELECTOR_LISTS = ("match", "service", "severity", "detection", "impact")
SELECTOR_FLAGS = ("change_related", "recurring", "missing_postmortem", "missed_sla", "outage",
                  "out_of_hours")
FINDING_FIELDS = ("n", "total", "days", "sev1", "customer_reported", "top_service", "top_class")
EVIDENCE_INCIDENTS_SHOWN = 25
TOP = 3
IMPACT_MAX = 10


class CatalogError(AssessError, ValueError):
    """A problem with the risk catalog or the remediation library, naming the file and the key."""


KINDS = ("metric", "incidents", "answer", "promises")


@dataclass(frozen=True)
class Signal:
    kind: str  # metric | incidents | answer | promises
    weight: float
    metric: str | None = None
    above: float | None = None
    below: float | None = None
    name: str | None = None
    selector: dict[str, Any] | None = None
    at_least: int = 1
    question: str | None = None
    decisive: bool = False  # a high-risk answer alone makes the risk likely (AWS WA style)
    saturation: float | None = None  # severity-weighted incidents at which the signal is full


@dataclass(frozen=True)
class Risk:
    id: str
    title: dict[str, str]
    finding: dict[str, str]
    finding_answers: dict[str, str]
    impact: int
    signals: tuple[Signal, ...]
    actions: tuple[str, ...]
    potential: int | None = None  # impact (1-10) when a decisive answer is high risk


@dataclass(frozen=True)
class Catalog:
    risks: tuple[Risk, ...]
    metrics: dict[str, dict[str, str]]  # path -> unit, en, fr
    file: str


# --- loading and validation --------------------------------------------------------------------


def catalog_path(root: Path | None = None, name: str = "risks.yaml") -> Path:
    """The engagement's own copy when it has one, else the shipped file."""
    if root is not None and (Path(root) / name).is_file():
        return Path(root) / name
    return data_dir("assess/data") / name


def _texts(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) or not value[lang].strip()
                                          for lang in LANGS):
        problems.append(f"{where}: expected a text in each language ({', '.join(LANGS)})")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_selector(sel: Any, where: str, problems: list[str]) -> None:
    if not isinstance(sel, dict) or not sel:
        problems.append(f"{where}: expected a selector such as {{change_related: true}} or "
                        "{match: [pattern]}")
        return
    for key, value in sel.items():
        if key in SELECTOR_LISTS:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                problems.append(f"{where}.{key}: expected a list of texts")
            elif key == "match":
                for pattern in value:
                    try:
                        re.compile(pattern)
                    except re.error as exc:
                        problems.append(f"{where}.match: {pattern!r} is not a valid regex ({exc})")
        elif key in SELECTOR_FLAGS:
            if value is not True:
                problems.append(f"{where}.{key}: expected true")
        else:
            problems.append(f"{where}: unknown selector key {key!r} (expected one of "
                            f"{', '.join(SELECTOR_LISTS + SELECTOR_FLAGS)})")


def validate(data: Any, file: str, action_ids: set[str], question_ids: set[str]) -> list[str]:
    """Every problem with a catalog document, each naming the file, the risk and the key."""
    if not isinstance(data, dict) or not isinstance(data.get("risks"), list):
        return [f"{file}: expected a mapping with a 'risks' list"]
    problems: list[str] = []
    own = data.get("metrics") or {}
    if not isinstance(own, dict):
        return [f"{file}: metrics: expected a mapping of metric path to label and unit"]
    for path, d in own.items():
        where = f"{file}: metrics.{path}"
        if not isinstance(d, dict) or d.get("unit") not in UNITS:
            problems.append(f"{where}: unit: expected one of {', '.join(UNITS)}")
        else:
            _texts({k: d.get(k) for k in LANGS}, where, problems)
    metric_defs = {**metric_catalog(), **own}
    seen: set[str] = set()
    for i, risk in enumerate(data["risks"]):
        if not isinstance(risk, dict):
            problems.append(f"{file}: risks[{i}]: expected a mapping")
            continue
        rid = risk.get("id")
        where = f"{file}: risk {rid!r}" if rid else f"{file}: risks[{i}]"
        if not isinstance(rid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", rid):
            problems.append(f"{where}: id: expected lowercase words joined by '-'")
        elif rid in seen:
            problems.append(f"{where}: id: duplicate id")
        seen.add(str(rid))
        for key in ("title", "finding", "finding_answers"):
            _texts(risk.get(key), f"{where}: {key}", problems)
        impact = risk.get("impact")
        if impact not in (1, 2, 3):
            problems.append(f"{where}: impact: expected 1, 2 or 3, got {impact!r}")
        potential = risk.get("potential")
        if potential is not None and (not isinstance(potential, int) or isinstance(potential, bool)
                                      or not 1 <= potential <= IMPACT_MAX):
            problems.append(f"{where}: potential: expected a whole number from 1 to {IMPACT_MAX}, "
                            f"got {potential!r}")
        signals = risk.get("signals")
        names: list[str] = []
        if not isinstance(signals, list) or not signals:
            problems.append(f"{where}: signals: expected a list of at least one signal")
            signals = []
        for j, sig in enumerate(signals):
            swhere = f"{where}: signals[{j}]"
            if not isinstance(sig, dict):
                problems.append(f"{swhere}: expected a mapping")
                continue
            kinds = [k for k in KINDS if k in sig]
            if len(kinds) != 1:
                problems.append(f"{swhere}: expected exactly one of {', '.join(KINDS)}")
                continue
            if "decisive" in sig and (kinds != ["answer"] or sig["decisive"] is not True):
                problems.append(f"{swhere}: decisive: only an answer signal can be decisive "
                                "(decisive: true)")
            sat = sig.get("saturation")
            if sat is not None and (kinds[0] not in ("incidents", "promises") or not _number(sat)
                                    or sat <= 0):
                problems.append(f"{swhere}: saturation: expected a number above 0 on an incidents "
                                "or promises signal")
            weight = sig.get("weight")
            if not _number(weight) or weight <= 0:
                problems.append(f"{swhere}: weight: expected a number above 0, got {weight!r}")
            if kinds == ["metric"]:
                if sig["metric"] not in metric_defs:
                    problems.append(f"{swhere}: metric: {sig['metric']!r} is neither in the metric "
                                    "catalog (assess/data/metrics.yaml) nor under 'metrics'")
                if ("above" in sig) == ("below" in sig) or not _number(sig.get("above", sig.get("below"))):
                    problems.append(f"{swhere}: expected a number in exactly one of above, below")
                if "name" in sig:
                    if not isinstance(sig["name"], str) or not sig["name"].isidentifier():
                        problems.append(f"{swhere}: name: expected a word usable as {{name}}")
                    else:
                        names.append(sig["name"])
            elif kinds == ["incidents"]:
                _check_selector(sig["incidents"], f"{swhere}.incidents", problems)
                at_least = sig.get("at_least", 1)
                if not isinstance(at_least, int) or isinstance(at_least, bool) or at_least < 1:
                    problems.append(f"{swhere}: at_least: expected a whole number of 1 or more")
            elif kinds == ["promises"]:
                if sig["promises"] is not True:
                    problems.append(f"{swhere}: promises: expected true")
            elif sig["answer"] not in question_ids:
                problems.append(f"{swhere}: answer: {sig['answer']!r} is not a question of the "
                                "questionnaires")
        fields = {f: "0" for f in (*FINDING_FIELDS, *names)}
        for key in ("finding", "finding_answers"):
            for lang in LANGS:
                text = (risk.get(key) or {}).get(lang) if isinstance(risk.get(key), dict) else None
                if isinstance(text, str):
                    try:
                        string.Formatter().vformat(text, (), fields)
                    except (KeyError, IndexError, ValueError) as exc:
                        problems.append(f"{where}: {key}.{lang}: unknown placeholder {exc} (expected "
                                        f"{', '.join('{' + f + '}' for f in fields)})")
        actions = risk.get("actions")
        if not isinstance(actions, list) or not actions:
            problems.append(f"{where}: actions: expected a list of remediation ids")
        else:
            for a in actions:
                if a not in action_ids:
                    problems.append(f"{where}: actions: {a!r} is not in the remediation library")
    return problems


def _question_ids() -> set[str]:
    ids: set[str] = set()
    for name in ("intake", "self_assessment"):
        ids |= set(questionnaires.load(name).questions)
    return ids


def parse(data: dict[str, Any], file: str, action_ids: set[str],
          question_ids: set[str] | None = None) -> Catalog:
    problems = validate(data, file, action_ids, _question_ids() if question_ids is None else question_ids)
    if problems:
        raise CatalogError("\n".join(problems))
    risks = []
    for r in data["risks"]:
        signals = []
        for sig in r["signals"]:
            kind = next(k for k in KINDS if k in sig)
            signals.append(Signal(
                kind=kind, weight=float(sig["weight"]), metric=sig.get("metric"),
                above=sig.get("above"), below=sig.get("below"), name=sig.get("name"),
                selector=sig.get("incidents"), at_least=int(sig.get("at_least", 1)),
                question=sig.get("answer"), decisive=bool(sig.get("decisive", False)),
                saturation=sig.get("saturation")))
        risks.append(Risk(id=r["id"], title=r["title"], finding=r["finding"],
                          finding_answers=r["finding_answers"], impact=int(r["impact"]),
                          signals=tuple(signals), actions=tuple(r["actions"]),
                          potential=r.get("potential")))
    return Catalog(risks=tuple(risks), metrics={**metric_catalog(), **(data.get("metrics") or {})},
                   file=file)


def read_yaml(path: Path) -> Any:
    try:
        return safe_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CatalogError(f"{path.name}:{at} not valid YAML ({getattr(exc, 'problem', exc)})") from exc


# --- evidence ----------------------------------------------------------------------------------


def metric_value(doc: dict[str, Any], path: str) -> Any:
    """A value of the metrics document by dotted path; None when absent."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


@dataclass
class Evidence:
    """What the ranking reads: the metrics document, the incidents and the interview's gaps."""

    metrics: dict[str, Any]
    incidents: pd.DataFrame  # in-window rows of the enriched table (enrich.enrich)
    gaps: list[dict[str, Any]]
    timezone: str = "UTC"
    actions: pd.DataFrame | None = None  # postmortem action items (store.load_postmortems)
    journeys: tuple[str, ...] = ()  # the engagement's revenue-critical journeys

    def flags(self) -> dict[str, np.ndarray]:
        """Per-incident booleans for the selector flags: columns of the enriched table."""
        df = self.incidents

        def column(name: str) -> np.ndarray:
            if name not in df.columns:
                return np.zeros(len(df), bool)
            return df[name].astype("boolean").fillna(False).to_numpy(bool)

        return {
            "change_related": column("change_related"),
            "recurring": column("recurring"),
            "missing_postmortem": column("missing_postmortem"),
            "missed_sla": column("missed_mitigation_target"),
            "outage": df["outage_weight"].eq(1.0).to_numpy(bool) if "outage_weight" in df.columns
            else np.zeros(len(df), bool),
            "out_of_hours": column("out_of_hours"),
        }


def select(df: pd.DataFrame, selector: dict[str, Any], flags: dict[str, np.ndarray]) -> np.ndarray:
    """Rows matching every key of a selector."""
    mask = np.ones(len(df), bool)
    if not len(df):
        return mask
    for key, value in selector.items():
        if key == "match":
            text = (df["title"].fillna("").astype("string") + " \u2016 "
                    + df["root_cause"].fillna("").astype("string") + " \u2016 "
                    + df["class"].fillna("").astype("string"))
            pattern = "|".join(f"(?:{p})" for p in value)
            # groups in a pattern are fine: only whether it matches is read
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
                found = text.str.contains(pattern, case=False, regex=True)
            mask &= found.fillna(False).to_numpy(bool)
        elif key in ("service", "severity", "detection", "impact"):
            column = {"detection": "detection_source"}.get(key, key)
            mask &= df[column].astype("string").isin(value).fillna(False).to_numpy(bool)
        else:
            mask &= flags[key]
    return mask


def _incident_rows(df: pd.DataFrame, timezone: str) -> list[dict[str, Any]]:
    """The evidence incidents a reader sees: the strongest evidence first, then the most severe,
    then the most recent."""
    if df.empty:
        return []
    columns = ["key", "title", "severity", "service", "class", "strength"]
    narrow = df[[*columns, "start"]]  # a sort of the whole evidence table copies every column
    order = narrow.assign(_sev=narrow["severity"].fillna("SEV9"),
                          _strength=narrow["strength"].map(STRENGTH_ORDER)).sort_values(
        ["_strength", "_sev", "start", "key"], ascending=[True, True, False, True],
        kind="mergesort")
    shown = order.head(EVIDENCE_INCIDENTS_SHOWN)
    started = shown["start"].dt.tz_convert(timezone).dt.strftime("%Y-%m-%d %H:%M")
    rows = []
    for values, start in zip(shown[columns].itertuples(index=False, name=None), started, strict=True):
        row = {c: (None if pd.isna(v) else str(v)) for c, v in zip(columns, values, strict=True)}
        row["started"] = None if pd.isna(start) else str(start)
        rows.append(row)
    return rows


def _class_words(label: str | None) -> str | None:
    """A class as a reader says it: 'db-connection-pool (api)', 'alerts like "…"'."""
    if not label:
        return label
    if label.startswith("similar to: "):
        return f"“{label[len('similar to: '):]}”"
    cause, _, service = label.partition(" @ ")
    return f"{cause} ({service})" if service else cause


def _mode(series: pd.Series) -> str | None:
    counts = series.dropna().astype(str).value_counts()
    if counts.empty:
        return None
    top = counts[counts == counts.iloc[0]].index
    return sorted(top)[0]


# --- scoring ---------------------------------------------------------------------------------

# How much one incident weighs as evidence, by severity (unclassified counts as a SEV3)
SEVERITY_WEIGHT = {"SEV1": 1.0, "SEV2": 0.6, "SEV3": 0.25, "SEV4": 0.1}
# Evidence strength: a recorded fact (a root cause, a postmortem action, an interview answer),
# a measured one (computed from recorded times and fields), or an inference (a title that
# matches, a time coincidence).
STRENGTH_ORDER = {"recorded": 0, "measured": 1, "inferred": 2}
# the likelihood a decisive answer alone gives: high risk on a critical question, high, medium
DECISIVE_FLOOR = {"critical": 0.9, "high": 0.8, "medium": 0.5}
ANSWER_STRENGTH = {"high": 1.0, "medium": 0.5}
_STOP = {"and", "the", "for", "with", "from", "into", "public", "our", "their", "des", "les", "pour"}


def _sev_weights(df: pd.DataFrame) -> np.ndarray:
    return df["severity"].map(SEVERITY_WEIGHT).fillna(0.25).to_numpy(float)


def metric_strength(value: float, op: str, threshold: float) -> float:
    """How far past its threshold a metric is, 0..1: 0.5 just past it, 1 at twice as far."""
    denom = abs(threshold) if abs(threshold) >= 1 or threshold else 1.0
    past = (value - threshold) if op == "above" else (threshold - value)
    if past <= 0:
        return 0.0
    return round(min(1.0, 0.5 + 0.5 * past / (denom or 1.0)), 4)


def incident_strength(df: pd.DataFrame, mask: np.ndarray, sig: Signal) -> float:
    """Severity-weighted count of the matching incidents over the signal's saturation, 0..1:
    one SEV3 weighs a twelfth of twelve (docs/risks.md)."""
    if int(mask.sum()) < sig.at_least:
        return 0.0
    saturation = sig.saturation or max(3.0, 0.5 * sig.at_least)
    return round(min(1.0, float(_sev_weights(df)[mask].sum()) / saturation), 4)


def _incident_strengths(df: pd.DataFrame, selector: dict[str, Any]) -> np.ndarray:
    """recorded / measured / inferred, per incident, for how a selector matched it: a field the
    tool recorded (severity, service, detection source, impact) or a root cause is recorded; a
    flag computed from recorded times (missed target, out of hours, recurring...) is measured; a
    matching title or a time coincidence with a deploy is inferred. Several keys: the weakest."""
    out = np.full(len(df), "recorded", dtype=object)
    if not len(df):
        return out

    def weakest(marks: np.ndarray) -> None:
        nonlocal out
        worse = np.vectorize(STRENGTH_ORDER.get)(marks) > np.vectorize(STRENGTH_ORDER.get)(out)
        out = np.where(worse, marks, out).astype(object)

    if any(k in selector for k in SELECTOR_FLAGS if k != "change_related"):
        weakest(np.full(len(df), "measured", dtype=object))
    if "change_related" in selector and "change_basis" in df.columns:
        basis = df["change_basis"].astype("string").fillna("")
        weakest(np.where(basis.eq("recorded").to_numpy(bool), "recorded", "inferred").astype(object))
    if "match" in selector:
        pattern = "|".join(f"(?:{p})" for p in selector["match"])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
            cause = df["root_cause"].fillna("").astype("string").str.contains(
                pattern, case=False, regex=True).fillna(False).to_numpy(bool)
        weakest(np.where(cause, "recorded", "inferred").astype(object))
    return out


def journeys_touched(df: pd.DataFrame, journeys: tuple[str, ...]) -> list[str]:
    """The revenue-critical journeys whose words appear in an evidence incident's title or
    service (an inference, shown as such)."""
    if df.empty or not journeys:
        return []
    text = (df["title"].fillna("").astype(str) + " " + df["service"].fillna("").astype(str)).str.lower()
    touched = []
    for journey in journeys:
        words = [w for w in re.findall(r"[a-z0-9]{3,}", journey.lower()) if w not in _STOP]
        if words and text.str.contains(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b",
                                       regex=True).any():
            touched.append(journey)
    return touched


def _impact(risk: Risk, hits: pd.DataFrame, flags_hit: dict[str, np.ndarray], ev: Evidence,
            decisive: str | None) -> dict[str, Any]:
    """base (1-3) + severity-minutes (0-3) + customers (0-2) + revenue journeys (0-1) +
    recurrence (0-1), capped at IMPACT_MAX; a decisive high-risk answer raises it to the
    risk's `potential` (docs/risks.md)."""
    if len(hits):
        end = hits["resolved"].fillna(hits["start"])
        minutes = ((end - hits["start"]).dt.total_seconds() / 60.0).clip(lower=0).fillna(0.0)
        sev_minutes = float((minutes.to_numpy(float) * _sev_weights(hits)).sum())
        customer_facing = bool(
            (hits["detection_source"].eq("customer").fillna(False)
             | hits["customers_affected"].fillna(0).gt(0)
             | hits["major"].fillna(False)
             | hits["impact_effective"].isin(["outage", "partial", "degraded"]).fillna(False)).any())
        affected = int(hits["customers_affected"].fillna(0).sum())
        journeys = journeys_touched(hits, ev.journeys)
        recurs = bool(flags_hit["recurring"].any())
    else:
        sev_minutes, customer_facing, affected, journeys, recurs = 0.0, False, 0, [], False
    # A failure mode (base 3) owns its incidents' cost in full; a practice gap (base 1) makes
    # incidents worse without causing all of them, so its evidence counts for half (base 2: 3/4).
    share_of_cost = (risk.impact + 1) / 4.0
    # each part to the tenth the reports show, so that the parts shown add up to the impact shown
    severity = round(share_of_cost * min(3.0, math.log10(1 + sev_minutes / 30.0)), 1)
    customers = round(share_of_cost * (int(customer_facing)
                                       + min(1.0, math.log10(1 + affected) / 3.0)), 1)
    parts = {"base": risk.impact, "severity": severity, "customers": customers,
             "revenue": round(share_of_cost * int(bool(journeys)), 1),
             "recurrence": round(share_of_cost * int(recurs), 1)}
    score = min(float(IMPACT_MAX), round(sum(parts.values()), 1))
    potential = 0
    if decisive in ("critical", "high") and risk.potential:
        potential = risk.potential
        score = max(score, float(potential))
    return {"score": round(score, 2), **parts, "potential": potential,
            "severity_minutes": round(sev_minutes), "customers_affected": affected,
            "journeys": journeys}


def assess_risk(risk: Risk, ev: Evidence, flags: dict[str, np.ndarray], gaps: dict[str, dict[str, Any]],
                catalog: Catalog, lang: str = "en",
                promises: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One risk's signals, evidence (each piece marked recorded, measured or inferred),
    likelihood, impact and finding."""
    df = ev.incidents
    evidence_mask = np.zeros(len(df), bool)
    # each incident's strongest mark so far, as a rank (0 recorded .. 2 inferred; 3 none yet)
    rank = np.full(len(df), len(STRENGTH_ORDER), dtype=np.int8)
    signals, metric_ev, answer_ev, promise_ev = [], [], [], []
    total_weight = weighted = 0.0
    decisive: str | None = None
    named: dict[str, str] = {}

    def take(mask: np.ndarray, kinds: np.ndarray) -> None:
        nonlocal evidence_mask, rank
        # STRENGTH_ORDER lists the marks by rank, so a mark's category code is its rank
        ranks = pd.Categorical(kinds, categories=list(STRENGTH_ORDER)).codes
        rank = np.where(mask, np.minimum(rank, ranks), rank)  # keep the strongest mark
        evidence_mask |= mask

    for sig in risk.signals:
        total_weight += sig.weight
        entry: dict[str, Any] = {"kind": sig.kind, "weight": sig.weight}
        force = 0.0
        if sig.kind == "metric":
            value = metric_value(ev.metrics, sig.metric)
            threshold = sig.above if sig.above is not None else sig.below
            op = "above" if sig.above is not None else "below"
            if isinstance(value, int | float):
                force = metric_strength(float(value), op, float(threshold))
            d = catalog.metrics[sig.metric]
            entry.update(metric=sig.metric, value=value, op=op, threshold=threshold)
            if sig.name:
                named[sig.name] = fmt_value(value, d["unit"], lang)
            if force:
                metric_ev.append({"metric": sig.metric, "label": d[lang], "value": value,
                                  "display": fmt_value(value, d["unit"], lang), "op": op,
                                  "threshold": threshold, "strength": "measured",
                                  "threshold_display": fmt_value(threshold, d["unit"], lang)})
        elif sig.kind == "incidents":
            mask = select(df, sig.selector, flags)
            force = incident_strength(df, mask, sig)
            entry.update(selector=sig.selector, at_least=sig.at_least, matched=int(mask.sum()))
            if force:
                take(mask, _incident_strengths(df, sig.selector))
        elif sig.kind == "promises":
            broken = promises or []
            followers = {k for p in broken for k in p["followers"]}
            mask = df["key"].astype(str).isin(followers).to_numpy(bool) if len(df) else \
                np.zeros(0, bool)
            sat = sig.saturation or 3.0
            force = round(min(1.0, float(_sev_weights(df)[mask].sum()) / sat), 4) if broken else 0.0
            entry.update(promises=len(broken), matched=int(mask.sum()))
            if force:
                take(mask, np.full(len(df), "recorded", dtype=object))
                promise_ev = broken
        else:
            gap = gaps.get(sig.question)
            level = (gap or {}).get("risk") or ("high" if gap is not None else None)
            force = ANSWER_STRENGTH.get(level, 0.0) if gap is not None else 0.0
            entry.update(question=sig.question, decisive=sig.decisive, risk=level)
            if gap is not None:
                answer_ev.append({"question": sig.question, "area": gap["area"], "value": gap["value"],
                                  "score": gap["score"], "finding": gap["finding"][lang],
                                  "note": gap.get("note"), "risk": level,
                                  "decisive": sig.decisive, "strength": "recorded"})
                level_key = "critical" if level == "high" and gap.get("critical") else level
                if sig.decisive and level_key in DECISIVE_FLOOR and (
                        decisive is None or DECISIVE_FLOOR[level_key] > DECISIVE_FLOOR[decisive]):
                    decisive = level_key
        entry["fired"] = bool(force > 0)
        entry["strength"] = force
        weighted += sig.weight * force
        signals.append(entry)

    strength = np.array(list(STRENGTH_ORDER) + [""], dtype=object)[rank]
    hits = df[evidence_mask].assign(strength=strength[evidence_mask]) if len(df) else df.assign(
        strength=pd.Series(dtype=object))
    flags_hit = {k: v[evidence_mask] for k, v in flags.items()}
    likelihood = weighted / total_weight if total_weight else 0.0
    if decisive:
        likelihood = max(likelihood, DECISIVE_FLOOR[decisive])
    # the likelihood to the hundredth the reports show: the score is the product of the two
    # figures printed beside it, so a reader's multiplication and the ranking agree
    likelihood = round(likelihood, 2)
    impact = _impact(risk, hits, flags_hit, ev, decisive)
    score = round(likelihood * impact["score"], 2)
    fields = {
        "n": len(hits), "total": len(df), "days": metric_value(ev.metrics, "window.days") or 0,
        "sev1": int(hits["severity"].eq("SEV1").fillna(False).sum()) if len(hits) else 0,
        "customer_reported": int(hits["detection_source"].eq("customer").fillna(False).sum())
        if len(hits) else 0,
        "top_service": _mode(hits["service"]) if len(hits) else None,
        "top_class": _class_words(_mode(hits["class"])) if len(hits) else None,
        **named,
    }
    fields = {k: ("n/a" if v is None else v) for k, v in fields.items()}
    if not promise_ev and promises and len(hits):
        # a broken promise whose follow-up incidents are this risk's evidence belongs here too
        # ... when most of the incidents that followed it are evidence here
        keys = set(hits["key"].astype(str))
        promise_ev = [p for p in promises if 2 * len(keys & set(p["followers"])) >= len(p["followers"])]
    template = risk.finding if len(hits) else risk.finding_answers
    marks = [x["strength"] for x in metric_ev + answer_ev] + list(strength[evidence_mask])
    return {
        "id": risk.id,
        "title": risk.title[lang],
        "finding": template[lang].format(**fields),
        "score": score,
        "likelihood": likelihood,
        "decisive": decisive,
        "impact": impact,
        "has_evidence": weighted > 0 or decisive is not None,
        "signals": signals,
        "evidence": {
            "incident_count": int(len(hits)),
            "incidents": _incident_rows(hits, ev.timezone),
            "metrics": metric_ev,
            "answers": answer_ev,
            "promises": promise_ev,
            "strength": {k: marks.count(k) for k in STRENGTH_ORDER},
        },
        "actions": list(risk.actions),
    }


def order_key(r: dict[str, Any], position: int) -> tuple:
    """Score (descending); on equal scores the stronger evidence (recorded, then measured
    pieces), then impact; then catalog order."""
    st = r["evidence"].get("strength", {})
    return (not r["has_evidence"], -r["score"], -st.get("recorded", 0), -st.get("measured", 0),
            -r["impact"]["score"], position)


REASONS = {
    "likelihood": {"en": "higher likelihood ({a} vs {b})", "fr": "probabilité plus forte ({a} contre {b})"},
    "impact": {"en": "higher impact ({a} vs {b})", "fr": "impact plus fort ({a} contre {b})"},
    "recorded": {"en": "equal score, more recorded evidence ({a} vs {b})",
                 "fr": "score égal, plus de preuves enregistrées ({a} contre {b})"},
    "measured": {"en": "equal score, more measured evidence ({a} vs {b})",
                 "fr": "score égal, plus de preuves mesurées ({a} contre {b})"},
    "catalog": {"en": "equal score and evidence: catalog order",
                "fr": "score et preuves égaux : ordre du catalogue"},
    "above": {"en": "Above #{n} ({title}): score {a} vs {b}, {why}.",
              "fr": "Devant le n°{n} ({title}) : score {a} contre {b}, {why}."},
}


def reason_above(r: dict[str, Any], nxt: dict[str, Any], lang: str = "en") -> str:
    """Why a risk ranks above the next one, in one sentence (the component that decides)."""
    def say(key: str, **v: Any) -> str:
        return REASONS[key][lang].format(**v)

    if r["score"] != nxt["score"]:
        dl = r["likelihood"] - nxt["likelihood"]
        di = r["impact"]["score"] - nxt["impact"]["score"]
        # the factor with the larger relative lead explains the gap
        rel_l = dl / max(nxt["likelihood"], 0.01)
        rel_i = di / max(nxt["impact"]["score"], 0.01)
        why = (say("likelihood", a=f"{r['likelihood']:.2f}", b=f"{nxt['likelihood']:.2f}")
               if rel_l >= rel_i else
               say("impact", a=f"{r['impact']['score']:.1f}", b=f"{nxt['impact']['score']:.1f}"))
    else:
        a, b = r["evidence"]["strength"], nxt["evidence"]["strength"]
        if a.get("recorded", 0) != b.get("recorded", 0):
            why = say("recorded", a=a.get("recorded", 0), b=b.get("recorded", 0))
        elif a.get("measured", 0) != b.get("measured", 0):
            why = say("measured", a=a.get("measured", 0), b=b.get("measured", 0))
        else:
            why = say("catalog")
    return say("above", n=nxt["rank"], title=nxt["title"], a=f"{r['score']:.2f}",
               b=f"{nxt['score']:.2f}", why=why)


def rank(catalog: Catalog, ev: Evidence, lang: str = "en") -> list[dict[str, Any]]:
    """Every risk of the catalog assessed and ordered; the first three with evidence are the top."""
    from .promises import broken_promises

    flags = ev.flags()
    gaps = {g["question"]: g for g in ev.gaps}
    promises = broken_promises(ev.incidents, ev.actions, ev.timezone or "UTC")
    assessed = [assess_risk(r, ev, flags, gaps, catalog, lang, promises) for r in catalog.risks]
    ordered = [r for _, r in sorted(enumerate(assessed), key=lambda p: order_key(p[1], p[0]))]
    return number(ordered, lang)


def number(ordered: list[dict[str, Any]], lang: str = "en") -> list[dict[str, Any]]:
    """Ranks 1..n, the top-three flag (never on a risk without evidence or dropped) and why each
    risk with evidence ranks above the next."""
    top = 0
    for i, r in enumerate(ordered, start=1):
        r["rank"] = i
        r["top"] = bool(r["has_evidence"] and not r.get("dropped") and top < TOP)
        top += r["top"]
    for r, nxt in zip(ordered, ordered[1:], strict=False):
        r["reason_above"] = reason_above(r, nxt, lang) if r["has_evidence"] else None
    if ordered:
        ordered[-1]["reason_above"] = None
    return ordered
