"""Questionnaires as data: loading and validating them, reading answers, scoring them per practice
area into a maturity level, flagging gaps, and comparing respondents (perception gap).

Scores run from 0 (no practice) to 3 (practice at its best). An area's score is the weighted mean
of its answered, applicable, scored questions; its level is Reactive under 0.75, Defined under 1.5,
Proactive under 2.25, Preventive from 2.25. An answer scoring under 1 is a gap. Unanswered
questions are listed and left out of the mean, never scored as zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .files import atomic_write
from .paths import data_dir

TYPES = ("single", "multiple", "scale", "number", "duration", "text")
LANGS = ("en", "fr")
LEVELS = ((0.75, "Reactive"), (1.5, "Defined"), (2.25, "Proactive"), (float("inf"), "Preventive"))
GAP_BELOW = 1.0
PERCEPTION_THRESHOLD = 0.25  # a quarter of the scale: one point on a 1-5 scale


class QuestionnaireError(ValueError):
    """A questionnaire file that does not follow the format: file, question id and problem."""


def level_for(score: float) -> str:
    return next(name for limit, name in LEVELS if score < limit)


@cache
def areas() -> dict[str, dict[str, str]]:
    return yaml.safe_load((data_dir("questionnaires") / "areas.yaml").read_text(encoding="utf-8"))


def questionnaire_path(name: str) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    path = data_dir("questionnaires") / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in data_dir("questionnaires").glob("*.yaml") if p.stem != "areas")
        raise QuestionnaireError(f"no questionnaire '{name}'; known: {', '.join(known)}")
    return path


def shipped() -> list[Path]:
    return sorted(p for p in data_dir("questionnaires").glob("*.yaml") if p.stem != "areas")


# --- validation ------------------------------------------------------------------------------


def _texts(value: Any, where: str, problems: list[str], required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) for lang in LANGS):
        problems.append(f"{where}: expected a text in each language ({', '.join(LANGS)})")


def _options(opts: Any, where: str, problems: list[str]) -> list[str]:
    if not isinstance(opts, list) or not opts:
        problems.append(f"{where}: expected a non-empty list of options")
        return []
    values = []
    for j, opt in enumerate(opts):
        w = f"{where}[{j}]"
        if not isinstance(opt, dict) or not isinstance(opt.get("value"), str):
            problems.append(f"{w}.value: expected a text value")
            continue
        if opt["value"] in values:
            problems.append(f"{w}.value: '{opt['value']}' is repeated")
        values.append(opt["value"])
        score = opt.get("score")
        if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 3:
            problems.append(f"{w}.score: expected a number from 0 to 3")
        _texts(opt.get("label"), f"{w}.label", problems)
    return values


def validate(data: Any, file: str) -> list[str]:
    """Every problem in a questionnaire, each naming the file, the question id and the problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return [f"{file}: expected a mapping with id, title and sections"]
    for key in ("id",):
        if not isinstance(data.get(key), str):
            problems.append(f"{file}: key '{key}': expected a text value")
    _texts(data.get("title"), f"{file}: key 'title'", problems)
    choices = data.get("choices") or {}
    choice_values = {}
    if not isinstance(choices, dict):
        problems.append(f"{file}: key 'choices': expected named lists of options")
        choices = {}
    for name, opts in choices.items():
        choice_values[name] = _options(opts, f"{file}: choices '{name}'", problems)
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        return problems + [f"{file}: key 'sections': expected a non-empty list of sections"]
    seen: dict[str, list[str] | None] = {}
    known_areas = areas()
    for i, section in enumerate(sections):
        if not isinstance(section, dict) or not isinstance(section.get("questions"), list):
            problems.append(f"{file}: section {i + 1}: expected 'questions', a list")
            continue
        _texts(section.get("title"), f"{file}: section '{section.get('id', i + 1)}' title", problems)
        for q in section["questions"]:
            qid = q.get("id") if isinstance(q, dict) else None
            if not isinstance(qid, str) or not qid:
                problems.append(f"{file}: section '{section.get('id', i + 1)}': a question has no id")
                continue
            where = f"{file}: question '{qid}'"
            if qid in seen:
                problems.append(f"{where}: the id is used twice")
            _texts(q.get("text"), f"{where}: text", problems)
            _texts(q.get("help"), f"{where}: help", problems, required=False)
            qtype = q.get("type")
            if qtype not in TYPES:
                problems.append(f"{where}: type: expected one of {', '.join(TYPES)}, got {qtype!r}")
            if q.get("area") not in known_areas:
                problems.append(f"{where}: area: expected one of {', '.join(known_areas)}, "
                                f"got {q.get('area')!r}")
            weight = q.get("weight", 1)
            if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
                problems.append(f"{where}: weight: expected a number of 0 or more")
            values: list[str] | None = None
            if qtype in ("single", "multiple"):
                if "choices" in q:
                    if q["choices"] not in choice_values:
                        problems.append(f"{where}: choices: no list named {q['choices']!r}")
                    values = choice_values.get(q["choices"], [])
                else:
                    values = _options(q.get("options"), f"{where}: options", problems)
            elif qtype == "scale":
                sc = q.get("scale")
                if not isinstance(sc, dict) or not all(isinstance(sc.get(k), int) for k in ("min", "max")) \
                        or sc["min"] >= sc["max"]:
                    problems.append(f"{where}: scale: expected whole numbers min < max")
            elif qtype in ("number", "duration"):
                bands = q.get("bands")
                if not isinstance(bands, list) or not bands:
                    problems.append(f"{where}: bands: expected a list of {{max, score}} bands")
                else:
                    last = float("-inf")
                    for j, band in enumerate(bands):
                        top = band.get("max", float("inf")) if isinstance(band, dict) else None
                        score = band.get("score") if isinstance(band, dict) else None
                        if not isinstance(top, int | float) or top <= last:
                            problems.append(f"{where}: bands[{j}].max: expected increasing limits")
                        elif not isinstance(score, int | float) or not 0 <= score <= 3:
                            problems.append(f"{where}: bands[{j}].score: expected a number from 0 to 3")
                        last = top if isinstance(top, int | float) else last
                    if isinstance(bands[-1], dict) and "max" in bands[-1]:
                        problems.append(f"{where}: bands: the last band needs no max (it takes the rest)")
            when = q.get("when")
            if when is not None:
                target = when.get("question") if isinstance(when, dict) else None
                if target not in seen:
                    problems.append(f"{where}: when.question: expected an earlier question's id, "
                                    f"got {target!r}")
                elif not isinstance(when.get("in"), list) or (
                        seen[target] is not None and any(v not in seen[target] for v in when["in"])):
                    problems.append(f"{where}: when.in: expected a list of {target}'s option values")
            seen[qid] = values
    return problems


