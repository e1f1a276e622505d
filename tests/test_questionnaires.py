"""Questionnaires: the shipped files validate in both languages, broken files fail precisely,
scoring matches a hand computation, conditions apply, and perception gaps are found."""

from __future__ import annotations

import copy

import pytest
import yaml
from click.testing import CliRunner

from assess import questionnaires as Q
from assess.cli import main

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
