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
import yaml

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
    return yaml.safe_load(path.read_text(encoding="utf-8"))["flags"]


def _matching(incidents: pd.DataFrame, patterns: list[str]) -> pd.DataFrame:
    if incidents is None or incidents.empty:
        return incidents
    pattern = "|".join(f"(?:{p})" for p in patterns)
    text = incidents["title"].fillna("").astype(str) + " " + incidents["root_cause"].fillna("").astype(str)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
        return incidents[text.str.contains(pattern, case=False, regex=True, flags=re.I)]


def red_flags(metrics: dict[str, Any], scores: dict[str, Any], incidents: pd.DataFrame | None,
              lang: str = "en") -> list[dict[str, Any]]:
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
                note = str(gap.get("note") or "").strip().rstrip(".")
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
                    key=row.key, severity=row.severity if isinstance(row.severity, str) else "?",
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


def plain_sources(imports: list[dict[str, Any]], lang: str = "en") -> list[str]:
    """Each imported export in plain words: what it is, when it was imported, its rows
    ("PagerDuty incidents CSV download of 2 Nov 2026 (62 rows)"); the files are listed in the
    assessment report's appendix."""
    from .formatting import fmt_date
    from .importers import READERS

    words = {"en": "{what} of {date} ({n} rows)", "fr": "{what} du {date} ({n} lignes)"}
    out = []
    for e in imports:
        reader = READERS.get(e.get("format", ""))
        # the reader's own description, without its parenthesised column list
        what = (reader.description if reader else e.get("format", "?")).split(" (")[0]
        date = str(e.get("imported_at") or "")[:10]
        out.append(words[lang].format(what=what,
                                      date=fmt_date(date, lang, short=True) if date else "?",
                                      n=e.get("rows_imported", "?")))
    return out