@dataclass(frozen=True)
class Question:
    id: str
    section: str
    area: str
    type: str
    weight: float
    text: dict[str, str]
    help: dict[str, str]
    evidence: dict[str, str]
    gap: dict[str, str]
    options: tuple[dict[str, Any], ...] = ()
    scale: dict[str, Any] | None = None
    bands: tuple[dict[str, Any], ...] = ()
    unit: str | None = None
    when: dict[str, Any] | None = None

    def applies(self, values: dict[str, Any]) -> bool:
        """Whether the question is asked given the other answers (its `when` condition); a
        condition on a multiple-choice question holds when any ticked option is listed."""
        if self.when is None:
            return True
        v = values.get(self.when["question"])
        return any(p in self.when["in"] for p in (v if isinstance(v, list) else [v]))

    def score(self, value: Any) -> float | None:
        """The 0-3 score of an answer; None for text; ValueError for an answer not allowed."""
        if self.type == "text":
            return None
        if self.type == "single":
            for opt in self.options:
                if opt["value"] == value:
                    return float(opt["score"])
            raise ValueError(f"expected one of {', '.join(o['value'] for o in self.options)}")
        if self.type == "multiple":
            picked = value if isinstance(value, list) else [value]
            scores = {o["value"]: float(o["score"]) for o in self.options}
            unknown = [v for v in picked if v not in scores]
            if unknown or not picked:
                raise ValueError(f"expected a list of {', '.join(scores)}")
            return max(scores[v] for v in picked)  # the strongest practice present
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("expected a number")
        if self.type == "scale":
            lo, hi = self.scale["min"], self.scale["max"]
            if not lo <= value <= hi:
                raise ValueError(f"expected a number from {lo} to {hi}")
            frac = (value - lo) / (hi - lo)
            return round(3 * (1 - frac if self.scale.get("reverse") else frac), 4)
        if value < 0:
            raise ValueError("expected a number of 0 or more")
        for band in self.bands:
            if value <= band.get("max", float("inf")):
                return float(band["score"])
        raise AssertionError("the last band takes the rest")


