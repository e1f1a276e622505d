"""Risk ranking: hand-computed scores, ties, risks without evidence, catalog validation, the sample."""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
import yaml

from assess import analysis, metrics, plans, risks
from assess.incidents import ACTION_COLUMNS, DEPLOY_COLUMNS, empty, typed

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
        {"incidents": {"match": ["deploy"]}, "at_least": 1, "weight": 3},  # 1 SEV1: 1/3 strength
        {"metric": "mttr_minutes.median", "above": 60, "weight": 2},  # median 30: does not fire
        {"answer": "change.auto_rollback", "weight": 1},  # a gap: full strength
    ]))
    [r] = risks.rank(cat, evidence(THREE, [gap("change.auto_rollback")]))
    # likelihood (3 x 1/3 + 2 x 0 + 1 x 1) / 6 = 0.333, kept to the hundredth the reports show
    assert r["likelihood"] == 0.33
    # impact: base 2; evidence counts for 3/4 (base 2); severity 0.75 log10(1 + 60 SEV1-min / 30)
    # = 0.36, customers 0.75 (customer-reported, nobody counted), no journey, no recurrence; each
    # part to the tenth shown, the impact their sum
    imp = r["impact"]
    assert (imp["base"], imp["severity"], imp["customers"], imp["revenue"], imp["recurrence"]) == (
        2, 0.4, 0.8, 0, 0)
    assert imp["score"] == pytest.approx(3.2) and imp["severity_minutes"] == 60
    assert r["score"] == round(0.33 * 3.2, 2) == 1.06  # the product of the figures shown
    assert [s["fired"] for s in r["signals"]] == [True, False, True]
    assert r["signals"][0]["strength"] == pytest.approx(0.3333)
    assert r["signals"][1]["value"] == 30.0
    assert r["evidence"]["incident_count"] == 1
    assert r["evidence"]["incidents"][0]["title"] == "Checkout down after deploy"
    # the title matched, no root cause says so: an inference; the answer is recorded
    assert r["evidence"]["incidents"][0]["strength"] == "inferred"
    assert r["evidence"]["strength"] == {"recorded": 1, "measured": 0, "inferred": 1}
    assert r["evidence"]["answers"][0]["question"] == "change.auto_rollback"
    assert r["finding"] == "1 incidents" and r["top"] and r["rank"] == 1


@pytest.mark.parametrize(("value", "op", "threshold", "expected"), [
    (0.3, "above", 0.2, 0.75),  # half as far again past 0.2
    (0.4, "above", 0.2, 1.0),  # twice the threshold: full
    (0.2, "above", 0.2, 0.0),  # at the threshold: not past it
    (0.4, "below", 0.8, 0.75),
    (13, "above", 0, 1.0),  # counts past 0
    (1, "above", 0, 1.0),
])
def test_metric_strength_reflects_how_far_past_the_threshold(value, op, threshold, expected):
    assert risks.metric_strength(value, op, threshold) == expected


def test_one_low_incident_is_not_twelve():
    rows = [{"title": f"Disk full on worker {i}", "severity": "SEV3",
             "detected": f"2026-02-{i + 1:02d}T10:00Z", "resolved": f"2026-02-{i + 1:02d}T10:30Z"}
            for i in range(12)]
    cat = catalog(risk("disk", [{"incidents": {"match": ["disk"]}, "weight": 1}]))
    [one] = risks.rank(cat, evidence(incidents(*rows[:1])))
    [twelve] = risks.rank(cat, evidence(incidents(*rows)))
    # severity-weighted count over the saturation of 3: one SEV3 = 0.25 / 3, twelve = 3 / 3
    assert one["likelihood"] == round(0.25 / 3, 2) == 0.08
    assert twelve["likelihood"] == 1.0


def test_metric_signal_and_answers_only_finding():
    cat = catalog(risk("slow", [{"metric": "mttr_minutes.median", "above": 20, "weight": 1,
                                 "name": "mttr"},
                                {"incidents": {"match": ["nothing-matches"]}, "weight": 1}],
                       finding_answers={"en": "MTTR is {mttr}", "fr": "MTTR : {mttr}"}))
    [r] = risks.rank(cat, evidence(THREE))
    # median 30 vs 20: half past it -> 0.75; likelihood 0.75 / 2; no incident: impact = base 2
    assert r["likelihood"] == round(0.375, 2) == 0.38  # 0.375 kept to the hundredth shown
    assert r["impact"]["score"] == 2 and r["score"] == 0.76
    assert r["finding"] == "MTTR is 30 min"
    assert r["evidence"]["metrics"][0]["display"] == "30 min"
    assert r["evidence"]["metrics"][0]["strength"] == "measured"
    [r_fr] = risks.rank(cat, evidence(THREE), lang="fr")
    assert r_fr["finding"] == "MTTR : 30 min"


