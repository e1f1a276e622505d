"""Risk ranking: hand-computed scores, ties, risks without evidence, catalog validation, the sample."""

from __future__ import annotations

import copy

import pytest
import yaml

from assess import analysis, metrics, plans, risks
from assess.incidents import ACTION_COLUMNS, DEPLOY_COLUMNS, empty

from .conftest import SAMPLE
from .test_metrics import S, incidents

QUESTIONS = {"change.auto_rollback", "roles.incident_commander", "comms.status_page"}
ACTIONS = {"one-command-rollback", "incident-roles", "status-page"}
METRICS = {"recurrence.rate": {"unit": "pct", "en": "Recurrence", "fr": "Récurrence"},
           "mttr_minutes.median": {"unit": "minutes", "en": "MTTR", "fr": "MTTR"}}
TEXT = {"en": "x", "fr": "x"}


def risk(rid: str, signals: list[dict], impact: int = 2, **kw) -> dict:
    return {"id": rid, "title": {"en": rid, "fr": rid}, "impact": impact, "signals": signals,
            "finding": {"en": "{n} incidents", "fr": "{n} incidents"},
            "finding_answers": {"en": "answers only", "fr": "réponses seules"},
            "actions": ["one-command-rollback"], **kw}


def catalog(*rs: dict) -> risks.Catalog:
    return risks.parse({"metrics": METRICS, "risks": list(rs)}, "test.yaml", ACTIONS, QUESTIONS)


def evidence(df=None, gaps=None) -> risks.Evidence:
    df = df if df is not None else incidents()
    doc, frame = metrics.compute_with_frame(df, empty(DEPLOY_COLUMNS), empty(ACTION_COLUMNS), S())
    return risks.Evidence(metrics=doc, incidents=frame, gaps=gaps or [])


def gap(question: str) -> dict:
    return {"question": question, "area": "change", "score": 0.0, "value": "no",
            "finding": {"en": f"gap {question}", "fr": f"écart {question}"}, "note": None}


THREE = incidents(
    # a SEV1 outage reported by a customer: severity and customers bonuses
    {"title": "Checkout down after deploy", "severity": "SEV1", "detection_source": "customer",
     "detected": "2026-02-01T10:00Z", "resolved": "2026-02-01T11:00Z"},
    {"title": "Queue backlog growing", "severity": "SEV3", "detection_source": "alert",
     "detected": "2026-02-10T10:00Z", "resolved": "2026-02-10T10:30Z"},
    {"title": "Disk full on worker", "severity": "SEV3", "detection_source": "alert",
     "detected": "2026-03-20T10:00Z", "resolved": "2026-03-20T10:30Z"},
)


def test_score_by_hand():
    cat = catalog(risk("deploys", [
        {"incidents": {"match": ["deploy"]}, "at_least": 1, "weight": 3},  # fires (1 incident)
        {"metric": "mttr_minutes.median", "above": 60, "weight": 2},  # median 30: does not fire
        {"answer": "change.auto_rollback", "weight": 1},  # fires
    ]))
    [r] = risks.rank(cat, evidence(THREE, [gap("change.auto_rollback")]))
    # likelihood (3 + 1) / 6; impact 2 + severity 1 + customers 1 + recurrence 0 = 4
    assert r["likelihood"] == pytest.approx(0.6667)
    assert r["impact"] == {"score": 4, "base": 2, "severity": 1, "customers": 1, "recurrence": 0}
    assert r["score"] == pytest.approx(round(4 / 6 * 4, 3))
    assert [s["fired"] for s in r["signals"]] == [True, False, True]
    assert r["signals"][1]["value"] == 30.0
    assert r["evidence"]["incident_count"] == 1
    assert r["evidence"]["incidents"][0]["title"] == "Checkout down after deploy"
    assert r["evidence"]["answers"][0]["question"] == "change.auto_rollback"
    assert r["finding"] == "1 incidents" and r["top"] and r["rank"] == 1


def test_metric_signal_and_answers_only_finding():
    cat = catalog(risk("slow", [{"metric": "mttr_minutes.median", "above": 20, "weight": 1,
                                 "name": "mttr"},
                                {"incidents": {"match": ["nothing-matches"]}, "weight": 1}],
                       finding_answers={"en": "MTTR is {mttr}", "fr": "MTTR : {mttr}"}))
    [r] = risks.rank(cat, evidence(THREE))
    assert r["likelihood"] == 0.5 and r["impact"]["score"] == 2 and r["score"] == 1.0
    assert r["finding"] == "MTTR is 30 min"
    assert r["evidence"]["metrics"][0]["display"] == "30 min"
    [r_fr] = risks.rank(cat, evidence(THREE), lang="fr")
    assert r_fr["finding"] == "MTTR : 30 min"