@dataclass(frozen=True)
class Questionnaire:
    id: str
    kind: str
    title: dict[str, str]
    description: dict[str, str]
    sections: tuple[tuple[str, dict[str, str], tuple[Question, ...]], ...]
    file: str

    @property
    def questions(self) -> dict[str, Question]:
        return {q.id: q for _, _, qs in self.sections for q in qs}


def parse(data: dict[str, Any], file: str) -> Questionnaire:
    problems = validate(data, file)
    if problems:
        raise QuestionnaireError("\n".join(problems))
    choices = data.get("choices") or {}
    sections = []
    for section in data["sections"]:
        qs = []
        for q in section["questions"]:
            options = choices[q["choices"]] if "choices" in q else q.get("options") or []
            empty = {lang: "" for lang in LANGS}
            qs.append(Question(
                id=q["id"], section=section.get("id", ""), area=q["area"], type=q["type"],
                weight=float(q.get("weight", 1)), text=q["text"], help=q.get("help") or empty,
                evidence=q.get("evidence") or empty, gap=q.get("gap") or q["text"],
                options=tuple(options), scale=q.get("scale"), bands=tuple(q.get("bands") or ()),
                unit=q.get("unit"), when=q.get("when"),
            ))
        sections.append((section.get("id", ""), section["title"], tuple(qs)))
    return Questionnaire(id=data["id"], kind=data.get("kind", "interview"), title=data["title"],
                         description=data.get("description") or data["title"],
                         sections=tuple(sections), file=file)