def test_recurrence_bonus_needs_a_recurring_family():
    df = incidents(*[{"title": "Disk full on worker", "severity": "SEV3",
                      "detected": f"2026-02-{d:02d}T10:00Z", "resolved": f"2026-02-{d:02d}T10:30Z"}
                     for d in (1, 15)])
    cat = catalog(risk("disk", [{"incidents": {"match": ["disk"]}, "weight": 1}], impact=1))
    [r] = risks.rank(cat, evidence(df))
    # a practice gap (base 1): evidence counts for half; 2 SEV3 x 30 min = 15 severity-minutes
    imp = r["impact"]
    assert (imp["severity"], imp["customers"], imp["recurrence"]) == (
        round(0.5 * math.log10(1.5), 1), 0, 0.5)
    assert imp["score"] == pytest.approx(1 + 0.1 + 0.5)


def test_a_decisive_high_risk_answer_ranks_a_risk_without_incidents():
    critical = {**gap("change.auto_rollback"), "risk": "high", "critical": True}
    backups = risk("backups", [{"answer": "change.auto_rollback", "weight": 1, "decisive": True},
                               {"incidents": {"match": ["restore"]}, "weight": 3}],
                   impact=3, potential=8)
    deploys = risk("deploys", [{"incidents": {"match": ["deploy"]}, "weight": 1}], impact=3)
    ranked = risks.rank(catalog(deploys, backups), evidence(THREE, [critical]))
    first = ranked[0]
    # no incident at all, yet likelihood 0.9 (critical, high risk) x potential 8 = 7.2
    assert (first["id"], first["likelihood"], first["impact"]["score"], first["score"]) == (
        "backups", 0.9, 8.0, 7.2)
    assert first["decisive"] == "critical" and first["top"]
    assert first["finding"] == "answers only"
    assert "higher" in first["reason_above"] and "#2 (deploys)" in first["reason_above"]
    # the same answer at medium risk floors at 0.5 and never reaches the potential
    medium = {**critical, "risk": "medium", "critical": False}
    [b] = [r for r in risks.rank(catalog(backups), evidence(THREE, [medium]))]
    assert (b["likelihood"], b["impact"]["score"]) == (0.5, 3.0)


def test_ties_go_to_the_stronger_evidence_then_catalog_order():
    gaps = [gap("change.auto_rollback")]
    same = [{"answer": "change.auto_rollback", "weight": 1}]
    a = risk("alpha", same)
    b = risk("bravo", same)
    # identical evidence and score: catalog order decides, whichever comes first
    assert [r["id"] for r in risks.rank(catalog(a, b), evidence(THREE, gaps))] == ["alpha", "bravo"]
    assert [r["id"] for r in risks.rank(catalog(b, a), evidence(THREE, gaps))] == ["bravo", "alpha"]
    # equal scores: the recorded root cause beats the matching title
    df = incidents({"title": "Checkout errors", "root_cause": "bad-deploy", "severity": "SEV2",
                    "detected": "2026-02-01T10:00Z", "resolved": "2026-02-01T11:00Z"},
                   {"title": "Deploy of checkout failed", "severity": "SEV2",
                    "detected": "2026-03-01T10:00Z", "resolved": "2026-03-01T11:00Z"})
    by_title = risk("by-title", [{"incidents": {"match": ["checkout errors"]}, "weight": 1}])
    by_cause = risk("by-cause", [{"incidents": {"match": ["deploy"]}, "at_least": 2, "weight": 1}])
    by_cause["signals"] = [{"incidents": {"match": ["bad-deploy"]}, "weight": 1}]
    ranked = risks.rank(catalog(by_title, by_cause), evidence(df))
    assert ranked[0]["score"] == ranked[1]["score"]
    assert [r["id"] for r in ranked] == ["by-cause", "by-title"]
    assert ranked[0]["evidence"]["incidents"][0]["strength"] == "recorded"
    assert ranked[1]["evidence"]["incidents"][0]["strength"] == "inferred"
    assert "more recorded evidence (1 vs 0)" in ranked[0]["reason_above"]


