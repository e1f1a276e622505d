"""Questionnaires: the shipped files validate in both languages, broken files fail precisely,
scoring matches a hand computation, conditions apply, and perception gaps are found."""

from __future__ import annotations

import copy

import pytest
import yaml
from click.testing import CliRunner

from assess import questionnaires as Q
from assess.cli import main

from . import test_web as web
from . import test_web_live as live
from .conftest import SAMPLE

TINY = {
    "id": "tiny", "title": {"en": "Tiny", "fr": "Petit"},
    "sections": [{"id": "s", "title": {"en": "S", "fr": "S"}, "questions": [
        {"id": "a.flags", "area": "mitigation", "type": "single", "weight": 2,
         "text": {"en": "Flags?", "fr": "Flags ?"},
         "options": [{"value": "all", "score": 3, "label": {"en": "All", "fr": "Tous"}},
                     {"value": "none", "score": 0, "label": {"en": "None", "fr": "Aucun"}}]},
        {"id": "a.rollback", "area": "mitigation", "type": "duration", "weight": 1,
         "text": {"en": "Rollback minutes", "fr": "Minutes"},
         "bands": [{"max": 5, "score": 3}, {"max": 30, "score": 1}, {"score": 0}]},
        {"id": "b.load", "area": "oncall", "type": "scale", "weight": 1,
         "scale": {"min": 1, "max": 5, "reverse": True},
         "text": {"en": "Load", "fr": "Charge"}},
        {"id": "b.pm", "area": "postmortems", "type": "single", "weight": 1,
         "text": {"en": "PM?", "fr": "PM ?"},
         "options": [{"value": "yes", "score": 3, "label": {"en": "Yes", "fr": "Oui"}},
                     {"value": "no", "score": 0, "label": {"en": "No", "fr": "Non"}}]},
        {"id": "b.pm_fast", "area": "postmortems", "type": "single", "weight": 1,
         "when": {"question": "b.pm", "in": ["yes"]}, "text": {"en": "Fast?", "fr": "Vite ?"},
         "options": [{"value": "yes", "score": 3, "label": {"en": "Yes", "fr": "Oui"}},
                     {"value": "no", "score": 0, "label": {"en": "No", "fr": "Non"}}]},
    ]}],
}


def answers(values: dict, name="Ana", role="consultant") -> Q.AnswerSet:
    return Q.AnswerSet(file="x.yaml", questionnaire="tiny", name=name, role=role, language="en",
                       answered_at=None, answers={k: {"value": v} for k, v in values.items()})


def test_shipped_questionnaires_validate_and_speak_both_languages():
    for path in Q.shipped():
        q = Q.load(path.stem)
        assert q.questions
        for question in q.questions.values():
            assert question.text["en"] and question.text["fr"]
            assert question.text["en"] != question.text["fr"]
    intake = Q.load("intake").questions
    # the source articles' ground: the five preparation questions and the four incident roles
    assert {"prep.who_gets_called", "prep.how_we_know", "prep.tell_customers", "prep.common_fixes",
            "prep.after", "roles.incident_commander", "roles.technical_lead", "roles.comms_lead",
            "roles.scribe", "failure.cert_monitoring", "failure.backup_restore_tested",
            "slo.error_budget", "postmortem.within_48h"} <= set(intake)
    selves = Q.load("self_assessment")
    assert len(selves.questions) <= 20 and selves.total_minutes == 20  # about a minute a statement


def question(d, i):
    return d["sections"][0]["questions"][i]