def load(name: str) -> Questionnaire:
    path = questionnaire_path(name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise QuestionnaireError(f"{path.name}: not valid YAML ({exc})") from None
    return parse(data, path.name)


# --- answers ----------------------------------------------------------------------------------


@dataclass
class AnswerSet:
    file: str
    questionnaire: str
    name: str
    role: str
    language: str
    answered_at: str | None
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_answers(path: Path) -> AnswerSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise QuestionnaireError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise QuestionnaireError(f"{path}: key 'answers': expected question id: {{value, note}}")
    who = data.get("respondent") or {}
    answers = {}
    for qid, entry in data["answers"].items():
        answers[str(qid)] = entry if isinstance(entry, dict) else {"value": entry}
    when = data.get("answered_at")
    return AnswerSet(file=path.name, questionnaire=str(data.get("questionnaire", "")),
                     name=str(who.get("name", path.stem)), role=str(who.get("role", path.stem)),
                     language=str(data.get("language", "en")),
                     answered_at=when.isoformat() if isinstance(when, dt.date) else when,
                     answers=answers)


def engagement_answers(root: Path) -> list[AnswerSet]:
    """answers/intake.yaml, then answers/self/*.yaml in name order."""
    folder = Path(root) / "answers"
    files = ([folder / "intake.yaml"] if (folder / "intake.yaml").is_file() else [])
    files += sorted((folder / "self").glob("*.yaml")) if (folder / "self").is_dir() else []
    return [read_answers(f) for f in files]


# --- scoring ----------------------------------------------------------------------------------


def score(q: Questionnaire, answers: AnswerSet) -> dict[str, Any]:
    """Scores per area with the answers that drove them, gaps, and what could not be scored."""
    questions = q.questions
    values = {qid: a.get("value") for qid, a in answers.answers.items()}
    per_area: dict[str, dict[str, Any]] = {}
    unanswered, not_applicable, invalid, gaps = [], [], [], []
    for qid, question in questions.items():
        if not question.applies(values):
            not_applicable.append(qid)
            continue
        value = values.get(qid)
        if value is None or value == "" or value == []:
            if question.type != "text":
                unanswered.append(qid)
            continue
        try:
            s = question.score(value)
        except ValueError as exc:
            invalid.append({"question": qid, "value": value, "problem": str(exc)})
            continue
        if s is None or question.weight == 0:
            continue
        area = per_area.setdefault(question.area, {"weighted": 0.0, "weight": 0.0, "drivers": []})
        area["weighted"] += s * question.weight
        area["weight"] += question.weight
        driver = {"question": qid, "value": value, "score": s, "weight": question.weight,
                  "note": answers.answers[qid].get("note")}
        area["drivers"].append(driver)
        if s < GAP_BELOW:
            gaps.append({"question": qid, "area": question.area, "score": s, "value": value,
                         "finding": question.gap, "note": answers.answers[qid].get("note")})
    result_areas = {}
    for area_id in areas():
        a = per_area.get(area_id)
        if not a or not a["weight"]:
            continue
        value = round(a["weighted"] / a["weight"], 2)
        a["drivers"].sort(key=lambda d: (d["score"], -d["weight"], d["question"]))
        result_areas[area_id] = {"score": value, "share": round(value / 3, 4),
                                 "level": level_for(value), "answered": len(a["drivers"]),
                                 "drivers": a["drivers"]}
    total_w = sum(a["weight"] for a in per_area.values())
    overall = round(sum(a["weighted"] for a in per_area.values()) / total_w, 2) if total_w else None
    return {
        "questionnaire": q.id, "file": answers.file, "respondent": answers.name,
        "role": answers.role, "language": answers.language, "answered_at": answers.answered_at,
        "overall": {"score": overall, "level": level_for(overall) if overall is not None else None},
        "areas": result_areas, "gaps": sorted(gaps, key=lambda g: (g["score"], g["question"])),
        "unanswered": unanswered, "not_applicable": not_applicable, "invalid": invalid,
        "unknown": sorted(set(values) - set(questions)),
    }


def perception_gaps(results: list[dict[str, Any]],
                    threshold: float = PERCEPTION_THRESHOLD) -> list[dict[str, Any]]:
    """Areas where respondents' scores (as shares of the scale) differ by more than `threshold`."""
    out = []
    for area_id in areas():
        views = [(r["respondent"], r["role"], r["areas"][area_id]["share"])
                 for r in results if area_id in r["areas"]]
        if len(views) < 2:
            continue
        high = max(views, key=lambda v: v[2])
        low = min(views, key=lambda v: v[2])
        spread = round(high[2] - low[2], 4)
        if spread > threshold:
            out.append({"area": area_id, "spread": spread,
                        "highest": {"respondent": high[0], "role": high[1], "share": high[2]},
                        "lowest": {"respondent": low[0], "role": low[1], "share": low[2]},
                        "views": [{"respondent": n, "role": r, "share": s} for n, r, s in views]})
    return sorted(out, key=lambda g: (-g["spread"], g["area"]))


def score_engagement(root: Path, threshold: float = PERCEPTION_THRESHOLD) -> dict[str, Any]:
    """Every answer file of an engagement scored, the consultant's profile, gaps and perception gaps."""
    results = []
    cache_q: dict[str, Questionnaire] = {}
    for answers in engagement_answers(root):
        name = answers.questionnaire or ("intake" if answers.file == "intake.yaml" else
                                         "self_assessment")
        if name not in cache_q:
            cache_q[name] = load(name)
        results.append(score(cache_q[name], answers))
    intake = next((r for r in results if r["questionnaire"] == "intake"), None)
    return {
        "respondents": results,
        "profile": ({a: {"score": v["score"], "level": v["level"]} for a, v in intake["areas"].items()}
                    if intake else {}),
        "overall": intake["overall"] if intake else None,
        "gaps": intake["gaps"] if intake else [],
        "perception_gaps": perception_gaps(results, threshold),
        "perception_threshold": threshold,
    }


def write_answers(path: Path, answers: AnswerSet, header: str | None = None) -> None:
    """Write an answer file (the format `read_answers` reads), atomically."""
    doc: dict[str, Any] = {"questionnaire": answers.questionnaire,
                           "respondent": {"name": answers.name, "role": answers.role},
                           "language": answers.language}
    if answers.answered_at:
        doc["answered_at"] = answers.answered_at
    doc["answers"] = {qid: {k: v for k, v in entry.items() if v not in (None, "")}
                      for qid, entry in answers.answers.items()}
    text = f"# {header}\n" if header else ""
    text += yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return  # unchanged: keep the file (and its modification time) as it is
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)
