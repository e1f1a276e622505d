"""The due-diligence summary's red flags, claims against evidence and sources, on hand-built data."""

from __future__ import annotations

import pandas as pd

from assess import diligence
from assess.incidents import typed


def gap(question: str, risk: str = "high", note: str | None = None) -> dict:
    return {"question": question, "area": "x", "score": 0.0, "value": "v", "risk": risk,
            "critical": True, "finding": {"en": f"finding {question}", "fr": f"constat {question}"},
            "note": note}


METRICS = {"availability": {"months_below_sla": 0}}


def test_no_red_flag_is_said_to_be_none():
    assert diligence.red_flags(METRICS, {"gaps": []}, None) == []


def test_red_flags_fire_from_answers_and_data_and_cite_their_evidence():
    scores = {"gaps": [gap("failure.backup_restore_tested", note="Snapshots never restored."),
                       gap("security.data_integrity", risk="medium"),
                       # medium is not enough for the secrets flag (high only)
                       gap("failure.secret_management", risk="medium")]}
    incidents = typed(pd.DataFrame([
        {"key": "j:1", "title": "Bank feed sync silently skipping accounts", "severity": "SEV2"},
        {"key": "j:2", "title": "Checkout down", "severity": "SEV1"}]))
    metrics = {"availability": {"months_below_sla": 2}}
    flags = {f["id"]: f for f in diligence.red_flags(metrics, scores, incidents)}
    assert set(flags) == {"backups-never-restored", "silent-data-integrity", "sla-credits"}
    assert flags["backups-never-restored"]["evidence"] == [
        "Interview: finding failure.backup_restore_tested (Snapshots never restored)"]
    assert flags["silent-data-integrity"]["evidence"] == [
        "Interview: finding security.data_integrity",
        "j:1 (SEV2): Bank feed sync silently skipping accounts"]
    assert flags["sla-credits"]["evidence"] == ["Months below the SLA: 2"]
    fr = diligence.red_flags(metrics, scores, incidents, "fr")
    assert fr[0]["title"] == "Les sauvegardes n'ont jamais été restaurées"


def test_claims_of_the_leadership_come_first_beside_their_evidence():
    claims = [
        {"statement": "s.a", "text": {"en": "We deploy safely."}, "respondent": "Sam",
         "role": "engineer", "rating": 4, "status": "contradicted",
         "evidence": [{"kind": "metric", "key": "change_failure_rate.change_related_share",
                       "value": 0.15, "bad": True}]},
        {"statement": "s.b", "text": {"en": "We know before customers."}, "respondent": "Nadia",
         "role": "founder", "rating": 5, "status": "contradicted",
         "evidence": [{"kind": "metric", "key": "customer_impact.major_customer_reported_share",
                       "value": 0.32, "bad": True},
                      {"kind": "answer", "bad": True, "finding": {"en": "No business alerts"}},
                      {"kind": "answer", "bad": False, "finding": {"en": "Infra alerts exist"}}]},
        {"statement": "s.c", "text": {"en": "Fine."}, "respondent": "Lea", "role": "cto",
         "rating": 4, "status": "consistent", "evidence": []},
    ]
    got = diligence.claims_against_evidence(claims)
    assert [c["claim"] for c in got] == [
        "Nadia (founder) rates “We know before customers.” 5/5",
        "Sam (engineer) rates “We deploy safely.” 4/5"]
    assert got[0]["measured"] == ["SEV1-SEV2 incidents reported by customers first: 32%"]
    assert got[0]["answered"] == ["No business alerts"]


def test_sources_in_plain_words():
    imports = [{"file": "incidents/pd.csv", "format": "pagerduty-csv", "rows_imported": 62,
                "imported_at": "2026-11-02T09:00:00+00:00"},
               {"file": "deploys/d.csv", "format": "deploy-csv", "rows_imported": 237,
                "imported_at": "2026-11-03T09:00:00+00:00"}]
    assert diligence.plain_sources(imports) == [
        "PagerDuty incidents CSV download of 2 Nov 2026 (62 rows)",
        "Deploy log CSV of 3 Nov 2026 (237 rows)"]
    assert diligence.plain_sources(imports, "fr")[0].endswith("du 2 nov. 2026 (62 lignes)")


def test_the_commitment_counts_open_actions_per_owner():
    plan = {"start_date": "2026-11-09", "decisions": [{"kind": "capacity"}],
            "actions": [{"owner_display": "Marc", "days": 3.5, "status": "planned", "fits": False},
                        {"owner_display": "Marc", "days": 0.5, "status": "in progress"},
                        {"owner_display": "Priya", "days": 10, "status": "blocked"},
                        {"owner_display": "Priya", "days": 10, "status": "done"},
                        {"owner_display": "Tom", "days": 3.5, "status": "dropped"}]}
    c = diligence.commitment(plan)
    assert (c["person_days"], c["person_weeks"], c["open_actions"]) == (14.0, 2.8, 3)
    assert (c["person_days_fit"], c["person_days_waiting"]) == (10.5, 3.5)
    assert c["owners"] == [("Priya", 10.0), ("Marc", 4.0)]
    assert (c["day30"], c["day90"], c["decisions"]) == ("2026-12-08", "2027-02-06", 1)


def test_sources_leave_out_exports_with_nothing_in_the_window():
    imports = [{"file": "incidents/a.csv", "format": "pagerduty-csv", "rows_imported": 5,
                "imported_at": "2026-11-02T09:00:00+00:00"},
               {"file": "incidents/later.csv", "format": "pagerduty-csv", "rows_imported": 3,
                "imported_at": "2026-12-09T09:00:00+00:00"}]
    frame = typed(pd.DataFrame([{"key": "p:1", "provenance": "a.csv:2"}]))
    used = diligence.used_files(frame, None)
    assert used == {"a.csv"}
    assert len(diligence.plain_sources(imports, used=used)) == 1
