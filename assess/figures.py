"""The headline figures as a reader sees them: value, basis, interval, confidence grade, trend and
benchmark, in English or French. One list, read by the CLI, the dashboard and both reports, so a
figure is stated the same way everywhere. Labels come from the metric catalog
(assess/data/metrics.yaml); sentences from its `phrases`."""

from __future__ import annotations

from typing import Any

from .formatting import fmt_number, fmt_value
from .metrics import catalog, phrases
from .risks import metric_value

# (catalog path, path of the all-severity figure shown beside it, path of its stats block, trend)
HEADLINES: tuple[tuple[str, str | None, str | None, str | None], ...] = (
    ("availability.availability", "availability.full_outage_availability", None, "availability"),
    ("availability.budget_consumed", None, None, None),
    ("headline.mttr_minutes.median", "mttr_minutes.median", "headline.mttr_minutes",
     "major_mttr_minutes"),
    ("headline.time_to_restore_minutes.median", "time_to_restore_minutes.median",
     "headline.time_to_restore_minutes", None),
    ("headline.mttd_minutes.median", "mttd_minutes.median", "headline.mttd_minutes", None),
    ("customer_impact.major_customer_reported_share", "customer_impact.customer_reported_share",
     None, "customer_reported_share"),
    ("recurrence.major_rate", "recurrence.rate", None, None),
    ("incident_count", None, None, "incidents_per_30_days"),
    ("change_failure_rate.change_failure_rate", None, None, None),
    ("change_failure_rate.deploys_per_week", None, None, None),
    ("change_failure_rate.recovery_minutes.median", None, "change_failure_rate.recovery_minutes",
     None),
    ("postmortems.postmortem_rate", None, None, None),
)
BENCHMARK_OF = {"change_failure_rate.change_failure_rate": "change_failure_rate",
                "change_failure_rate.deploys_per_week": "deployment_frequency",
                "change_failure_rate.recovery_minutes.median": "recovery_time"}


def _say(key: str, lang: str, **values: Any) -> str:
    return phrases()[key][lang].format(**values)


def _basis(m: dict[str, Any], path: str, block: dict[str, Any] | None,
           lang: str) -> tuple[str, int, int | None]:
    """The sentence saying which incidents a figure counts, and its n and coverage base."""
    if block is not None:  # a duration
        text = _say("basis_duration", lang, n=block["n"], of=block["incidents"])
        if block["missing"]:
            text += _say("basis_missing", lang, n=block["missing"])
        if block["out_of_order"]:
            text += _say("basis_out_of_order", lang, n=block["out_of_order"])
        if path.endswith("mttd_minutes.median"):
            by = (m["headline"] if path.startswith("headline.") else m).get(
                "mttd_by_detection_source", {})
            split = [_say("by_source", lang, source=_say("source_" + k, lang),
                          value=fmt_value(v["median"], "minutes", lang), n=v["n"])
                     for k, v in sorted(by.items()) if v["n"]]
            if len(split) > 1:
                text += _say("basis_by_source", lang, split=", ".join(split))
        if path.startswith("change_failure_rate.recovery"):
            ch = m["change_failure_rate"]
            text += _say("basis_time_only", lang, n=ch["time_only"])
        return text, block["n"], block["incidents"]
    if path.startswith("availability."):
        a = m["availability"]
        text = _say("basis_availability", lang, n=a["counted_incidents"],
                    r=round((a["impact_recorded_share"] or 0) * a["counted_incidents"]),
                    d=a["start_from_detection"], e=a["end_from_resolution"])
        if a["open_excluded"]:
            text += _say("basis_open_excluded", lang, n=len(a["open_excluded"]))
        if a["carried_in"]:
            text += _say("basis_carried_in", lang, n=len(a["carried_in"]))
        return text, a["counted_incidents"], None
    if path.startswith("customer_impact."):
        ci = m["customer_impact"]
        major = "major" in path
        known = ci["major_detection_known"] if major else ci["detection_known"]
        of = m["headline"]["count"] if major else m["incident_count"]
        return _say("basis_detection", lang, n=known, of=of), known, of
    if path.startswith("recurrence."):
        r = m["recurrence"]
        n = r["major_n"] if "major" in path else r["n"]
        return (_say("basis_recurrence", lang, n=n, days=r["window_days"],
                     c=fmt_value(r.get("major_root_cause_share" if "major" in path
                                       else "root_cause_share"), "pct", lang)), n, n)
    if path == "incident_count":
        dq = m["data_quality"]
        return (_say("basis_window", lang, n=dq["in_window"], before=dq["before_window"],
                     after=dq["after_window"]), dq["in_window"], dq["in_window"])
    if path == "change_failure_rate.deploys_per_week":
        ch = m["change_failure_rate"]
        return (_say("basis_frequency", lang, d=ch["deploys"], k=ch["services_deployed"],
                     p=fmt_value(ch["deploys_per_week_per_service"], "number", lang)),
                ch["deploys"], ch["deploys"] or None)
    if path.startswith("change_failure_rate."):
        ch = m["change_failure_rate"]
        return (_say("basis_deploys", lang, d=ch["deploys"], r=ch["remediated_deploys"],
                     o=fmt_value(ch["outcome_failure_rate"], "pct1", lang)),
                ch["deploys"], ch["deploys"] or None)
    if path.startswith("postmortems."):
        n = m["postmortems"]["major_incidents"]
        return _say("basis_major", lang, n=n), n, n
    return "", 0, None


