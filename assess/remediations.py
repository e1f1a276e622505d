"""The remediation library (assess/data/remediations.yaml): the actions a plan is made of, validated
into frozen dataclasses, and loaded together with the risk catalog that names them.

Each action has a horizon (0-7, 7-30 or 30-90 days) and a week of the 30-day reset, an effort
(S, M, L, or an explicit number of person-days), an owner role, a check (`verify.text`: a leading
indicator the action itself moves, optionally with a metric to watch), the patterns that recognise
it among postmortem action items (`matches`), and two flags: `always` (the reset plan of the source
articles) and `diagnostic` (the consultant's own work, the engagement's output rather than the
client's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import questionnaires, risks
from .paths import catalog_file

EFFORTS = {"S": {"en": "under a day", "fr": "moins d'une journée", "days": 0.5},
           "M": {"en": "2-5 days", "fr": "2 à 5 jours", "days": 3.5},
           "L": {"en": "1-3 weeks", "fr": "1 à 3 semaines", "days": 10.0}}
WEEKS_OF_HORIZON = {"0-7": (1,), "7-30": (2, 3, 4), "30-90": ()}
# the questionnaire whose gaps feed the risks (questionnaires.score_engagement: the intake's gaps)
RISK_QUESTIONNAIRE = "intake"


@dataclass(frozen=True)
class Action:
    id: str
    title: dict[str, str]
    why: dict[str, str]
    horizon: str
    week: int | None
    effort: str
    owner: str  # a role id
    verify: dict[str, Any]
    always: bool = False
    diagnostic: bool = False
    days: float | None = None  # person-days, when the effort class is not precise enough
    matches: tuple[str, ...] = ()  # regexes recognising the action among postmortem items

    @property
    def effort_days(self) -> float:
        return self.days if self.days is not None else EFFORTS[self.effort]["days"]


@dataclass(frozen=True)
class Library:
    actions: dict[str, Action]
    roles: dict[str, dict[str, str]]
    weeks: dict[int, dict[str, str]]
    horizons: dict[str, dict[str, Any]]
    file: str


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def validate_library(data: Any, file: str, metric_paths: set[str]) -> list[str]:
    """Every problem with a remediation library, naming the file, the action and the key."""
    if not isinstance(data, dict) or not isinstance(data.get("actions"), list):
        return [f"{file}: expected a mapping with an 'actions' list"]
    problems: list[str] = []
    roles = data.get("roles") if isinstance(data.get("roles"), dict) else {}
    if not roles:
        problems.append(f"{file}: roles: expected a mapping of role id to its name in each language")
    for rid, names in roles.items():
        risks._texts(names, f"{file}: roles.{rid}", problems)
    weeks = data.get("weeks") if isinstance(data.get("weeks"), dict) else {}
    if sorted(weeks) != [1, 2, 3, 4]:
        problems.append(f"{file}: weeks: expected the titles of weeks 1, 2, 3 and 4")
    for w, names in weeks.items():
        risks._texts(names, f"{file}: weeks.{w}", problems)
    horizons = data.get("horizons") if isinstance(data.get("horizons"), dict) else {}
    if sorted(horizons) != sorted(WEEKS_OF_HORIZON):
        problems.append(f"{file}: horizons: expected {', '.join(WEEKS_OF_HORIZON)}")
    seen: set[str] = set()
    for i, a in enumerate(data["actions"]):
        if not isinstance(a, dict):
            problems.append(f"{file}: actions[{i}]: expected a mapping")
            continue
        aid = a.get("id")
        where = f"{file}: action {aid!r}" if aid else f"{file}: actions[{i}]"
        if not isinstance(aid, str) or not aid:
            problems.append(f"{where}: id: expected a text")
        elif aid in seen:
            problems.append(f"{where}: id: duplicate id")
        seen.add(str(aid))
        risks._texts(a.get("title"), f"{where}: title", problems)
        risks._texts(a.get("why"), f"{where}: why", problems)
        horizon = a.get("horizon")
        if horizon not in WEEKS_OF_HORIZON:
            problems.append(f"{where}: horizon: expected one of {', '.join(WEEKS_OF_HORIZON)}, "
                            f"got {horizon!r}")
        else:
            allowed = WEEKS_OF_HORIZON[horizon]
            week = a.get("week")
            if allowed and week not in allowed:
                problems.append(f"{where}: week: a {horizon}-day action needs a week in "
                                f"{', '.join(map(str, allowed))}, got {week!r}")
            if not allowed and week is not None:
                problems.append(f"{where}: week: a 30-90-day action is beyond the 30-day plan "
                                "(remove week)")
        if a.get("effort") not in EFFORTS:
            problems.append(f"{where}: effort: expected S, M or L, got {a.get('effort')!r}")
        if "days" in a and not _positive(a["days"]):
            problems.append(f"{where}: days: expected a number of person-days above 0, got {a['days']!r}")
        if a.get("owner") not in roles:
            problems.append(f"{where}: owner: expected a role ({', '.join(roles)}), got {a.get('owner')!r}")
        for key in ("always", "diagnostic"):
            if key in a and not isinstance(a[key], bool):
                problems.append(f"{where}: {key}: expected true or false")
        problems += matches_problems(a.get("matches"), where)
        problems += verify_problems(a.get("verify"), where, metric_paths)
    return problems


def matches_problems(matches: Any, where: str) -> list[str]:
    """Problems with a list of regexes recognising an action among postmortem items."""
    if matches is None:
        return []
    if not isinstance(matches, list) or not all(isinstance(m, str) and m for m in matches):
        return [f"{where}: matches: expected a list of patterns (regular expressions)"]
    problems = []
    for pattern in matches:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"{where}: matches: {pattern!r} is not a valid regex ({exc})")
    return problems


def verify_problems(verify: Any, where: str, metric_paths: set[str], need_text: bool = True) -> list[str]:
    """The check of an action: a text naming the leading indicator the action moves (required in
    the library), and optionally a metric to watch with its target (below or above)."""
    if not isinstance(verify, dict) or not ("metric" in verify or "text" in verify):
        return [f"{where}: verify: expected a text (the leading indicator the action moves) and "
                "optionally a metric to watch (with below or above)"]
    problems = []
    if need_text and "text" not in verify:
        problems.append(f"{where}: verify.text: expected the leading indicator the action itself "
                        "moves (a metric alone is a lagging rate)")
    if "metric" in verify and verify["metric"] not in metric_paths:
        problems.append(f"{where}: verify.metric: {verify['metric']!r} is neither in the metric "
                        "catalog (assess/data/metrics.yaml) nor declared under 'metrics' in risks.yaml")
    if "metric" in verify and "text" not in verify and not any(k in verify for k in ("below", "above")):
        problems.append(f"{where}: verify: a metric needs a target (below or above) or a text")
    if "text" in verify and not isinstance(verify["text"], str):
        risks._texts(verify["text"], f"{where}: verify.text", problems)
    return problems


def parse_library(data: dict[str, Any], file: str, metric_paths: set[str]) -> Library:
    """A validated library, or CatalogError listing every problem."""
    problems = validate_library(data, file, metric_paths)
    if problems:
        raise risks.CatalogError("\n".join(problems))
    actions = {a["id"]: Action(id=a["id"], title=a["title"], why=a["why"], horizon=a["horizon"],
                               week=a.get("week"), effort=a["effort"], owner=a["owner"],
                               verify=a["verify"], always=bool(a.get("always")),
                               diagnostic=bool(a.get("diagnostic")),
                               days=float(a["days"]) if "days" in a else None,
                               matches=tuple(a.get("matches") or ()))
               for a in data["actions"]}
    return Library(actions=actions, roles=data["roles"], weeks={int(k): v for k, v in data["weeks"].items()},
                   horizons=data["horizons"], file=file)


def risk_question_ids() -> set[str]:
    """The questions whose answers can fire a risk's `answer:` signal: the intake's, whose gaps
    the ranking reads (a self-assessment question never reaches it)."""
    return set(questionnaires.load(RISK_QUESTIONNAIRE).questions)


def load_catalogs(root: Path | None = None) -> tuple[risks.Catalog, Library]:
    """The risk catalog and the remediation library of an engagement (its own copies when it has
    them, else the shipped files), checked against each other and against the intake."""
    rpath = catalog_file("risks.yaml", root)
    lpath = catalog_file("remediations.yaml", root)
    rdata = risks.read_yaml(rpath)
    own = (rdata.get("metrics") or {}) if isinstance(rdata, dict) else {}
    metric_paths = set(risks.metric_catalog()) | set(own if isinstance(own, dict) else ())
    library = parse_library(risks.read_yaml(lpath), lpath.name, metric_paths)
    return risks.parse(rdata, rpath.name, set(library.actions), risk_question_ids()), library
