"""What the due-diligence summary states beyond the figures: the red flags a technical advisor
raises (assess/data/red_flags.yaml), each citing its evidence, and the respondents' claims set
against the evidence (questionnaires.claims). Pure functions of the metrics, the scores and the
enriched incidents."""

from __future__ import annotations

import re
import warnings
from functools import cache
from typing import Any

import pandas as pd

from .files import safe_yaml
from .formatting import fmt_value
from .metrics import catalog
from .paths import data_dir
from .risks import metric_value

ROLE_LABELS = {
    "founder": {"en": "founder", "fr": "fondateur"}, "cto": {"en": "CTO", "fr": "CTO"},
    "engineer": {"en": "engineer", "fr": "ingénieur"}, "support": {"en": "support", "fr": "support"},
    "product": {"en": "product", "fr": "produit"}, "other": {"en": "other", "fr": "autre"},
}
TEXT = {
    "answer": {"en": "Interview: {finding}", "fr": "Entretien : {finding}"},
    "metric": {"en": "{label}: {value}", "fr": "{label} : {value}"},
    "incident": {"en": "{key} ({severity}): {title}", "fr": "{key} ({severity}) : {title}"},
    "claim": {"en": "{who} ({role}) rates “{statement}” {rating}/5",
              "fr": "{who} ({role}) note « {statement} » {rating}/5"},
}


@cache
def flag_catalog() -> list[dict[str, Any]]:
    """The red flags (assess/data/red_flags.yaml)."""
    path = data_dir("assess/data") / "red_flags.yaml"
    return safe_yaml(path.read_text(encoding="utf-8"))["flags"]


def _matching(incidents: pd.DataFrame, patterns: list[str]) -> pd.DataFrame:
    if incidents is None or incidents.empty:
        return incidents
    pattern = "|".join(f"(?:{p})" for p in patterns)
    text = incidents["title"].fillna("").astype(str) + " " + incidents["root_cause"].fillna("").astype(str)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
        return incidents[text.str.contains(pattern, case=False, regex=True, flags=re.I)]


def red_flags(metrics: dict[str, Any], scores: dict[str, Any], incidents: pd.DataFrame | None,
              lang: str = "en", notes: bool = True) -> list[dict[str, Any]]:
    """Every red flag raised, in catalog order: {id, title, evidence: [sentences]}. An empty
    list means none was found (the report says so)."""
    gaps = {g["question"]: g for g in scores.get("gaps", [])}
    cat = catalog()
    raised = []
    for flag in flag_catalog():
        evidence: list[str] = []
        levels = flag.get("levels", ["high"])
        for q in flag.get("answers", []):
            gap = gaps.get(q)
            if gap is not None and gap.get("risk", "high") in levels:
                note = str(gap.get("note") or "").strip().rstrip(".") if notes else ""
                evidence.append(TEXT["answer"][lang].format(finding=gap["finding"][lang])
                                + (f" ({note})" if note else ""))
        cond = flag.get("metric")
        if cond:
            value = metric_value(metrics, cond["path"])
            hit = isinstance(value, int | float) and (
                value > cond["above"] if "above" in cond else value < cond["below"])
            if hit:
                d = cat.get(cond["path"], {"unit": "number", lang: cond["path"]})
                evidence.append(TEXT["metric"][lang].format(
                    label=d[lang], value=fmt_value(value, d["unit"], lang)))
        if flag.get("incidents") and incidents is not None:
            for row in _matching(incidents, flag["incidents"]["match"]).head(5).itertuples():
                evidence.append(TEXT["incident"][lang].format(
                    key=row.external_id if isinstance(row.external_id, str) else row.key,
                    severity=row.severity if isinstance(row.severity, str) else "?",
                    title=row.title))
        if evidence:
            raised.append({"id": flag["id"], "title": flag["title"][lang], "evidence": evidence})
    return raised