BREAKAGES = [
    (lambda d: question(d, 0).pop("text"), "'a.flags': text: expected a text in each language"),
    (lambda d: question(d, 0)["text"].pop("fr"), "'a.flags': text: expected a text in each language"),
    (lambda d: question(d, 0).update(type="essay"), "'a.flags': type: expected one of"),
    (lambda d: question(d, 0).update(area="vibes"), "'a.flags': area: expected one of"),
    (lambda d: question(d, 0)["options"][0].update(score=7),
     "'a.flags': options[0].score: expected a number from 0 to 3"),
    (lambda d: question(d, 1).update(id="a.flags"), "'a.flags': the id is used twice"),
    (lambda d: question(d, 1)["bands"].append({"max": 3, "score": 1}), "'a.rollback': bands"),
    (lambda d: question(d, 2)["scale"].update(min=5), "'b.load': scale: expected whole numbers"),
    (lambda d: question(d, 4)["when"].update(question="later"), "'b.pm_fast': when.question"),
    (lambda d: question(d, 4)["when"].update({"in": ["maybe"]}), "'b.pm_fast': when.in"),
    (lambda d: question(d, 0).update(choices="nope"), "'a.flags': choices: no list named 'nope'"),
]


@pytest.mark.parametrize("breakage, message", BREAKAGES)
def test_each_kind_of_broken_questionnaire_names_file_question_and_problem(breakage, message):
    data = copy.deepcopy(TINY)
    breakage(data)
    with pytest.raises(Q.QuestionnaireError) as err:
        Q.parse(data, "tiny.yaml")
    assert f"tiny.yaml: question {message}" in str(err.value)


def test_cli_validate_reports_broken_file(tmp_path):
    data = copy.deepcopy(TINY)
    data["sections"][0]["questions"][0]["area"] = "vibes"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(main, ["questionnaire", "validate", str(path)])
    assert result.exit_code == 1 and "broken.yaml: question 'a.flags': area" in result.output


def test_scoring_by_hand_with_condition_unanswered_unknown_and_invalid():
    q = Q.parse(copy.deepcopy(TINY), "tiny.yaml")
    r = Q.score(q, answers({"a.flags": "all", "a.rollback": 20, "b.load": 4, "b.pm": "no",
                            "b.pm_fast": "yes", "old.question": "kept"}))
    # mitigation: (3 * 2 + 1 * 1) / 3 = 2.33 -> Preventive (>= 2.25)
    assert r["areas"]["mitigation"]["score"] == 2.33
    assert r["areas"]["mitigation"]["level"] == "Preventive"
    # on-call: reversed scale, 4 of 1..5 -> 3 * (1 - 0.75) = 0.75 -> Defined (0.75 is not < 0.75)
    assert r["areas"]["oncall"]["score"] == 0.75 and r["areas"]["oncall"]["level"] == "Defined"
    # b.pm_fast applies only when b.pm is yes: its answer is not scored
    assert r["not_applicable"] == ["b.pm_fast"]
    assert r["areas"]["postmortems"]["score"] == 0 and r["areas"]["postmortems"]["level"] == "Reactive"
    assert [g["question"] for g in r["gaps"]] == ["b.pm", "b.load"]
    assert r["unknown"] == ["old.question"]  # kept and reported, not dropped
    # overall: (6 + 1 + 0.75 + 0) / (2 + 1 + 1 + 1)
    assert r["overall"]["score"] == round(7.75 / 5, 2)
    partial = Q.score(q, answers({"a.flags": "maybe", "b.pm": "yes"}))
    assert partial["unanswered"] == ["a.rollback", "b.load", "b.pm_fast"]
    assert partial["invalid"][0]["question"] == "a.flags"
    assert "oncall" not in partial["areas"]  # unanswered is never a silent zero
    assert partial["areas"]["postmortems"]["score"] == 3.0


def test_perception_gap_threshold():
    q = Q.parse(copy.deepcopy(TINY), "tiny.yaml")
    founder = Q.score(q, answers({"b.load": 1, "a.flags": "all"}, "Nadia", "founder"))  # oncall 3/3
    engineer = Q.score(q, answers({"b.load": 4, "a.flags": "all"}, "Priya", "engineer"))  # 0.75/3
    gaps = Q.perception_gaps([founder, engineer], threshold=0.25)
    assert [g["area"] for g in gaps] == ["oncall"]  # mitigation agrees
    assert gaps[0]["spread"] == 0.75 and gaps[0]["highest"]["role"] == "founder"
    assert Q.perception_gaps([founder, engineer], threshold=0.8) == []


