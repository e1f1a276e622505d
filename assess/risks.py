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
    score      = likelihood x impact, rounded to 3 decimals                             (0..6)

Order: score, then impact, then evidence incidents, then catalog order (descending, descending,
descending, ascending). A risk with no fired signal has no evidence: it is listed last and is never
in the top three. Consultant overrides (order, drop, edits) are applied by `plans.apply_risk_overrides`.
"""

from __future__ import annotations

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


class CatalogError(ValueError):
    """A problem with the risk catalog or the remediation library, naming the file and the key."""


@dataclass(frozen=True)
class Signal:
    kind: str  # metric | incidents | answer
    weight: float
    metric: str | None = None
    above: float | None = None
    below: float | None = None
    name: str | None = None
    selector: dict[str, Any] | None = None
    at_least: int = 1
    question: str | None = None


@dataclass(frozen=True)
class Risk:
    id: str
    title: dict[str, str]
    finding: dict[str, str]
    finding_answers: dict[str, str]
    impact: int
    signals: tuple[Signal, ...]
    actions: tuple[str, ...]


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
            kinds = [k for k in ("metric", "incidents", "answer") if k in sig]
            if len(kinds) != 1:
                problems.append(f"{swhere}: expected exactly one of metric, incidents, answer")
                continue
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
            kind = next(k for k in ("metric", "incidents", "answer") if k in sig)
            signals.append(Signal(
                kind=kind, weight=float(sig["weight"]), metric=sig.get("metric"),
                above=sig.get("above"), below=sig.get("below"), name=sig.get("name"),
                selector=sig.get("incidents"), at_least=int(sig.get("at_least", 1)),
                question=sig.get("answer")))
        risks.append(Risk(id=r["id"], title=r["title"], finding=r["finding"],
                          finding_answers=r["finding_answers"], impact=int(r["impact"]),
                          signals=tuple(signals), actions=tuple(r["actions"])))
    return Catalog(risks=tuple(risks), metrics={**metric_catalog(), **(data.get("metrics") or {})},
                   file=file)


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
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
    """The evidence incidents a reader sees: the most severe first, then the most recent."""
    if df.empty:
        return []
    order = df.assign(_sev=df["severity"].fillna("SEV9")).sort_values(
        ["_sev", "start", "key"], ascending=[True, False, True], kind="mergesort")
    columns = ["key", "title", "severity", "service", "class"]
    shown = order.head(EVIDENCE_INCIDENTS_SHOWN)
    started = shown["start"].dt.tz_convert(timezone).dt.strftime("%Y-%m-%d %H:%M")
    rows = []
    for values, start in zip(shown[columns].itertuples(index=False, name=None), started, strict=True):
        row = {c: (None if pd.isna(v) else str(v)) for c, v in zip(columns, values, strict=True)}
        row["started"] = None if pd.isna(start) else str(start)
        rows.append(row)
    return rows


def _mode(series: pd.Series) -> str | None:
    counts = series.dropna().astype(str).value_counts()
    if counts.empty:
        return None
    top = counts[counts == counts.iloc[0]].index
    return sorted(top)[0]


def assess_risk(risk: Risk, ev: Evidence, flags: dict[str, np.ndarray], gaps: dict[str, dict[str, Any]],
                catalog: Catalog, lang: str = "en") -> dict[str, Any]:
    """One risk's signals, evidence, likelihood, impact and finding."""
    df = ev.incidents
    evidence_mask = np.zeros(len(df), bool)
    signals, metric_ev, answer_ev = [], [], []
    fired_weight = total_weight = 0.0
    named: dict[str, str] = {}
    for sig in risk.signals:
        total_weight += sig.weight
        entry: dict[str, Any] = {"kind": sig.kind, "weight": sig.weight}
        if sig.kind == "metric":
            value = metric_value(ev.metrics, sig.metric)
            threshold = sig.above if sig.above is not None else sig.below
            fired = isinstance(value, int | float) and (
                value > sig.above if sig.above is not None else value < sig.below)
            d = catalog.metrics[sig.metric]
            entry.update(metric=sig.metric, value=value,
                         op="above" if sig.above is not None else "below", threshold=threshold)
            if sig.name:
                named[sig.name] = fmt_value(value, d["unit"], lang)
            if fired:
                metric_ev.append({"metric": sig.metric, "label": d[lang], "value": value,
                                  "display": fmt_value(value, d["unit"], lang), "op": entry["op"],
                                  "threshold": threshold,
                                  "threshold_display": fmt_value(threshold, d["unit"], lang)})
        elif sig.kind == "incidents":
            mask = select(df, sig.selector, flags)
            count = int(mask.sum())
            fired = count >= sig.at_least
            entry.update(selector=sig.selector, at_least=sig.at_least, matched=count)
            if fired:
                evidence_mask |= mask
        else:
            gap = gaps.get(sig.question)
            fired = gap is not None
            entry.update(question=sig.question)
            if fired:
                answer_ev.append({"question": sig.question, "area": gap["area"], "value": gap["value"],
                                  "score": gap["score"], "finding": gap["finding"][lang],
                                  "note": gap.get("note")})
        entry["fired"] = bool(fired)
        if fired:
            fired_weight += sig.weight
        signals.append(entry)

    hits = df[evidence_mask]
    likelihood = round(fired_weight / total_weight, 4) if total_weight else 0.0
    severe = bool(len(hits)) and bool((hits["severity"].eq("SEV1").fillna(False).to_numpy(bool)
                                       | flags["outage"][evidence_mask]).any())
    customers = bool(len(hits)) and bool(
        (hits["detection_source"].eq("customer").fillna(False)
         | hits["customers_affected"].fillna(0).gt(0)
         | hits["severity"].isin(["SEV1", "SEV2"]).fillna(False)
         | hits["impact"].isin(["outage", "partial", "degraded"]).fillna(False)).any())
    recurs = bool(flags["recurring"][evidence_mask].any())
    impact = risk.impact + int(severe) + int(customers) + int(recurs)
    score = round(likelihood * impact, 3)
    fields = {
        "n": len(hits), "total": len(df), "days": metric_value(ev.metrics, "window.days") or 0,
        "sev1": int(hits["severity"].eq("SEV1").fillna(False).sum()) if len(hits) else 0,
        "customer_reported": int(hits["detection_source"].eq("customer").fillna(False).sum())
        if len(hits) else 0,
        "top_service": _mode(hits["service"]) if len(hits) else None,
        "top_class": _mode(hits["class"]) if len(hits) else None,
        **named,
    }
    fields = {k: ("n/a" if v is None else v) for k, v in fields.items()}
    template = risk.finding if len(hits) else risk.finding_answers
    return {
        "id": risk.id,
        "title": risk.title[lang],
        "finding": template[lang].format(**fields),
        "score": score,
        "likelihood": likelihood,
        "impact": {"score": impact, "base": risk.impact, "severity": int(severe),
                   "customers": int(customers), "recurrence": int(recurs)},
        "has_evidence": fired_weight > 0,
        "signals": signals,
        "evidence": {
            "incident_count": int(len(hits)),
            "incidents": _incident_rows(hits, ev.timezone),
            "metrics": metric_ev,
            "answers": answer_ev,
        },
        "actions": list(risk.actions),
    }


def order_key(r: dict[str, Any], position: int) -> tuple:
    """Score, impact, evidence incidents (all descending), then catalog order."""
    return (not r["has_evidence"], -r["score"], -r["impact"]["score"],
            -r["evidence"]["incident_count"], position)


def rank(catalog: Catalog, ev: Evidence, lang: str = "en") -> list[dict[str, Any]]:
    """Every risk of the catalog assessed and ordered; the first three with evidence are the top."""
    flags = ev.flags()
    gaps = {g["question"]: g for g in ev.gaps}
    assessed = [assess_risk(r, ev, flags, gaps, catalog, lang) for r in catalog.risks]
    ordered = [r for _, r in sorted(enumerate(assessed), key=lambda p: order_key(p[1], p[0]))]
    return number(ordered)


def number(ordered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ranks 1..n and the top-three flag (never on a risk without evidence or dropped)."""
    top = 0
    for i, r in enumerate(ordered, start=1):
        r["rank"] = i
        r["top"] = bool(r["has_evidence"] and not r.get("dropped") and top < TOP)
        top += r["top"]
    return ordered