def test_recurrence_bonus_needs_a_recurring_family():
    df = incidents(*[{"title": "Disk full on worker", "severity": "SEV3",
                      "detected": f"2026-02-{d:02d}T10:00Z", "resolved": f"2026-02-{d:02d}T10:30Z"}
                     for d in (1, 15)])
    cat = catalog(risk("disk", [{"incidents": {"match": ["disk"]}, "weight": 1}], impact=1))
    [r] = risks.rank(cat, evidence(df))
    assert r["impact"] == {"score": 2, "base": 1, "severity": 0, "customers": 0, "recurrence": 1}


def test_ties_are_broken_by_impact_then_evidence_then_catalog_order():
    gaps = [gap("change.auto_rollback")]
    same = [{"answer": "change.auto_rollback", "weight": 1}]
    a = risk("alpha", same)
    b = risk("bravo", same)
    # identical evidence and score: catalog order decides, whichever comes first
    assert [r["id"] for r in risks.rank(catalog(a, b), evidence(THREE, gaps))] == ["alpha", "bravo"]
    assert [r["id"] for r in risks.rank(catalog(b, a), evidence(THREE, gaps))] == ["bravo", "alpha"]
    # same score 2.0: likelihood 1 x impact 2 against likelihood 0.5 x impact 4 -> impact wins
    low = risk("low-impact", same, impact=2)
    high = risk("high-impact", [{"answer": "change.auto_rollback", "weight": 1},
                                {"answer": "comms.status_page", "weight": 1}], impact=3)
    high["signals"].append({"incidents": {"severity": ["SEV1"]}, "weight": 2})  # fires: +1 +1 impact
    ranked = risks.rank(catalog(low, high), evidence(THREE, gaps))
    assert [r["score"] for r in ranked] == [pytest.approx(3.75), 2.0]
    # equal score and impact: more evidence incidents first
    one = risk("one", [{"incidents": {"match": ["deploy"]}, "weight": 1}], impact=1)
    two = risk("two", [{"incidents": {"match": ["deploy", "queue"]}, "weight": 1}], impact=1)
    ranked = risks.rank(catalog(one, two), evidence(THREE))
    assert [(r["id"], r["score"], r["evidence"]["incident_count"]) for r in ranked] == [
        ("two", 3.0, 2), ("one", 3.0, 1)]


def test_a_risk_without_evidence_is_never_in_the_top_three():
    silent = risk("silent", [{"answer": "comms.status_page", "weight": 1}], impact=3)
    found = [risk(f"found-{i}", [{"answer": "change.auto_rollback", "weight": 1}], impact=1)
             for i in range(2)]
    ranked = risks.rank(catalog(silent, *found), evidence(THREE, [gap("change.auto_rollback")]))
    assert [r["id"] for r in ranked if r["top"]] == ["found-0", "found-1"]
    assert ranked[-1]["id"] == "silent" and ranked[-1]["score"] == 0 and not ranked[-1]["has_evidence"]


def test_no_incidents_at_all():
    cat = catalog(risk("r", [{"incidents": {"recurring": True}, "weight": 1},
                             {"answer": "change.auto_rollback", "weight": 1}]))
    [r] = risks.rank(cat, evidence(incidents(), [gap("change.auto_rollback")]))
    assert r["likelihood"] == 0.5 and r["evidence"]["incident_count"] == 0 and r["top"]
    assert r["finding"] == "answers only"


def test_selector_flags_come_from_the_enriched_table():
    ev = evidence(THREE)
    flags = ev.flags()
    assert set(flags) == set(risks.SELECTOR_FLAGS)
    sel = risks.select(ev.incidents, {"severity": ["SEV3"], "match": ["queue|disk"]}, flags)
    assert sel.tolist() == [False, True, True]
    # 1 Feb 2026 is a Sunday; the other two fall on weekdays at 10:00 (business hours 09-18)
    sel = risks.select(ev.incidents, {"out_of_hours": True}, flags)
    assert sel.tolist() == [True, False, False]
    # the SEV1 is an outage by the default severity-to-impact mapping
    assert risks.select(ev.incidents, {"outage": True}, flags).tolist() == [True, False, False]