def test_sample_engagement_scores_into_its_story():
    result = Q.score_engagement(SAMPLE)
    assert result["overall"]["level"] == "Reactive"
    roles = {r["role"]: r for r in result["respondents"]}
    assert set(roles) == {"consultant", "founder", "engineer", "support"}
    assert roles["founder"]["overall"]["score"] > 1.5 > roles["engineer"]["overall"]["score"]
    assert all(not r["unanswered"] and not r["invalid"] and not r["unknown"]
               for r in result["respondents"])
    gap_ids = {g["question"] for g in result["gaps"]}
    assert {"roles.incident_commander", "failure.backup_restore_tested", "comms.status_page",
            "mitigation.rollback_minutes", "detection.business_alerts"} <= gap_ids
    perceived = {g["area"]: g for g in result["perception_gaps"]}
    assert perceived["oncall"]["highest"]["role"] == "founder"
    assert perceived["oncall"]["lowest"]["role"] == "engineer"


def test_score_cli_json_and_text():
    runner = CliRunner()
    out = runner.invoke(main, ["score", str(SAMPLE), "--json"])
    assert out.exit_code == 0, out.output
    import json

    doc = json.loads(out.output)
    assert {"respondents", "profile", "overall", "gaps", "perception_gaps"} <= set(doc)
    text = runner.invoke(main, ["score", str(SAMPLE), "--lang", "fr"])
    assert "Perception gaps" in text.output and "Astreinte" in text.output


# --- coverage, risk levels and capping ---------------------------------------------------------

def opt(value, score, risk=None, penalty=None, en=None):
    o = {"value": value, "score": score, "label": {"en": en or value, "fr": (en or value) + " (fr)"}}
    if risk:
        o["risk"] = risk
    if penalty:
        o["penalty"] = penalty
    return o


def q_(qid, area, options, weight=1, critical=False, na=False, qtype="single"):
    return {"id": qid, "area": area, "type": qtype, "weight": weight, "critical": critical, "na": na,
            "text": {"en": qid, "fr": qid + " ?"}, "gap": {"en": f"gap {qid}", "fr": f"écart {qid}"},
            "options": options}


GOOD_BAD = [opt("good", 3, "none"), opt("partial", 1.5, "medium"), opt("bad", 0, "high")]
CAPPED = {
    "id": "capped", "kind": "interview", "title": {"en": "C", "fr": "C"},
    "sections": [{"id": "s", "minutes": 10, "title": {"en": "S", "fr": "S"}, "questions": [
        q_("b.restore", "backups", GOOD_BAD, weight=1, critical=True, na=False),
        q_("b.db", "backups", GOOD_BAD, weight=3),
        q_("b.files", "backups", GOOD_BAD, weight=1, na=True),
        q_("o.rotation", "oncall", GOOD_BAD, weight=1, critical=True),
        q_("o.people", "oncall", GOOD_BAD, weight=3),
        q_("c.templates", "communication", GOOD_BAD, weight=1),
        q_("c.status", "communication", GOOD_BAD, weight=3),
        q_("d.sources", "detection", [opt("business", 3, "none"), opt("infra", 1, "medium"),
                                      opt("customers", 0, "medium", penalty=1)], qtype="multiple"),
    ]}],
}


def capped(values, **kw) -> dict:
    return Q.score(Q.parse(copy.deepcopy(CAPPED), "capped.yaml"), answers(values, **kw))


