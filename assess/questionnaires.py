"""Questionnaires as data: loading and validating them, reading answers, scoring them per practice
area into a maturity level, flagging gaps, comparing respondents (perception gap) and pairing the
self-assessment's claims with the evidence.

Scores run from 0 (no practice) to 3 (practice at its best). An area's score is the weighted mean
of its answered, applicable, scored questions; its level by score is Reactive under 0.75, Defined
under 1.5, Proactive under 2.25, Preventive from 2.25, then capped by its worst practice: each
answer carries a risk (high, medium, none) defined in the YAML, and a high-risk answer to a
critical question caps the area at Reactive, a medium-risk one at Defined, a high-risk answer to
any other question at Proactive (docs/questionnaires.md). "Don't know", "not applicable" and
unanswered questions are counted and listed, never scored as zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from .errors import AssessError
from .files import atomic_write
from .paths import data_dir

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when libyaml is there

TYPES = ("single", "multiple", "scale", "number", "duration", "text")
LANGS = ("en", "fr")
LEVELS = ((0.75, "Reactive"), (1.5, "Defined"), (2.25, "Proactive"), (float("inf"), "Preventive"))
LEVEL_NAMES = tuple(name for _, name in LEVELS)
GAP_BELOW = 1.0
PERCEPTION_THRESHOLD = 0.25  # a quarter of the scale: one point on a 1-5 scale
DONT_KNOW = "dont_know"  # offered by every scored question; never scored
NOT_APPLICABLE = "not_applicable"  # offered where a question has `na: true`; never scored
RESERVED = (DONT_KNOW, NOT_APPLICABLE)
RISKS = ("high", "medium", "none")
# (risk, critical question) -> the highest level the area (and, for critical ones, the
# practices overall) can reach with such an answer
CAPS = {("high", True): "Reactive", ("medium", True): "Defined", ("high", False): "Proactive"}
RESERVED_LABELS = {
    DONT_KNOW: {"en": "Don't know", "fr": "Je ne sais pas"},
    NOT_APPLICABLE: {"en": "Not applicable", "fr": "Sans objet"},
}


def risk_for(score: float) -> str:
    """The risk of an answer whose option states none: high under 1, medium under 2, else none."""
    return "high" if score < 1 else "medium" if score < 2 else "none"


def lowest(levels: list[str]) -> str | None:
    return min(levels, key=LEVEL_NAMES.index) if levels else None


class QuestionnaireError(AssessError, ValueError):
    """A questionnaire file that does not follow the format: file, question id and problem."""


def level_for(score: float) -> str:
    return next(name for limit, name in LEVELS if score < limit)


@cache
def areas() -> dict[str, dict[str, str]]:
    return yaml.load((data_dir("questionnaires") / "areas.yaml").read_text(encoding="utf-8"),
                     Loader=SafeLoader)


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


def _risk(value: Any, where: str, problems: list[str], required: bool) -> None:
    if value is None:
        if required:
            problems.append(f"{where}.risk: expected one of {', '.join(RISKS)} (an interview states "
                            "the risk of every answer)")
    elif value not in RISKS:
        problems.append(f"{where}.risk: expected one of {', '.join(RISKS)}, got {value!r}")


def _options(opts: Any, where: str, problems: list[str], need_risk: bool = False) -> list[str]:
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
        if opt["value"] in RESERVED:
            problems.append(f"{w}.value: '{opt['value']}' is reserved (offered by every question)")
        values.append(opt["value"])
        score = opt.get("score")
        if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 3:
            problems.append(f"{w}.score: expected a number from 0 to 3")
        penalty = opt.get("penalty")
        if penalty is not None and (not isinstance(penalty, int | float) or isinstance(penalty, bool)
                                    or not 0 < penalty <= 3):
            problems.append(f"{w}.penalty: expected a number above 0 and up to 3")
        _risk(opt.get("risk"), w, problems, need_risk)
        _texts(opt.get("label"), f"{w}.label", problems)
    return values


def _pairs(pairs: Any, where: str, problems: list[str], intake_ids: set[str] | None) -> None:
    """A self-assessment statement's evidence: intake questions and metric keys with a bad side."""
    if not isinstance(pairs, dict) or not (pairs.get("questions") or pairs.get("metrics")):
        problems.append(f"{where}: pairs: expected questions and/or metrics")
        return
    for qid in pairs.get("questions") or []:
        if intake_ids is not None and qid not in intake_ids:
            problems.append(f"{where}: pairs.questions: {qid!r} is not a question of the intake")
    for j, metric in enumerate(pairs.get("metrics") or []):
        w = f"{where}: pairs.metrics[{j}]"
        if not isinstance(metric, dict) or not isinstance(metric.get("key"), str):
            problems.append(f"{w}.key: expected a metric key such as "
                            "customer_impact.customer_reported_share")
            continue
        sides = [k for k in ("bad_above", "bad_below") if k in metric]
        if len(sides) != 1 or isinstance(metric[sides[0]], bool) \
                or not isinstance(metric[sides[0]], int | float):
            problems.append(f"{w}: expected one number, bad_above or bad_below")