def test_broken_promises_link_an_unowned_action_to_the_incidents_after_it():
    from assess.incidents import ACTION_COLUMNS
    from assess.promises import broken_promises

    df = incidents(*[{"key": f"p:{i}", "title": "API 5xx: connection pool exhausted",
                      "root_cause": "db-pool", "service": "api", "severity": sev,
                      "detected": f"2026-0{m}-10T10:00Z", "resolved": f"2026-0{m}-10T11:00Z",
                      "postmortem_at": f"2026-0{m}-11T10:00Z" if i == 0 else None}
                     for i, (m, sev) in enumerate([(1, "SEV2"), (2, "SEV1"), (3, "SEV1")])])
    actions = typed(pd.DataFrame([
        {"incident_key": "p:0", "title": "Alert on pool saturation", "owner": None, "due": None,
         "done": False},
        # done: kept its promise
        {"incident_key": "p:0", "title": "Raise the pool size", "owner": "Priya", "due": "2026-01-20",
         "done": True},
        # owned and due after the February incident: only the March one broke it
        {"incident_key": "p:0", "title": "Add PgBouncer", "owner": "Priya", "due": "2026-02-20",
         "done": False},
    ]), ACTION_COLUMNS)
    _, frame = metrics.compute_with_frame(df, empty(DEPLOY_COLUMNS), empty(ACTION_COLUMNS), S())
    got = broken_promises(frame, actions)
    assert [(p["action"], p["why"], p["followers"], p["followers_sev1"]) for p in got] == [
        ("Alert on pool saturation", "no_owner", ["p:1", "p:2"], 2),
        ("Add PgBouncer", "overdue", ["p:2"], 1)]
    cat = catalog(risk("follow", [{"promises": True, "weight": 1}]))
    ev = risks.Evidence(metrics={}, incidents=frame, gaps=[], actions=actions)
    [r] = risks.rank(cat, ev)
    # the follow-up incidents are recorded evidence: 2 SEV1 = 2 / 3 of the saturation
    assert r["likelihood"] == 0.67
    assert r["evidence"]["incident_count"] == 2 and r["evidence"]["promises"][0]["action"] == \
        "Alert on pool saturation"
    assert {i["strength"] for i in r["evidence"]["incidents"]} == {"recorded"}


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
    # backups never restored and no recovery from a region loss: a top risk from the answers alone
    assert [r["id"] for r in top] == ["unsafe-deploys", "detection-blind-spots", "untested-backups"]
    assert top[2]["decisive"] == "critical" and top[2]["evidence"]["incident_count"] == 0
    for r in top[:2]:
        assert r["evidence"]["incidents"] and (r["evidence"]["metrics"] or r["evidence"]["answers"])
    # the scores separate the first five, and each says why it is above the next
    scores = [r["score"] for r in ranked[:5]]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5
    assert all(r["reason_above"] for r in ranked[:5])
    capacity = next(r for r in ranked if r["id"] == "capacity-saturation")
    assert capacity["rank"] <= 5
    # the pool alert promised at the 11 August postmortem, never owned, then three SEV1s
    promise = capacity["evidence"]["promises"][0]
    assert promise["action"] == "Add DB connection pool saturation alert" and promise["owner"] is None
    assert promise["promised_at"] == "2026-08-12" and promise["followers_sev1"] == 3
    assert "db-connection-pool (api)" in capacity["finding"]
    assert sum("connection pool" in i["title"] for i in capacity["evidence"]["incidents"]) == 7
    deploys = top[0]
    assert all(i["key"] in analysis.analyse(SAMPLE).metrics["change_failure_rate"]["incidents"]
               for i in deploys["evidence"]["incidents"])


def test_every_score_is_the_product_of_the_figures_printed():
    """What the reports print (likelihood to 2 decimals, impact and its parts to 1) adds up and
    multiplies out to the score, and the ranking is the one a reader recomputes from them."""
    from assess import analysis

    a = analysis.analyse(SAMPLE)
    ranked = analysis.judgement(a, "en")["risks"]
    for r in ranked:
        if r.get("source") == "consultant":
            continue
        assert r["likelihood"] == round(r["likelihood"], 2)
        imp = r["impact"]
        parts = [imp[k] for k in ("severity", "customers", "revenue", "recurrence")]
        assert all(p == round(p, 1) for p in parts)
        if not imp["potential"]:
            assert imp["score"] == pytest.approx(min(10.0, round(imp["base"] + sum(parts), 1)))
        assert r["score"] == round(round(r["likelihood"], 2) * round(imp["score"], 1), 2)
    scored = [r for r in ranked if r["has_evidence"] and not r.get("dropped")
              and not r.get("pinned")]
    assert [r["score"] for r in scored] == sorted((r["score"] for r in scored), reverse=True)
