"""One maturity headline for an engagement, from the incident record and the practices.

The incident record (the metrics' `maturity`: the median MTTR band capped by the postmortem,
recurrence and SLA evidence) and the practices (the intake interview's overall level, capped by its
worst critical answers) each give one of the four levels. The headline is the LOWER of the two: a
team that answers well but restores slowly is not Proactive, and a quiet quarter does not make up
for a backup never restored. When only one of them is measurable, it decides alone and the
headline says so. Critical questions answered "don't know" make the headline provisional.
"""

from __future__ import annotations

from typing import Any

from .questionnaires import LEVEL_NAMES, lowest

SHOWN_CAPS = 5  # critical answers named in the reasons; all of them are in `capped_by`


def _finding(c: dict[str, Any]) -> str:
    finding = c.get("finding") or {}
    return finding.get("en") or c["question"] if isinstance(finding, dict) else str(finding)


def headline(incident_maturity: dict[str, Any] | None, scores: dict[str, Any] | None) -> dict[str, Any]:
    """The engagement's maturity: level, rank, what each source says and why (text and codes).

    `incident_maturity` is the metrics document's `maturity`; `scores` is `score_engagement`'s
    result. Returns the keys the metrics' maturity has (level, rank, reasons, reason_codes) plus
    by_incidents, by_practices, basis (both, incidents, practices or none), limited_by, capped_by
    and provisional."""
    reasons: list[str] = []
    codes: list[dict[str, Any]] = []

    def why(code: str, text: str, **values: Any) -> None:
        reasons.append(text)
        codes.append({"code": code, "values": values})

    record = incident_maturity or {}
    measured = bool(record.get("level")) and not any(
        r.get("code") == "no_mttr" for r in record.get("reason_codes") or [])
    by_incidents = record.get("level") if measured else None
    overall = (scores or {}).get("overall") or {}
    by_practices = overall.get("level")
    capped_by = overall.get("capped_by") or []
    unknown = (scores or {}).get("critical_unknown") or []

    known = [lvl for lvl in (by_incidents, by_practices) if lvl]
    if len(known) == 2:
        basis = "both"
    elif by_incidents:
        basis = "incidents"
    elif by_practices:
        basis = "practices"
    else:
        basis = "none"
    level = lowest(known) or record.get("level") or LEVEL_NAMES[0]

    if by_incidents:
        why("record_level", f"incident record: {by_incidents}", level=by_incidents)
        for r, code in zip(record.get("reasons") or [], record.get("reason_codes") or [],
                           strict=False):
            reasons.append(r)
            codes.append(code)
    else:
        why("record_unmeasured", "incident record: not measurable (no resolved incident in the "
                                 "window)")
    if by_practices:
        why("practices_level", f"practices (intake interview): {by_practices}, "
                               f"{overall.get('score'):.2f} of 3", level=by_practices,
            score=overall.get("score"))
        for c in capped_by[:SHOWN_CAPS]:
            finding = c.get("finding") if isinstance(c.get("finding"), dict) else {}
            why("practice_cap", f"held at {c['cap']} by a critical answer: {_finding(c)}",
                level=c["cap"], question=c["question"],
                finding={"en": finding.get("en") or c["question"],
                         "fr": finding.get("fr") or finding.get("en") or c["question"]})
        if len(capped_by) > SHOWN_CAPS:
            more = len(capped_by) - SHOWN_CAPS
            why("practice_cap_more",
                f"and {more} more critical answer{'' if more == 1 else 's'} at that level",
                count=more)
    else:
        why("practices_unassessed", "practices: not assessed (no intake interview answers)")
    if len(known) == 2 and by_incidents != by_practices:
        lower = "incidents" if LEVEL_NAMES.index(by_incidents) < LEVEL_NAMES.index(by_practices) \
            else "practices"
        why("lower_of_two", f"the headline takes the lower of the two: {level}", level=level)
    else:
        lower = basis if basis in ("incidents", "practices") else ("both" if known else "none")
    if unknown:
        why("critical_unknown", f"{len(unknown)} critical answer{'' if len(unknown) == 1 else 's'} "
                                f"unknown: ask for evidence "
                                f"({', '.join(unknown)})", count=len(unknown),
            questions=", ".join(unknown))
    return {"level": level, "rank": LEVEL_NAMES.index(level) + 1, "by_incidents": by_incidents,
            "by_practices": by_practices, "basis": basis, "limited_by": lower,
            "capped_by": capped_by, "provisional": bool(unknown) or basis != "both",
            "reasons": reasons, "reason_codes": codes}