def claims_against_evidence(claims: list[dict[str, Any]], lang: str = "en",
                            roles: tuple[str, ...] = ("founder", "cto", "ceo", "vp_engineering"),
                            ) -> list[dict[str, Any]]:
    """The contradicted claims of the leadership (founders first), each beside its measured and
    answered evidence: {claim, measured: [sentences], answered: [sentences]}."""
    cat = catalog()
    out = []
    chosen = [c for c in claims if c.get("status") == "contradicted"]
    chosen.sort(key=lambda c: (c.get("role") not in roles, c.get("respondent") or "",
                               c.get("statement")))
    for c in chosen:
        measured, answered = [], []
        for e in c.get("evidence", []):
            if e["kind"] == "metric" and e.get("bad"):
                d = cat.get(e["key"])
                if d:
                    measured.append(TEXT["metric"][lang].format(
                        label=d[lang], value=fmt_value(e["value"], d["unit"], lang)))
            elif e["kind"] == "answer" and e.get("bad"):
                answered.append(e["finding"][lang])
        role = c.get("role") or "?"
        out.append({"claim": TEXT["claim"][lang].format(
            who=c.get("respondent") or "?", role=ROLE_LABELS.get(role, {}).get(lang, role),
            statement=c["text"][lang],
            rating=c.get("rating")), "measured": measured, "answered": answered})
    return out


def used_files(*frames: pd.DataFrame | None) -> set[str]:
    """The export files the given rows came from (their provenance, "<file>:<row>")."""
    out: set[str] = set()
    for f in frames:
        if f is not None and len(f) and "provenance" in f.columns:
            out |= set(f["provenance"].dropna().astype(str).str.rsplit(":", n=1).str[0])
    return out


def plain_sources(imports: list[dict[str, Any]], lang: str = "en",
                  used: set[str] | None = None) -> list[str]:
    """Each imported export in plain words: what it is, when it was imported, its rows
    ("PagerDuty incidents CSV download of 2 Nov 2026 (62 rows)"); the files are listed in the
    assessment report's appendix."""
    from .formatting import fmt_date
    from .importers import READERS

    words = {"en": "{what} of {date} ({n} rows)", "fr": "{what} du {date} ({n} lignes)"}
    out = []
    for e in imports:
        if used is not None and str(e.get("file", "")).split("/")[-1] not in used:
            continue  # an export with nothing in the window (a later check-in's, say)
        reader = READERS.get(e.get("format", ""))
        # the reader's own description, without its parenthesised column list
        what = (reader.description if reader else e.get("format", "?")).split(" (")[0]
        date = str(e.get("imported_at") or "")[:10]
        out.append(words[lang].format(what=what,
                                      date=fmt_date(date, lang, short=True) if date else "?",
                                      n=e.get("rows_imported", "?")))
    return out


def commitment(plan: dict[str, Any]) -> dict[str, Any]:
    """What the plan asks of the company: person-days and person-weeks of the open actions, each
    owner's share, the decisions it needs, and the dates of the day-30 and day-90 check-ins."""
    import datetime as dt

    open_actions = [x for x in plan["actions"] if x.get("status") not in ("done", "dropped")]
    by_owner: dict[str, float] = {}
    for x in open_actions:
        owner = x.get("owner_display") or "?"
        by_owner[owner] = by_owner.get(owner, 0.0) + float(x.get("days") or 0)
    days = sum(by_owner.values())
    waiting = sum(float(x.get("days") or 0) for x in open_actions if x.get("fits") is False)
    start = dt.date.fromisoformat(str(plan["start_date"]))
    # the check-ins fall on the plan's own horizon dates (weekends moved to the Friday before)
    dues = {h["horizon"]: h.get("due") for h in plan.get("roadmap", []) if isinstance(h, dict)}
    day30 = dues.get("7-30") or (start + dt.timedelta(days=29)).isoformat()
    day90 = dues.get("30-90") or (start + dt.timedelta(days=89)).isoformat()
    return {"person_days": round(days, 1), "person_weeks": round(days / 5.0, 1),
            "person_days_waiting": round(waiting, 1), "person_days_fit": round(days - waiting, 1),
            "owners": sorted(((o, round(d, 1)) for o, d in by_owner.items()),
                             key=lambda od: (-od[1], od[0])),
            "open_actions": len(open_actions), "decisions": len(plan.get("decisions") or []),
            "day30": str(day30), "day90": str(day90)}