def test_one_high_risk_critical_answer_keeps_its_area_and_the_practices_at_reactive():
    r = capped({"b.restore": "bad", "b.db": "good", "b.files": "good", "o.rotation": "good",
                "o.people": "good", "c.templates": "good", "c.status": "good",
                "d.sources": ["business"]})
    backups = r["areas"]["backups"]
    # (0 * 1 + 3 * 3 + 3 * 1) / 5 = 2.4: Preventive by the mean, Reactive by the restore never tested
    assert backups["score"] == 2.4 and backups["level_by_score"] == "Preventive"
    assert backups["level"] == "Reactive" and backups["capped"] is True
    assert [c["question"] for c in backups["capped_by"]] == ["b.restore"]
    assert r["areas"]["oncall"]["level"] == "Preventive"  # other areas are not touched
    # the practices overall: (0 + 9 + 3 + 3 + 9 + 3 + 9 + 3) / 14 = 2.79, held at Reactive
    assert r["overall"]["score"] == round(39 / 14, 2) and r["overall"]["level_by_score"] == "Preventive"
    assert r["overall"]["level"] == "Reactive"
    assert [c["question"] for c in r["overall"]["capped_by"]] == ["b.restore"]
    assert r["gaps"][0]["question"] == "b.restore" and r["gaps"][0]["critical"] is True


def test_medium_critical_answer_caps_at_defined_and_high_other_answer_at_proactive():
    r = capped({"b.restore": "good", "b.db": "good", "o.rotation": "partial", "o.people": "good",
                "c.templates": "bad", "c.status": "good"})
    # on-call: (1.5 + 9) / 4 = 2.62 -> Preventive by the mean, Defined by a medium critical answer
    assert r["areas"]["oncall"]["score"] == 2.62
    assert r["areas"]["oncall"]["level"] == "Defined"
    # communication: (0 + 9) / 4 = 2.25 -> Preventive; a high-risk answer to a question that is
    # not critical caps its area at Proactive, and leaves the practices overall alone
    assert r["areas"]["communication"]["score"] == 2.25
    assert r["areas"]["communication"]["level"] == "Proactive"
    assert [c["question"] for c in r["areas"]["communication"]["capped_by"]] == ["c.templates"]
    assert r["overall"]["level"] == "Defined"
    assert [c["question"] for c in r["overall"]["capped_by"]] == ["o.rotation"]
    assert r["areas"]["backups"]["level"] == "Preventive" and not r["areas"]["backups"]["capped_by"]


def test_dont_know_and_not_applicable_are_counted_never_scored():
    r = capped({"b.restore": "dont_know", "b.db": "partial", "b.files": "not_applicable",
                "o.rotation": "not_applicable", "o.people": "dont_know", "c.status": "good"})
    backups = r["areas"]["backups"]
    assert backups["score"] == 1.5 and backups["answered"] == 1  # b.db alone: never a zero
    assert backups["dont_know"] == ["b.restore"] and backups["not_applicable"] == ["b.files"]
    assert r["dont_know"] == ["b.restore", "o.people"]
    assert r["critical_unknown"] == ["b.restore"]  # a critical unknown: ask for evidence
    # o.rotation does not offer "not applicable" (na: false): the answer is refused, not dropped
    assert r["invalid"] == [{"question": "o.rotation", "value": "not_applicable",
                             "problem": "'not_applicable' is not offered for this question"}]
    assert "oncall" not in r["areas"] and r["unscored_areas"]["oncall"]["dont_know"] == ["o.people"]
    assert r["unanswered"] == ["c.templates", "d.sources"]
    assert r["counts"] == {"questions": 8, "scored": 2, "dont_know": 2, "not_applicable": 1,
                           "skipped": 0, "unanswered": 2, "invalid": 1}
    assert r["overall"]["score"] == round((1.5 * 3 + 3 * 3) / 6, 2)
    # "don't know" cannot be ticked beside real options
    mixed = capped({"d.sources": ["business", "dont_know"]})
    assert mixed["invalid"][0]["question"] == "d.sources"
    assert capped({"d.sources": ["dont_know"]})["dont_know"] == ["d.sources"]


