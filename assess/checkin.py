"""The check-in at day 30 and day 90: the frozen baseline against the weeks since the plan started.

The baseline is frozen when the assessment is reported (`baseline.json` in the engagement folder:
the figures, the risks and the plan as they were promised), so a check-in always compares with
what was promised, never with a recomputation that new imports would change. The check-in window
runs from the plan's start to the check-in date; every figure a plan check names and every
headline figure is set beside its baseline value, each action's status beside its due date, and
each risk's rank and score beside where it stood.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

from . import analysis
from .engagement import Engagement, EngagementError, load_engagement
from .figures import HEADLINES
from .files import atomic_write
from .formatting import fmt_value
from .metrics import _direction, catalog
from .risks import metric_value

BASELINE = "baseline.json"
# how many values a share rests on, for the figures that are not medians
N_OF = {"postmortems.": "postmortems.major_incidents",
        "customer_impact.major_": "customer_impact.major_detection_known",
        "customer_impact.": "customer_impact.detection_known",
        "recurrence.major_rate": "recurrence.major_n", "recurrence.": "recurrence.n",
        "change_failure_rate.change_related_share": "incident_count",
        "change_failure_rate.": "change_failure_rate.deploys"}
SCHEMA = 1
OPEN = ("planned", "in progress", "blocked")


class CheckinError(EngagementError):
    """A check-in that cannot be made (no baseline, a date before the plan): say what to do."""


# --- the frozen baseline -----------------------------------------------------------------------


def snapshot(a: analysis.Analysis, judgement: dict[str, Any],
             frozen_at: dt.datetime | None = None) -> dict[str, Any]:
    """What the assessment reported: figures, risks and plan, as JSON-ready data."""
    plan = judgement["plan"]
    return {
        "schema": SCHEMA,
        "frozen_at": (frozen_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        .isoformat(timespec="seconds"),
        "client": a.engagement.client,
        "window": a.metrics["window"],
        "metrics": a.metrics,
        "risks": [{k: r.get(k) for k in ("id", "title", "rank", "score", "likelihood", "top")}
                  for r in judgement["risks"]],
        "plan": {"start_date": plan["start_date"],
                 "actions": [{k: x.get(k) for k in ("id", "title", "owner_display", "due",
                                                    "horizon", "verify", "risks")}
                             for x in plan["actions"]]},
    }


def baseline_path(e: Engagement) -> Path:
    return e.path(BASELINE)


def load_baseline(e: Engagement) -> dict[str, Any] | None:
    path = baseline_path(e)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckinError(f"{path}: not a baseline written by assess ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise CheckinError(f"{path}: not a baseline written by this version of assess "
                           f"(schema {SCHEMA})")
    return data


def freeze(a: analysis.Analysis, judgement: dict[str, Any] | None = None,
           force: bool = False, frozen_at: dt.datetime | None = None) -> tuple[Path, bool]:
    """Write baseline.json unless one exists (force: replace it). Returns (path, written).
    `frozen_at`: the time recorded (default now; the demo replays the report's date)."""
    path = baseline_path(a.engagement)
    if path.is_file() and not force:
        return path, False
    doc = snapshot(a, judgement or analysis.judgement(a), frozen_at)
    atomic_write(path, json.dumps(doc, indent=1, default=str, ensure_ascii=False) + "\n")
    return path, True


# --- the check-in ------------------------------------------------------------------------------


def window_engagement(e: Engagement, start: dt.date, as_of: dt.date) -> Engagement:
    """The engagement with its window moved to [start, as_of] (local days)."""
    if as_of < start:
        raise CheckinError(f"the check-in date {as_of} is before the plan's start {start}")
    return dataclasses.replace(e, window_end=as_of, window_days=(as_of - start).days + 1)


def _figure(key: str, before: Any, after: Any, lang: str, days: tuple[int, int],
            target: dict[str, Any] | None = None, actions: list[str] | None = None,
            after_block: dict[str, Any] | None = None) -> dict[str, Any]:
    """One figure before and after. Counts are compared per 30 days (the two periods differ in
    length); a median on fewer than five values is marked indicative and given no direction."""
    d = catalog().get(key, {"unit": "number", "better": "lower", "en": key, "fr": key})
    both = isinstance(before, int | float) and isinstance(after, int | float)
    count = d["unit"] == "count"

    def per30(v: Any, n: int) -> float | None:
        return v * 30.0 / n if isinstance(v, int | float) and n else None

    compare = (per30(before, days[0]), per30(after, days[1])) if count else (before, after)
    n_after = after_block.get("n") if after_block else None
    indicative = n_after is not None and n_after < 5
    row = {"key": key, "label": d[lang], "unit": d["unit"], "before": before, "after": after,
           "before_display": fmt_value(before, d["unit"], lang),
           "after_display": fmt_value(after, d["unit"], lang),
           "per_30_days": [round(v, 1) if v is not None else None for v in compare] if count
           else None,
           "after_n": n_after, "after_grade": after_block.get("grade") if after_block else None,
           "indicative": indicative,
           "direction": "not measurable" if not both else "indicative" if indicative else
           _direction(float(compare[0]), float(compare[1]), d.get("better", "lower")),
           "target": None, "met": None, "actions": actions or []}
    if count and both:
        unit = {"en": "{v} in {n} d", "fr": "{v} en {n} j"}[lang]
        row["before_display"] = unit.format(v=fmt_value(before, "count", lang), n=days[0])
        row["after_display"] = unit.format(v=fmt_value(after, "count", lang), n=days[1])
    if target:
        op, value = target["op"], target["target"]
        row["target"] = {"op": op, "value": value,
                         "display": fmt_value(value, d["unit"], lang)}
        if isinstance(after, int | float):
            row["met"] = bool(after < value if op == "below" else after > value)
    return row


def _actions(baseline: dict[str, Any], status: dict[str, dict[str, Any]],
             current: dict[str, dict[str, Any]], as_of: dt.date) -> list[dict[str, Any]]:
    """The frozen plan's actions with their status on the check-in date: the consultant's
    (overrides.yaml, those dated after the check-in left out), else what the current plan knows
    (a postmortem item marked done before the plan: said so), else planned."""
    out = []
    for x in baseline["plan"]["actions"]:
        now = current.get(x["id"], {})
        st = status.get(x["id"]) or {}
        if isinstance(st.get("date"), dt.date) and st["date"] > as_of:
            st = {}
        source = "overrides" if st else None
        if not st and now.get("status") and now.get("status_source") == "postmortem":
            st, source = {"status": now["status"], "date": now.get("done_date"), "note": None}, \
                "postmortem"
        state = st.get("status") or "planned"
        due = dt.date.fromisoformat(str(x["due"])) if x.get("due") else None
        done_on = dt.date.fromisoformat(str(st["date"])) if st.get("date") and state == "done" \
            else None
        late = bool(due and due < as_of and state in OPEN)
        done_late = bool(due and done_on and done_on > due)
        out.append({"id": x["id"],
                    # the title in the check-in's language when the plan still has the action
                    "title": now.get("title") or x["title"],
                    "owner": x.get("owner_display"),
                    "due": due.isoformat() if due else None, "status": state,
                    "date": str(st["date"]) if st.get("date") else None, "source": source,
                    "note": st.get("note"), "late": late, "done_late": done_late,
                    "days_late": (as_of - due).days if late and due else
                    (done_on - due).days if done_late and due and done_on else 0})
    return out


def coverage(a: analysis.Analysis, start: dt.date, as_of: dt.date) -> dict[str, Any]:
    """Whether the imported exports reach the check-in date: the last incident and deploy seen.
    An export that stops before the window's last week leaves the check-in not measurable."""
    inc = a.data.incidents
    last_inc = inc["detected"].fillna(inc["impact_start"]).max() if len(inc) else None
    dep = a.data.deploys
    last_dep = dep["deployed_at"].max() if len(dep) else None
    latest = max([t for t in (last_inc, last_dep) if t is not None and t == t], default=None)
    tz = a.engagement.tz
    last_day = latest.tz_convert(tz).date() if latest is not None else None
    covered = bool(last_day and last_day >= max(start, as_of - dt.timedelta(days=7)))
    return {"last_incident": last_inc.tz_convert(tz).date().isoformat()
            if last_inc is not None and last_inc == last_inc else None,
            "last_deploy": last_dep.tz_convert(tz).date().isoformat()
            if last_dep is not None and last_dep == last_dep else None,
            "covered": covered}


def _risks(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = {r["id"]: r for r in after}
    out = []
    for r in before:
        n = now.get(r["id"])
        moved = "gone" if n is None else (
            "down" if n["score"] < r["score"] - 0.25 else
            "up" if n["score"] > r["score"] + 0.25 else "same")
        out.append({"id": r["id"], "title": n["title"] if n else r["title"],
                    "was_top": bool(r.get("top")),
                    "before_rank": r["rank"], "before_score": r["score"],
                    "after_rank": n["rank"] if n else None, "after_score": n["score"] if n else None,
                    "moved": moved})
    return out


def checkin(root: str | Path | Engagement, as_of: dt.date, lang: str | None = None) -> dict[str, Any]:
    """The check-in document (docs/checkin.md): the baseline against the weeks since the plan
    started, the plan's actions against their due dates, the risks that moved."""
    from . import plans

    e = root if isinstance(root, Engagement) else load_engagement(root)
    lang = lang or e.language
    baseline = load_baseline(e)
    if baseline is None:
        raise CheckinError(f"{e.root}: no frozen baseline ({BASELINE}); render the assessment "
                           "(`assess report`) or freeze it with `assess baseline` first")
    start = dt.date.fromisoformat(str(baseline["plan"]["start_date"]))
    now = analysis.analyse(window_engagement(e, start, as_of))
    judgement = analysis.judgement(now, lang, today=as_of)
    # risks compare like with like: scored on a window as long as the baseline's, ending on the
    # check-in date (the weeks since the plan and the weeks before it), not on 30 days against 90
    risk_days = int(baseline["window"]["days"])  # the risks compare over windows of one length
    trailing = analysis.analyse(dataclasses.replace(e, window_end=as_of, window_days=risk_days))
    trailing_risks = analysis.judgement(trailing, lang, today=as_of)["risks"]
    before_m, after_m = baseline["metrics"], now.metrics
    covers = coverage(now, start, as_of)
    # exports that stop before the check-in cannot show progress: no figure is read from them
    after_of = (lambda key: metric_value(after_m, key)) if covers["covered"] else (lambda key: None)
    catalog_, library = plans.load_catalogs(e.root)
    status = plans.load_overrides(e.root, catalog_, library).action_status

    checks: dict[str, dict[str, Any]] = {
        # the SLA is every check-in's first target, whatever the plan says
        "availability.availability": {"target": {"op": "above", "target": e.sla_target - 1e-9},
                                      "actions": []},
        "availability.budget_consumed": {"target": {"op": "below", "target": 1.0}, "actions": []},
    }
    for x in baseline["plan"]["actions"]:
        v = x.get("verify") or {}
        if v.get("metric") and v.get("target") is not None:
            c = checks.setdefault(v["metric"], {"target": v, "actions": []})
            c["actions"].append(x["id"])
    days = (int(before_m["window"]["days"]), int(after_m["window"]["days"]))

    def block(key: str) -> dict[str, Any] | None:
        """The stats of a median, or the count a share rests on: how sure the 'after' is."""
        if not covers["covered"]:
            return None
        if key.endswith(".median"):
            parent = metric_value(after_m, key.rsplit(".", 1)[0])
            return parent if isinstance(parent, dict) else None
        base = next((v for k, v in N_OF.items() if key.startswith(k)), None)
        n = metric_value(after_m, base) if base else None
        return {"n": n, "grade": None} if isinstance(n, int) else None

    figures = [_figure(key, metric_value(before_m, key), after_of(key), lang, days,
                       checks.get(key, {}).get("target"), checks.get(key, {}).get("actions"),
                       block(key))
               for key in [h[0] for h in HEADLINES] + [k for k in checks if k not in
                                                      {h[0] for h in HEADLINES}]]
    current = {x["id"]: x for x in judgement["plan"]["actions"]}
    actions = _actions(baseline, status, current, as_of)
    counts = {s: sum(1 for x in actions if x["status"] == s)
              for s in ("done", "in progress", "planned", "blocked", "dropped")}
    counts["done_late"] = sum(1 for x in actions if x["done_late"])
    return {
        "as_of": as_of.isoformat(),
        "language": lang,
        "baseline": {"frozen_at": baseline["frozen_at"], "window": baseline["window"],
                     "incident_count": before_m["incident_count"]},
        "window": after_m["window"],
        "incident_count": after_m["incident_count"],
        "coverage": covers,
        "day": (as_of - start).days + 1,
        "figures": figures,
        "targets": {"met": sum(1 for f in figures if f["met"] is True),
                    "not_yet": sum(1 for f in figures if f["met"] is False),
                    "not_measurable": sum(1 for f in figures if f["target"] and f["met"] is None)},
        "actions": actions,
        "action_counts": {**counts, "late": sum(1 for x in actions if x["late"]),
                          "total": len(actions)},
        "risks": _risks(baseline["risks"], trailing_risks) if covers["covered"] else [],
        "risk_window": {"days": risk_days, "last_day": as_of.isoformat()},
        "metrics": after_m,
    }