def validate(data: Any, file: str) -> list[str]:
    """Every problem in a questionnaire, each naming the file, the question id and the problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return [f"{file}: expected a mapping with id, title and sections"]
    for key in ("id",):
        if not isinstance(data.get(key), str):
            problems.append(f"{file}: key '{key}': expected a text value")
    _texts(data.get("title"), f"{file}: key 'title'", problems)
    need_risk = data.get("kind") == "interview"  # stated, not defaulted
    intake_ids: set[str] | None = None
    if data.get("id") != "intake" and any(
            isinstance(q, dict) and "pairs" in q for sec in data.get("sections") or []
            if isinstance(sec, dict) for q in sec.get("questions") or []):
        try:
            intake_ids = set(load("intake").questions)
        except QuestionnaireError:
            problems.append(f"{file}: pairs: the intake questionnaire does not load")
    choices = data.get("choices") or {}
    choice_values = {}
    if not isinstance(choices, dict):
        problems.append(f"{file}: key 'choices': expected named lists of options")
        choices = {}
    for name, opts in choices.items():
        choice_values[name] = _options(opts, f"{file}: choices '{name}'", problems, need_risk)
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
        minutes = section.get("minutes")
        if minutes is not None and (not isinstance(minutes, int | float) or isinstance(minutes, bool)
                                    or minutes <= 0):
            problems.append(f"{file}: section '{section.get('id', i + 1)}' minutes: expected a "
                            "number above 0")
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
            for flag in ("critical", "na"):
                if not isinstance(q.get(flag, False), bool):
                    problems.append(f"{where}: {flag}: expected true or false")
            if "pairs" in q:
                _pairs(q["pairs"], where, problems, intake_ids)
            values: list[str] | None = None
            scored = qtype != "text" and isinstance(weight, int | float) and weight > 0
            if qtype in ("single", "multiple"):
                if "choices" in q:
                    if q["choices"] not in choice_values:
                        problems.append(f"{where}: choices: no list named {q['choices']!r}")
                    values = choice_values.get(q["choices"], [])
                    opts = choices.get(q["choices"]) or []
                else:
                    values = _options(q.get("options"), f"{where}: options", problems,
                                      need_risk and scored)
                    opts = q.get("options") or []
                if qtype == "single" and any(isinstance(o, dict) and "penalty" in o for o in opts):
                    problems.append(f"{where}: penalty: only a multiple-choice option lowers the "
                                    "score when ticked")
                if qtype == "multiple" and opts and all(
                        isinstance(o, dict) and "penalty" in o for o in opts):
                    problems.append(f"{where}: options: every option has a penalty; "
                                    "at least one must be a practice")
            elif qtype == "scale":
                sc = q.get("scale")
                if not isinstance(sc, dict) or not all(isinstance(sc.get(k), int) for k in ("min", "max")) \
                        or sc["min"] >= sc["max"]:
                    problems.append(f"{where}: scale: expected whole numbers min < max")
                else:
                    risks = sc.get("risk")
                    points = sc["max"] - sc["min"] + 1
                    if risks is None and need_risk and scored:
                        problems.append(f"{where}: scale.risk: expected a risk per point "
                                        f"({points} of {', '.join(RISKS)})")
                    elif risks is not None and (not isinstance(risks, list) or len(risks) != points
                                                or any(r not in RISKS for r in risks)):
                        problems.append(f"{where}: scale.risk: expected {points} of "
                                        f"{', '.join(RISKS)}, one per point")
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
                        if isinstance(band, dict):
                            _risk(band.get("risk"), f"{where}: bands[{j}]", problems,
                                  need_risk and scored)
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
                        seen[target] is not None
                        and any(v not in seen[target] and v not in RESERVED for v in when["in"])):
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
    critical: bool = False
    na: bool = False  # "not applicable" is a possible answer
    pairs: dict[str, Any] | None = None  # a self-assessment statement's evidence

    @property
    def reserved(self) -> tuple[str, ...]:
        """The answers every scored question offers besides its own: don't know, not applicable."""
        if self.type == "text":
            return ()
        return (DONT_KNOW, NOT_APPLICABLE) if self.na else (DONT_KNOW,)

    def special(self, value: Any) -> str | None:
        """DONT_KNOW or NOT_APPLICABLE when the answer is one of them (alone); else None."""
        v = value[0] if isinstance(value, list) and len(value) == 1 else value
        if isinstance(v, str) and v in RESERVED:
            if v not in self.reserved:
                raise ValueError(f"'{v}' is not offered for this question")
            return v
        if isinstance(value, list) and any(x in RESERVED for x in value):
            raise ValueError("don't know and not applicable cannot be ticked with other options")
        return None

    def applies(self, values: dict[str, Any]) -> bool:
        """Whether the question is asked given the other answers (its `when` condition); a
        condition on a multiple-choice question holds when any ticked option is listed."""
        if self.when is None:
            return True
        v = values.get(self.when["question"])
        return any(p in self.when["in"] for p in (v if isinstance(v, list) else [v]))

    def score(self, value: Any) -> float | None:
        """The 0-3 score of an answer; None for text, don't know and not applicable; ValueError
        for an answer not allowed."""
        return self.assess(value)[0]

    def risk(self, value: Any) -> str | None:
        """The answer's risk for its practice (high, medium, none); None when not scored."""
        return self.assess(value)[1]

    def assess(self, value: Any) -> tuple[float | None, str | None]:
        """(score, risk) of an answer. A multiple choice scores its best practice ticked, lowered
        by the penalty of each bad option ticked (never under 0); its risk is the worst of that
        practice's and the bad options'."""
        if self.type == "text" or self.special(value):
            return None, None
        if self.type in ("single", "multiple"):
            by_value = {o["value"]: o for o in self.options}

            def risk_of(o: dict[str, Any]) -> str:
                return o.get("risk") or risk_for(float(o["score"]))

            if self.type == "single":
                if value not in by_value:
                    raise ValueError(f"expected one of {', '.join(by_value)}")
                return float(by_value[value]["score"]), risk_of(by_value[value])
            picked = value if isinstance(value, list) else [value]
            if not picked or any(v not in by_value for v in picked):
                raise ValueError(f"expected a list of {', '.join(by_value)}")
            good = [by_value[v] for v in picked if "penalty" not in by_value[v]]
            bad = [by_value[v] for v in picked if "penalty" in by_value[v]]
            best = max(good, key=lambda o: float(o["score"])) if good else None
            s = max(0.0, (float(best["score"]) if best else 0.0)
                    - sum(float(o["penalty"]) for o in bad))
            risks = [risk_of(o) for o in bad] + ([risk_of(best)] if best else ["high"])
            return round(s, 4), min(risks, key=RISKS.index)
        s = self._number_score(value)
        if self.type == "scale":
            risks = self.scale.get("risk")
            return s, (risks[int(value) - self.scale["min"]] if risks and float(value).is_integer()
                       else risk_for(s))
        band = next(b for b in self.bands if value <= b.get("max", float("inf")))
        return s, band.get("risk") or risk_for(s)

    def _number_score(self, value: Any) -> float:
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
    minutes: dict[str, float] = field(default_factory=dict)  # the time planned per section id

    @property
    def questions(self) -> dict[str, Question]:
        return {q.id: q for _, _, qs in self.sections for q in qs}

    @property
    def total_minutes(self) -> float | None:
        return sum(self.minutes.values()) if self.minutes else None


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
                unit=q.get("unit"), when=q.get("when"), critical=bool(q.get("critical", False)),
                na=bool(q.get("na", False)), pairs=q.get("pairs"),
            ))
        sections.append((section.get("id", ""), section["title"], tuple(qs)))
    return Questionnaire(id=data["id"], kind=data.get("kind", "interview"), title=data["title"],
                         description=data.get("description") or data["title"],
                         sections=tuple(sections), file=file,
                         minutes={section.get("id", ""): float(section["minutes"])
                                  for section in data["sections"] if "minutes" in section})