@pytest.mark.parametrize("ticked, expected_score, expected_risk", [
    (["business"], 3.0, "none"),
    (["business", "customers"], 2.0, "medium"),  # 3 - 1: customers telling us lowers the score
    (["infra"], 1.0, "medium"),
    (["infra", "customers"], 0.0, "medium"),  # 1 - 1
    (["customers"], 0.0, "high"),  # no practice at all: only customers
])
def test_a_bad_option_ticked_lowers_a_multiple_choice(ticked, expected_score, expected_risk):
    q = Q.parse(copy.deepcopy(CAPPED), "capped.yaml").questions["d.sources"]
    assert q.assess(ticked) == (expected_score, expected_risk)


def test_shipped_detection_sources_score_customer_reports_as_bad():
    q = Q.load("intake").questions["prep.how_we_know"]
    assert q.score(["infra_alerts", "customer_reports"]) < q.score(["infra_alerts"])
    assert q.score(["business_alerts", "customer_reports"]) < q.score(["business_alerts"])


CAPPED_BREAKAGES = [
    (lambda d: question(d, 0)["options"][0].pop("risk"), "'b.restore': options[0].risk: expected one of"),
    (lambda d: question(d, 0)["options"][0].update(risk="severe"), "'b.restore': options[0].risk"),
    (lambda d: question(d, 0)["options"][0].update(penalty=1), "'b.restore': penalty: only a multiple"),
    (lambda d: question(d, 0)["options"][0].update(value="dont_know"), "'dont_know' is reserved"),
    (lambda d: question(d, 0).update(critical="yes"), "'b.restore': critical: expected true or false"),
    (lambda d: question(d, 7)["options"][0].update(penalty=5), "'d.sources': options[0].penalty"),
    (lambda d: d["sections"][0].update(minutes=0), "section 's' minutes: expected a number above 0"),
]


@pytest.mark.parametrize("breakage, message", CAPPED_BREAKAGES)
def test_broken_risk_penalty_and_time_fail_precisely(breakage, message):
    data = copy.deepcopy(CAPPED)
    breakage(data)
    with pytest.raises(Q.QuestionnaireError) as err:
        Q.parse(data, "capped.yaml")
    assert message in str(err.value)


def test_the_intake_is_a_90_minute_interview_that_states_every_risk():
    q = Q.load("intake")
    asked = [x for x in q.questions.values() if x.type != "text"]
    assert q.total_minutes == 90 and 80 <= len(asked) <= 100  # about a minute a question
    for x in asked:
        assert Q.DONT_KNOW in x.reserved, x.id
        assert x.help["en"] and x.help["fr"] and x.evidence["en"] and x.evidence["fr"], x.id
        if x.weight:
            assert x.gap["en"] and x.gap["fr"], x.id
            risks = [o.get("risk") for o in x.options] + [b.get("risk") for b in x.bands] \
                + list((x.scale or {}).get("risk") or [])
            assert risks and all(r in Q.RISKS for r in risks), x.id
    # the areas the due-diligence reviewer asks about first, each with a critical practice
    areas = {x.area for x in asked}
    assert {"backups", "capacity", "resilience", "observability", "change", "security",
            "commercial", "drills", "oncall"} <= areas
    critical = {x.id for x in asked if x.critical}
    assert {"failure.backup_restore_tested", "oncall.rotation", "oncall.compensation",
            "backups.disaster_recovery", "security.incident_procedure"} <= critical
    assert Q.NOT_APPLICABLE in q.questions["resilience.idempotent_payments"].reserved


def test_every_answer_signal_of_the_risk_catalog_is_an_intake_question():
    from pathlib import Path

    catalog = yaml.safe_load((Path(Q.__file__).parent / "data" / "risks.yaml").read_text(
        encoding="utf-8"))
    signals = {s["answer"] for r in catalog["risks"] for s in r.get("signals", []) if "answer" in s}
    assert len(signals) > 20 and signals <= set(Q.load("intake").questions)