TREND_UNITS = {"downtime_minutes": "minutes", "availability": "pct2", "mttr_minutes": "minutes",
               "major_mttr_minutes": "minutes",
               "customer_reported_share": "pct", "incidents_per_30_days": "number",
               "major_incidents_per_30_days": "number"}


def _trend(m: dict[str, Any], key: str | None, lang: str) -> dict[str, Any] | None:
    """The month-over-month trend of a figure, in words with its numbers."""
    if key is None:
        return None
    tr = m["trends"][key]
    if tr["first"] is None or tr["last"] is None:
        return {"direction": "not measurable", "text": _say("trend_none", lang)}
    unit = TREND_UNITS[key]
    direction = tr["direction"]
    # first against last claims nothing when a month between them lies well outside both (a dip
    # then a recovery is no improvement; a good month between is no steady worsening): "uneven"
    outside = _outside(tr, key)
    phrase = "trend_uneven" if outside else "trend_" + direction
    text = _say(phrase, lang, what=_say("what_" + key, lang),
                first=fmt_value(tr["first"], unit, lang), last=fmt_value(tr["last"], unit, lang),
                m0=tr["first_month"], m1=tr["last_month"])
    if tr.get("worst_month") not in (None, tr["first_month"], tr["last_month"]):
        text += _say("trend_worst", lang, value=fmt_value(tr["worst"], unit, lang),
                     month=tr["worst_month"])
    best = min(outside, key=lambda mv: _badness(mv[1], key)) if outside else None
    if best and best[0] != tr.get("worst_month") and \
            _badness(best[1], key) < min(_badness(tr["first"], key), _badness(tr["last"], key)):
        text += _say("trend_best", lang, value=fmt_value(best[1], unit, lang), month=best[0])
    return {"direction": "uneven" if outside else direction, "text": text}


def _badness(value: float, key: str) -> float:
    """A month's value where lower is better (availability through its unavailability)."""
    return 1.0 - value if key == "availability" else value


def _outside(tr: dict[str, Any], key: str) -> list[tuple[str, float]]:
    """The months between the first and the last whose value lies outside the range of those two
    by more than the flat margin (metrics.yaml `rules.trend_flat_share`)."""
    from .enrich import rules

    known = [(m, v) for m, v in tr["by_month"].items() if v is not None]
    if len(known) < 3:
        return []
    a, b = _badness(known[0][1], key), _badness(known[-1][1], key)
    margin = rules()["trend_flat_share"] * max(abs(a), abs(b))
    return [(m, v) for m, v in known[1:-1]
            if _badness(v, key) < min(a, b) - margin or _badness(v, key) > max(a, b) + margin]


def figures(m: dict[str, Any], lang: str = "en") -> list[dict[str, Any]]:
    """Every headline figure with its value, basis, 90% interval, grade, trend and benchmark."""
    from .metrics import grade

    cat = catalog()
    rows = []
    for path, beside, stats_path, trend_key in HEADLINES:
        d = cat[path]
        value = metric_value(m, path)
        block = metric_value(m, stats_path) if stats_path else None
        basis, n, of = _basis(m, path, block, lang)
        if block is not None:
            g = block["grade"]
        elif path.startswith("availability."):
            g = m["availability"]["grade"]
        elif path.startswith("recurrence."):
            g = m["recurrence"]["major_grade" if "major" in path else "grade"]
        else:
            g = grade(n, (n / of) if of else None) if value is not None else None
        interval = None
        if block is not None and block.get("interval") and block["n"] < _interval_below():
            lo, hi = block["interval"]
            interval = _say("interval", lang, lo=fmt_value(lo, d["unit"], lang),
                            hi=fmt_value(hi, d["unit"], lang), n=block["n"])
        row = {
            "key": path, "label": d[lang], "unit": d["unit"], "value": value,
            "display": fmt_value(value, d["unit"], lang) if value is not None
            else _say("not_measurable", lang),
            "better": d["better"], "definition": d["definition"][lang],
            "basis": basis, "n": n, "grade": g, "interval": interval,
            "beside": None, "trend": _trend(m, trend_key, lang), "benchmark": None,
        }
        if beside is not None:
            other = cat[beside]
            phrase = "beside_full_outage" if beside.endswith("full_outage_availability") else "beside"
            row["beside"] = _say(phrase, lang, value=fmt_value(metric_value(m, beside),
                                                            other["unit"], lang))
        if path in BENCHMARK_OF:
            b = m["benchmarks"][BENCHMARK_OF[path]]
            if b["level"]:
                row["benchmark"] = _say("benchmark", lang, level=b[lang],
                                        year=m["benchmarks"]["year"])
        rows.append(row)
    return rows


def _interval_below() -> int:
    from .enrich import rules

    return int(rules()["interval_below_n"])


def grade_legend(lang: str = "en") -> str:
    """How the grades are given, in one sentence (for the reports' methodology)."""
    from .enrich import rules

    g = rules()["grades"]
    return _say("grade_legend", lang, an=g["A"]["n"], ac=fmt_number(g["A"]["coverage"] * 100, 0, lang),
                bn=g["B"]["n"], bc=fmt_number(g["B"]["coverage"] * 100, 0, lang), cn=g["C"]["n"],
                spread=fmt_number(rules()["max_interval_spread"], 0, lang))