def load(name: str) -> Questionnaire:
    """A questionnaire by name or path, parsed once per version of its file (read-only)."""
    path = questionnaire_path(name)
    stat = path.stat()
    return _load(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load(path: str, _mtime_ns: int, _size: int) -> Questionnaire:
    file = Path(path)
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise QuestionnaireError(f"{file.name}: not valid YAML ({exc})") from None
    return parse(data, file.name)


# --- the interview script ---------------------------------------------------------------------

SCRIPT_WORDS = {
    "en": {"questions": "questions", "about": "about", "min": "min", "critical": "CRITICAL",
           "weight": "weight", "not_scored": "not scored", "ask": "Ask to see", "only_if": "only if",
           "is_one_of": "is one of", "score": "score", "risk": "risk", "also": "also",
           "lowers": "lowers the score by"},
    "fr": {"questions": "questions", "about": "environ", "min": "min", "critical": "CRITIQUE",
           "weight": "poids", "not_scored": "non noté", "ask": "Demander à voir", "only_if": "seulement si",
           "is_one_of": "vaut", "score": "note", "risk": "risque", "also": "aussi",
           "lowers": "baisse la note de"},
}


def script(q: Questionnaire, lang: str = "en") -> list[str]:
    """The questionnaire as the interviewer reads it aloud: count and time, then each section
    with its minutes and each question numbered, with its help, options, score and risk, the
    "don't know" / "not applicable" answers it also accepts and the evidence to ask for."""
    w = SCRIPT_WORDS.get(lang, SCRIPT_WORDS["en"])
    names = areas()
    asked = [x for x in q.questions.values() if x.type != "text"]
    head = f"{len(asked)} {w['questions']}"
    if q.total_minutes:
        head += f", {w['about']} {q.total_minutes:g} {w['min']}"
    out = [q.title[lang], head, q.description[lang]]
    n, elapsed = 0, 0.0
    for sid, title, questions in q.sections:
        minutes = q.minutes.get(sid)
        timing = f" ({minutes:g} {w['min']}, {elapsed:g}-{elapsed + minutes:g})" if minutes else ""
        elapsed += minutes or 0
        out.append(f"\n## {title[lang]}{timing}")
        for x in questions:
            n += 1
            tags = [names[x.area][lang]]
            tags.append(f"{w['weight']} {x.weight:g}" if x.weight else w["not_scored"])
            if x.critical:
                tags.append(w["critical"])
            out.append(f"\n{n}. {x.text[lang]}  [{x.id}] ({', '.join(tags)})")
            if x.help[lang]:
                out.append(f"    {x.help[lang]}")
            for o in x.options:
                risk = f", {w['risk']} {o['risk']}" if o.get("risk") and x.weight else ""
                effect = (f"{w['lowers']} {o['penalty']:g}" if o.get("penalty")
                          else f"{w['score']} {o['score']:g}")
                out.append(f"    - {o['label'][lang]} ({effect}{risk})  [{o['value']}]")
            if x.scale:
                out.append(f"    {x.scale['min']} = {x.scale['low'][lang]} ... "
                           f"{x.scale['max']} = {x.scale['high'][lang]}")
            for b in x.bands:
                top = f"<= {b['max']:g}" if "max" in b else ">"
                unit = "min" if x.type == "duration" else (x.unit or "")
                risk = f", {w['risk']} {b['risk']}" if b.get("risk") else ""
                out.append(f"    - {top} {unit}: {w['score']} {b['score']:g}{risk}".replace(
                    "  ", " "))
            if x.reserved:
                out.append(f"    {w['also']}: " + ", ".join(
                    f"{RESERVED_LABELS[r][lang]} [{r}]" for r in x.reserved))
            if x.evidence.get(lang):
                out.append(f"    {w['ask']}: {x.evidence[lang]}")
            if x.when:
                out.append(f"    {w['only_if']} {x.when['question']} {w['is_one_of']} "
                           f"{', '.join(x.when['in'])}")
    return out


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
    from .files import load_yaml

    try:
        # within limits (no expanding aliases, no foreign tags), through the C parser
        data = load_yaml(path) or {}
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


def _cap(question: Question, risk: str | None) -> str | None:
    return CAPS.get((risk, question.critical)) if risk else None


def score(q: Questionnaire, answers: AnswerSet) -> dict[str, Any]:
    """Scores per area with the answers that drove them and capped them, gaps, and what could
    not be scored (don't know, not applicable, unanswered, invalid), each counted."""
    questions = q.questions
    values = {qid: a.get("value") for qid, a in answers.answers.items()}
    per_area: dict[str, dict[str, Any]] = {}
    unanswered, not_applicable, skipped, dont_know, invalid, gaps = [], [], [], [], [], []
    capped_by: list[dict[str, Any]] = []

    def area_of(question: Question) -> dict[str, Any]:
        return per_area.setdefault(question.area, {"weighted": 0.0, "weight": 0.0, "drivers": [],
                                                   "dont_know": [], "not_applicable": [],
                                                   "capped_by": []})

    for qid, question in questions.items():
        if not question.applies(values):
            not_applicable.append(qid)
            skipped.append(qid)
            continue
        value = values.get(qid)
        if value is None or value == "" or value == []:
            if question.type != "text":
                unanswered.append(qid)
            continue
        note = answers.answers[qid].get("note")
        try:
            special = question.special(value)
            s, risk = question.assess(value)
        except ValueError as exc:
            invalid.append({"question": qid, "value": value, "problem": str(exc)})
            continue
        if special == DONT_KNOW:
            dont_know.append(qid)
            if question.weight:
                area_of(question)["dont_know"].append(qid)
            continue
        if special == NOT_APPLICABLE:
            not_applicable.append(qid)
            if question.weight:
                area_of(question)["not_applicable"].append(qid)
            continue
        if s is None or question.weight == 0:
            continue
        area = area_of(question)
        area["weighted"] += s * question.weight
        area["weight"] += question.weight
        driver = {"question": qid, "value": value, "score": s, "weight": question.weight,
                  "risk": risk, "critical": question.critical, "note": note}
        area["drivers"].append(driver)
        cap = _cap(question, risk)
        if cap:
            why = {"question": qid, "area": question.area, "value": value, "risk": risk,
                   "critical": question.critical, "weight": question.weight, "cap": cap,
                   "finding": question.gap, "note": note}
            area["capped_by"].append(why)
            if question.critical:
                capped_by.append(why)
        if s < GAP_BELOW or risk == "high":
            gaps.append({"question": qid, "area": question.area, "score": s, "value": value,
                         "risk": risk, "critical": question.critical,
                         "finding": question.gap, "note": note})
    result_areas, unscored_areas = {}, {}
    order = {name: i for i, name in enumerate(LEVEL_NAMES)}
    for area_id in areas():
        a = per_area.get(area_id)
        if not a:
            continue
        unknown_critical = sorted(qid for qid in a["dont_know"] if questions[qid].critical)
        if not a["weight"]:
            unscored_areas[area_id] = {"dont_know": a["dont_know"],
                                       "not_applicable": a["not_applicable"],
                                       "critical_unknown": unknown_critical}
            continue
        value = round(a["weighted"] / a["weight"], 2)
        by_score = level_for(value)
        a["capped_by"].sort(key=lambda c: (order[c["cap"]], not c["critical"], -c["weight"],
                                           c["question"]))
        level = lowest([by_score] + [c["cap"] for c in a["capped_by"]])
        a["drivers"].sort(key=lambda d: (d["score"], -d["weight"], d["question"]))
        # the answers that hold the area at its level, whatever the other answers are
        result_areas[area_id] = {"score": value, "share": round(value / 3, 4), "level": level,
                                 "level_by_score": by_score, "capped": level != by_score,
                                 "capped_by": [c for c in a["capped_by"] if c["cap"] == level],
                                 "answered": len(a["drivers"]), "dont_know": a["dont_know"],
                                 "not_applicable": a["not_applicable"],
                                 "critical_unknown": unknown_critical, "drivers": a["drivers"]}
    total_w = sum(a["weight"] for a in per_area.values())
    overall = round(sum(a["weighted"] for a in per_area.values()) / total_w, 2) if total_w else None
    overall_level = overall_by_score = level_for(overall) if overall is not None else None
    capped_by.sort(key=lambda c: (order[c["cap"]], -c["weight"], c["question"]))
    if overall_level is not None:
        overall_level = lowest([overall_level] + [c["cap"] for c in capped_by])
    critical_unknown = sorted(qid for qid in dont_know if questions[qid].critical)
    return {
        "questionnaire": q.id, "file": answers.file, "respondent": answers.name,
        "role": answers.role, "language": answers.language, "answered_at": answers.answered_at,
        "overall": {"score": overall, "level": overall_level, "level_by_score": overall_by_score,
                    "capped": overall_level != overall_by_score,
                    "capped_by": [c for c in capped_by if c["cap"] == overall_level]},
        "areas": result_areas, "unscored_areas": unscored_areas,
        "gaps": sorted(gaps, key=lambda g: (not g["critical"], g["score"], g["question"])),
        "unanswered": unanswered, "not_applicable": not_applicable, "skipped": skipped,
        "dont_know": dont_know, "critical_unknown": critical_unknown, "invalid": invalid,
        "unknown": sorted(set(values) - set(questions)),
        "counts": {"questions": sum(1 for x in questions.values() if x.type != "text"),
                   "scored": sum(len(a["drivers"]) for a in per_area.values()),
                   "dont_know": len(dont_know), "not_applicable": len(not_applicable) - len(skipped),
                   "skipped": len(skipped), "unanswered": len(unanswered),
                   "invalid": len(invalid)},
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
        "profile": ({a: {"score": v["score"], "level": v["level"],
                         "level_by_score": v["level_by_score"], "capped": v["capped"],
                         "capped_by": v["capped_by"]}
                     for a, v in intake["areas"].items()} if intake else {}),
        "overall": intake["overall"] if intake else None,
        "gaps": intake["gaps"] if intake else [],
        "dont_know": intake["dont_know"] if intake else [],
        "critical_unknown": intake["critical_unknown"] if intake else [],
        "perception_gaps": perception_gaps(results, threshold),
        "perception_threshold": threshold,
    }


# --- claims beside evidence -------------------------------------------------------------------

FAVOURABLE_FROM = 0.6  # a share of the scale: 4 or 5 on a 1-5 scale
UNFAVOURABLE_UNDER = 0.4  # 1 or 2 on a 1-5 scale


def metric_value(metrics: dict[str, Any], key: str) -> Any:
    """A dotted key of the metrics document (customer_impact.customer_reported_share); None when
    the document does not have it."""
    node: Any = metrics
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def claims(scores: dict[str, Any], metrics: dict[str, Any] | None,
           questionnaire: str = "self_assessment") -> list[dict[str, Any]]:
    """Each self-assessment rating of a paired statement beside its evidence: the intake's
    answers (with their risk) and the metrics (bad when past the threshold the YAML sets).

    `status`: contradicted when a favourable view (4-5 of 5) meets bad evidence (a high-risk
    answer or a metric past its threshold) or an unfavourable one (1-2) meets only good evidence;
    unverified when the respondent does not know or there is no evidence; else consistent."""
    q = load(questionnaire)
    intake = next((r for r in scores.get("respondents", []) if r["questionnaire"] == "intake"), None)
    answers: dict[str, dict[str, Any]] = {}
    if intake:
        for area in intake["areas"].values():
            for d in area["drivers"]:
                answers[d["question"]] = d
    iq = load("intake").questions
    out = []
    for r in scores.get("respondents", []):
        if r["questionnaire"] != q.id:
            continue
        ratings = {d["question"]: d for a in r["areas"].values() for d in a["drivers"]}
        for qid, question in q.questions.items():
            if not question.pairs or (qid not in ratings and qid not in r["dont_know"]):
                continue
            evidence: list[dict[str, Any]] = []
            for iqid in question.pairs.get("questions") or []:
                d = answers.get(iqid)
                if d is not None:
                    evidence.append({"kind": "answer", "question": iqid, "value": d["value"],
                                     "score": d["score"], "risk": d["risk"], "bad": d["risk"] == "high",
                                     "finding": iq[iqid].gap, "text": iq[iqid].text,
                                     "note": d.get("note")})
            for m in question.pairs.get("metrics") or []:
                v = metric_value(metrics or {}, m["key"])
                if isinstance(v, int | float) and not isinstance(v, bool):
                    bad = v > m["bad_above"] if "bad_above" in m else v < m["bad_below"]
                    evidence.append({"kind": "metric", "key": m["key"], "value": v, "bad": bad,
                                     **{k: m[k] for k in ("bad_above", "bad_below") if k in m}})
            rating = ratings.get(qid)
            share = round(rating["score"] / 3, 4) if rating else None
            view = ("dont_know" if rating is None else "favourable" if share >= FAVOURABLE_FROM
                    else "unfavourable" if share < UNFAVOURABLE_UNDER else "neutral")
            bad = any(e["bad"] for e in evidence)
            good = bool(evidence) and not bad and all(
                e["kind"] == "metric" or e["risk"] == "none" for e in evidence)
            if view == "dont_know" or not evidence:
                status = "unverified"
            elif (view == "favourable" and bad) or (view == "unfavourable" and good):
                status = "contradicted"
            else:
                status = "consistent"
            out.append({"statement": qid, "area": question.area, "text": question.text,
                        "respondent": r["respondent"], "role": r["role"],
                        "rating": rating["value"] if rating else DONT_KNOW, "share": share,
                        "view": view, "evidence": evidence, "status": status})
    return out


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
