"""Words for the codes the domain uses (answers, roles, languages, statuses, claim states): the
consultant's pages are shown to clients, so they never show a code."""

from __future__ import annotations

import functools
from typing import Any

from .. import questionnaires

ROLES = {"founder": "Founder / CEO", "cto": "CTO", "engineer": "Engineer", "support": "Support",
         "product": "Product", "other": "Other", "consultant": "Consultant",
         "eng-lead": "Engineering lead", "platform": "Platform / SRE", "support-lead": "Support lead"}
LANGUAGES = {"en": "English", "fr": "French"}
CLAIMS = {"contradicted": "contradicted by the evidence", "unverified": "not verifiable",
          "consistent": "consistent", "unsupported": "not supported by the evidence"}
RISK_LEVELS = {"high": "high risk", "medium": "medium risk", "low": "low risk", "none": "no risk"}
STATES = {"created": "created", "opened": "opened", "started": "started", "submitted": "submitted",
          "revoked": "withdrawn", "expired": "expired"}


@functools.cache
def _questions() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("intake", "self_assessment"):
        try:
            out.update(questionnaires.load(name).questions)
        except questionnaires.QuestionnaireError:  # a broken questionnaire is reported elsewhere
            continue
    return out


def answer(value: Any, qid: str | None = None, lang: str = "en") -> str:
    """An answer in words: the option's label ('We ask the person who knows', not
    `ask_the_expert`), a scale point with its ends, "Don't know"."""
    if value is None or value == "":
        return "no answer"
    if isinstance(value, list):
        return ", ".join(answer(v, qid, lang) for v in value) or "none ticked"
    if value in questionnaires.RESERVED:
        return questionnaires.RESERVED_LABELS[value].get(lang) or value
    q = _questions().get(qid or "")
    if q is not None:
        for o in q.options:
            if o["value"] == value:
                return o["label"].get(lang) or o["label"]["en"]
        if q.type == "scale" and q.scale:
            low, high = q.scale.get("low") or {}, q.scale.get("high") or {}
            ends = (f" ({q.scale['min']} {low.get(lang) or low.get('en', '')}, "
                    f"{q.scale['max']} {high.get(lang) or high.get('en', '')})") if low and high else ""
            return f"{value} of {q.scale['max']}{ends}"
        if q.type == "duration" and isinstance(value, int | float):
            from ..formatting import fmt_minutes

            return fmt_minutes(value)
        if q.type == "number" and q.unit:
            return f"{value} {q.unit}"
    if isinstance(value, str):
        return value.replace("_", " ")
    return str(value)


def question(qid: str, lang: str = "en") -> str:
    """A question's text, else its id made readable."""
    q = _questions().get(qid)
    if q is None:
        return qid.split(".")[-1].replace("_", " ")
    return q.text.get(lang) or q.text["en"]


def words(text: Any, lang: str = "en") -> str:
    """A sentence with any question id in it ('security.data_loss_last_year') told as the
    question ('“In the last twelve months, was customer data lost?”')."""
    import re

    known = _questions()

    def swap(m):
        qid = m.group(0)
        return f"“{question(qid, lang)}”" if qid in known else qid

    out = re.sub(r"\b[a-z][a-z_]*\.[a-z][a-z_0-9]*\b", swap, str(text))
    # "3 month(s)" -> "3 months", "1 answer(s)" -> "1 answer"; "1 incidents" -> "1 incident"
    out = re.sub(r"\b(\d+) ((?:[\w-]+ ){0,3})(\w+)\(s\)",
                 lambda m: f"{m.group(1)} {m.group(2)}{m.group(3)}{'' if m.group(1) == '1' else 's'}", out)
    return re.sub(r"\b1 (incident|answer|action|deploy|month|day|week)s\b", r"1 \1", out)


def plural(n: Any, word: str, many: str | None = None) -> str:
    """'1 incident', '2 incidents', '0 incidents'."""
    try:
        one = int(n) == 1
    except (TypeError, ValueError):
        one = False
    return f"{n} {word if one else (many or word + 's')}"


def init_app(app) -> None:
    app.jinja_env.filters.update(
        answer=answer, question=question, plural=plural, words=words,
        role=lambda v: ROLES.get(v or "", (v or "").replace("-", " ").replace("_", " ")),
        language=lambda v: LANGUAGES.get(v or "", v),
        claim=lambda v: CLAIMS.get(v or "", (v or "").replace("_", " ")),
        risk_level=lambda v: RISK_LEVELS.get(v or "", v),
        link_state=lambda v: STATES.get(v or "", v))