# --- claims beside evidence and the maturity headline ------------------------------------------

def self_scores(founder_rating, intake_values, unknown=False):
    intake_q = Q.load("intake")
    selves_q = Q.load("self_assessment")
    intake = Q.score(intake_q, Q.AnswerSet("intake.yaml", "intake", "Camille", "consultant", "en",
                                           None, {k: {"value": v} for k, v in intake_values.items()}))
    rating = "dont_know" if unknown else founder_rating
    founder = Q.score(selves_q, Q.AnswerSet("founder.yaml", "self_assessment", "Nadia", "founder",
                                            "en", None,
                                            {"self.alerted_before_customers": {"value": rating}}))
    return {"respondents": [intake, founder]}


def test_a_founders_claim_sits_beside_the_interview_and_the_metrics():
    metrics = {"customer_impact": {"customer_reported_share": 0.32}}
    pairs = Q.claims(self_scores(4, {"detection.customer_share": 30,
                                     "detection.business_alerts": "no"}), metrics)
    [claim] = pairs
    assert claim["statement"] == "self.alerted_before_customers" and claim["rating"] == 4
    assert claim["share"] == 0.75 and claim["view"] == "favourable"
    assert claim["status"] == "contradicted"
    by = {e.get("question") or e["key"]: e for e in claim["evidence"]}
    assert by["customer_impact.customer_reported_share"]["value"] == 0.32
    assert by["customer_impact.customer_reported_share"]["bad"] is True  # over 0.10
    assert by["detection.customer_share"]["risk"] == "high"
    assert "prep.how_we_know" not in by  # not answered: no evidence invented


def test_claims_that_agree_that_no_evidence_verifies_or_that_undersell():
    good = {"detection.customer_share": 3, "detection.business_alerts": "yes",
            "prep.how_we_know": ["business_alerts"]}
    metrics = {"customer_impact": {"customer_reported_share": 0.05}}
    assert Q.claims(self_scores(5, good), metrics)[0]["status"] == "consistent"
    # a pessimist facing only good evidence is a perception gap too
    assert Q.claims(self_scores(1, good), metrics)[0]["status"] == "contradicted"
    assert Q.claims(self_scores(4, {}), {})[0]["status"] == "unverified"
    unknown = Q.claims(self_scores(None, good, unknown=True), metrics)[0]
    assert unknown["view"] == "dont_know" and unknown["status"] == "unverified"


def test_pairs_name_real_intake_questions_and_metrics_with_a_bad_side():
    data = yaml.safe_load(Q.questionnaire_path("self_assessment").read_text(encoding="utf-8"))
    statement = data["sections"][0]["questions"][0]
    statement["pairs"] = {"questions": ["prep.no_such_question"], "metrics": [{"key": "mttr"}]}
    problems = Q.validate(data, "self_assessment.yaml")
    assert any("'prep.no_such_question' is not a question of the intake" in p for p in problems)
    assert any("pairs.metrics[0]: expected one number, bad_above or bad_below" in p for p in problems)