BROKEN = [
    (lambda r: r.update(impact=5), "risk 'r': impact: expected 1, 2 or 3"),
    (lambda r: r["signals"].append({"metric": "no.such", "above": 1, "weight": 1}),
     "risk 'r': signals[1]: metric: 'no.such' is neither in the metric catalog"),
    (lambda r: r["signals"].append({"metric": "recurrence.rate", "above": 1, "below": 2, "weight": 1}),
     "signals[1]: expected a number in exactly one of above, below"),
    (lambda r: r["signals"].append({"answer": "no.question", "weight": 1}),
     "signals[1]: answer: 'no.question' is not a question"),
    (lambda r: r["signals"].append({"incidents": {"match": ["(unclosed"]}, "weight": 1}),
     "signals[1].incidents.match: '(unclosed' is not a valid regex"),
    (lambda r: r["signals"].append({"incidents": {"colour": ["red"]}, "weight": 1}),
     "unknown selector key 'colour'"),
    (lambda r: r["signals"].append({"incidents": {"recurring": True}, "weight": 0}),
     "signals[1]: weight: expected a number above 0"),
    (lambda r: r.update(actions=["no-such-action"]), "actions: 'no-such-action' is not in the remediation"),
    (lambda r: r["finding"].update(en="{nope} incidents"), "finding.en: unknown placeholder 'nope'"),
    (lambda r: r.update(title={"en": "only English"}), "risk 'r': title: expected a text in each language"),
    (lambda r: r.update(id="Bad Id"), "id: expected lowercase words"),
]


@pytest.mark.parametrize(("breakage", "message"), BROKEN)
def test_catalog_validation_names_file_risk_and_key(breakage, message):
    r = risk("r", [{"answer": "change.auto_rollback", "weight": 1}])
    breakage(r)
    with pytest.raises(risks.CatalogError) as exc:
        catalog(r)
    assert message in str(exc.value) and str(exc.value).startswith("test.yaml: ")


def test_duplicate_risk_ids_are_refused():
    r = risk("r", [{"answer": "change.auto_rollback", "weight": 1}])
    with pytest.raises(risks.CatalogError, match="risk 'r': id: duplicate id"):
        catalog(r, copy.deepcopy(r))


def test_shipped_catalog_and_library_are_valid():
    cat, lib = plans.load_catalogs()
    assert len(cat.risks) >= 9 and all(a in lib.actions for r in cat.risks for a in r.actions)
    assert {"1", "2", "3", "4"} == {str(w) for w in lib.weeks}


def test_an_engagement_catalog_replaces_the_shipped_one(sample_copy):
    shipped = yaml.safe_load(risks.catalog_path().read_text())
    shipped["risks"] = [r for r in shipped["risks"] if r["id"] == "untested-backups"]
    (sample_copy / "risks.yaml").write_text(yaml.safe_dump(shipped, allow_unicode=True))
    # the sample's overrides name a risk this catalog no longer has: said, not ignored
    with pytest.raises(risks.CatalogError, match="actions.add.0.: risk: unknown risk 'capacity-sat"):
        analysis.judgement(analysis.analyse(sample_copy))
    (sample_copy / "overrides.yaml").unlink()
    ranked = analysis.judgement(analysis.analyse(sample_copy))["risks"]
    assert [r["id"] for r in ranked] == ["untested-backups"]
    (sample_copy / "risks.yaml").write_text("risks: [\n")
    with pytest.raises(risks.CatalogError, match="risks.yaml: line 2"):
        analysis.judgement(analysis.analyse(sample_copy))


def test_sample_top_three_tell_its_story():
    ranked = analysis.judgement(analysis.analyse(SAMPLE))["risks"]
    top = [r for r in ranked if r["top"]]
    assert [r["id"] for r in top] == ["unsafe-deploys", "capacity-saturation", "detection-blind-spots"]
    for r in top:
        assert r["evidence"]["incidents"] and (r["evidence"]["metrics"] or r["evidence"]["answers"])
    capacity = top[1]
    assert "db-connection-pool @ api" in capacity["finding"]
    assert sum("connection pool" in i["title"] for i in capacity["evidence"]["incidents"]) == 7
    deploys = top[0]
    assert all(i["key"] in analysis.analyse(SAMPLE).metrics["change_failure_rate"]["incidents"]
               for i in deploys["evidence"]["incidents"])