def test_maturity_headline_takes_the_lower_of_incidents_and_practices():
    from assess.maturity import headline

    record = {"level": "Proactive", "reasons": ["median MTTR 12 min"],
              "reason_codes": [{"code": "mttr_band", "values": {"minutes": 12, "level": "Proactive"}}]}
    practices = {"overall": {"score": 2.4, "level": "Reactive", "capped_by": [
        {"question": "failure.backup_restore_tested", "cap": "Reactive",
         "finding": {"en": "Backups have never been tested", "fr": "..."}}]},
        "critical_unknown": []}
    h = headline(record, practices)
    assert h["level"] == "Reactive" and h["rank"] == 1 and h["limited_by"] == "practices"
    assert h["by_incidents"] == "Proactive" and h["by_practices"] == "Reactive"
    assert any("Backups have never been tested" in r for r in h["reasons"])
    assert {c["code"] for c in h["reason_codes"]} >= {"record_level", "mttr_band", "practice_cap",
                                                       "lower_of_two"}
    # the incident record alone when nothing was answered; provisional
    alone = headline(record, {"overall": None})
    assert alone["level"] == "Proactive" and alone["basis"] == "incidents" and alone["provisional"]
    # no resolved incident: the practices decide alone
    empty = {"level": "Reactive", "reason_codes": [{"code": "no_mttr", "values": {}}]}
    p = headline(empty, {"overall": {"score": 1.6, "level": "Proactive", "capped_by": []},
                         "critical_unknown": ["backups.databases"]})
    assert p["level"] == "Proactive" and p["basis"] == "practices" and p["provisional"]
    assert any("backups.databases" in r for r in p["reasons"])


def test_the_sample_tells_one_coherent_story():
    from assess import analysis
    from assess.maturity import headline

    a = analysis.analyse(SAMPLE)
    sc = Q.score_engagement(SAMPLE)
    intake = next(r for r in sc["respondents"] if r["questionnaire"] == "intake")
    # every question answered; what the team could not say is counted, not guessed
    assert not intake["unanswered"] and not intake["invalid"]
    assert intake["dont_know"] == ["backups.secrets", "security.data_loss_last_year"]
    assert intake["critical_unknown"] == ["security.data_loss_last_year"]
    # Brightloop's story, held by its critical answers: backups never restored, one unpaid
    # person on call, customers detect incidents, postmortem actions never done
    held = {c["question"] for c in sc["overall"]["capped_by"]}
    assert {"failure.backup_restore_tested", "oncall.rotation", "oncall.compensation",
            "detection.customer_share", "postmortem.follow_through"} <= held
    pm = sc["profile"]["postmortems"]
    assert pm["level_by_score"] != "Reactive" and pm["level"] == "Reactive"  # not averaged away
    # one headline, from both sources
    h = headline(a.metrics["maturity"], sc)
    assert h["level"] == "Reactive" and h["basis"] == "both"
    # the founder's optimism meets the evidence; support does not know about backups
    pairs = {(c["role"], c["statement"]): c for c in Q.claims(sc, a.metrics)}
    assert pairs[("founder", "self.alerted_before_customers")]["status"] == "contradicted"
    assert pairs[("founder", "self.data_recoverable")]["status"] == "contradicted"
    assert pairs[("support", "self.data_recoverable")]["view"] == "dont_know"
    assert pairs[("engineer", "self.oncall_sustainable")]["status"] == "consistent"


# --- the web interview offers "don't know" and "not applicable" ----------------------------------

# the web app's fixtures: home, app and alice come from conftest, sample from tests/test_web.py
sample = web.sample


def test_web_interview_saves_dont_know_and_not_applicable_and_refuses_it_where_not_offered(alice):
    eid = alice.create()
    url = f"/e/{eid}/interview/answers.json"
    r = alice.post_json(url, {"answers": [
        {"question": "detection.customer_share", "value": "dont_know", "note": "support will count"},
        {"question": "oncall.load", "value": "dont_know"},
        {"question": "resilience.idempotent_payments", "value": "not_applicable"},
        {"question": "prep.how_we_know", "value": ["dont_know"]},
        {"question": "oncall.rotation", "value": "not_applicable"},  # na: false
    ]})
    assert r.status_code == 422
    body = r.get_json()
    assert sorted(body["saved"]) == ["detection.customer_share", "oncall.load", "prep.how_we_know",
                                     "resilience.idempotent_payments"]
    assert body["errors"] == {"oncall.rotation": "'not_applicable' is not offered for this question"}
    assert body["progress"]["answered"] == 4  # an unknown is an answer: it is counted
    section = next(i for i, (sid, _t, _q) in enumerate(Q.load("intake").sections) if sid == "detection")
    page = alice.get(f"/e/{eid}/interview/{section}").data.decode()
    assert 'name="q:detection.customer_share" value="dont_know" checked' in page
    assert "Don't know" in page or "Don&#39;t know" in page


def test_dashboard_and_practices_show_one_maturity_with_what_holds_it(alice, sample):
    from assess.maturity import headline

    expected = headline(__import__("assess.analysis", fromlist=["x"]).analyse(SAMPLE).metrics["maturity"],
                        Q.score_engagement(SAMPLE))
    overview = alice.get(f"/e/{sample}").data.decode()
    practices = alice.get(f"/e/{sample}/practices").data.decode()
    for page in (overview, practices):
        assert f"<strong>{expected['level']}</strong>" in page
        assert "Backups have never been tested" in page  # a critical answer holding it
    assert "2 unknown: ask for evidence" in practices
    assert "Claims beside the evidence" in practices and "contradicted" in practices


def test_show_intake_reads_as_a_90_minute_interview_script():
    out = CliRunner().invoke(main, ["questionnaire", "show", "intake"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    asked = sum(1 for x in Q.load("intake").questions.values() if x.type != "text")
    assert lines[1] == f"{asked} questions, about 90 min"
    assert "## Backups and recovery (9 min, 47-56)" in lines
    restore = next(i for i, line in enumerate(lines) if "[failure.backup_restore_tested]" in line)
    assert "CRITICAL" in lines[restore]
    block = "\n".join(lines[restore:restore + 9])
    assert "Never (score 0, risk high)" in block and "also: Don't know [dont_know]" in block
    assert "Ask to see: The last restore test's report." in block
    assert "Customers tell us (lowers the score by 1, risk medium)" in out.output
    fr = CliRunner().invoke(main, ["questionnaire", "show", "intake", "--lang", "fr"]).output
    assert "environ 90 min" in fr and "Je ne sais pas [dont_know]" in fr


browser, server = live.browser, live.server  # the live app's fixtures (gunicorn and chromium)


@pytest.mark.slow
def test_in_the_browser_dont_know_clears_a_number_and_a_number_clears_dont_know(browser, server,
                                                                               tmp_path):
    ctx, page, errors = live.signed_in(browser, server)
    eid = live.sample_engagement(page, server, tmp_path)
    sections = [sid for sid, _t, _q in Q.load("intake").sections]
    page.goto(f"{server['base']}/e/{eid}/interview/{sections.index('detection')}")
    fs = page.locator("fieldset[data-qid='detection.customer_share']")  # the sample answered 30
    fs.locator("input[value=dont_know]").check()
    page.locator("[data-save-state]", has_text="saved at").wait_for()
    assert fs.locator("input[type=number]").input_value() == ""
    page.wait_for_timeout(800)
    assert live.server_answer(browser, server, eid, "detection.customer_share")["value"] == "dont_know"
    fs.locator("input[type=number]").fill("12")
    page.wait_for_timeout(2000)
    assert live.server_answer(browser, server, eid, "detection.customer_share")["value"] == 12
    assert not fs.locator("input[value=dont_know]").is_checked()
    page.goto(f"{server['base']}/e/{eid}/interview/{sections.index('oncall')}")
    scale = page.locator("fieldset[data-qid='oncall.load']")
    scale.locator("input[value=dont_know]").check()
    page.wait_for_timeout(1500)
    assert live.server_answer(browser, server, eid, "oncall.load")["value"] == "dont_know"
    scale.locator("input[value='2']").check()
    page.wait_for_timeout(1500)
    assert live.server_answer(browser, server, eid, "oncall.load")["value"] == 2
    assert not [e for e in errors if "Content Security Policy" in e], errors
    ctx.close()
