"""The 30-day reliability reset plan and the 0-7 / 7-30 / 30-90-day roadmap, from the ranked risks.

Pure functions of the ranking, the remediation library (YAML), the engagement's start date and
the consultant's overrides (`overrides.yaml` in the engagement folder, never written by a run, so
every decision survives re-running the analysis). Rules, documented in docs/risks.md:
- The plan holds the top risks' actions (in rank order), the reset-plan actions of the source
  articles (`always`), pinned actions, and for each further risk with evidence its first action,
  deferred to the 30-90-day horizon. Dropped actions are left out; consultant actions are added.
- Due dates count from the start date as day 1: week N ends on day 7N, a horizon of D days ends on
  day D; a due date on a Saturday or Sunday moves back to the Friday before. An explicit `due` wins.
- Owner: a named person set on the action, else the person named for its role, else the role.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import risks
from .files import atomic_write, folder_lock
from .formatting import fmt_value

EFFORTS = {"S": {"en": "under a day", "fr": "moins d'une journée"},
           "M": {"en": "2-5 days", "fr": "2 à 5 jours"},
           "L": {"en": "1-3 weeks", "fr": "1 à 3 semaines"}}
WEEKS_OF_HORIZON = {"0-7": (1,), "7-30": (2, 3, 4), "30-90": ()}
OVERRIDES = "overrides.yaml"


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


@dataclass(frozen=True)
class Library:
    actions: dict[str, Action]
    roles: dict[str, dict[str, str]]
    weeks: dict[int, dict[str, str]]
    horizons: dict[str, dict[str, Any]]
    file: str


# --- the remediation library -----------------------------------------------------------------


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
        if a.get("owner") not in roles:
            problems.append(f"{where}: owner: expected a role ({', '.join(roles)}), got {a.get('owner')!r}")
        problems += _verify_problems(a.get("verify"), where, metric_paths)
    return problems


def _verify_problems(verify: Any, where: str, metric_paths: set[str]) -> list[str]:
    if not isinstance(verify, dict) or not ("metric" in verify or "text" in verify):
        return [f"{where}: verify: expected a metric (with below or above) or a text"]
    problems = []
    if "metric" in verify and verify["metric"] not in metric_paths:
        problems.append(f"{where}: verify.metric: {verify['metric']!r} is neither in the metric "
                        "catalog (assess/data/metrics.yaml) nor declared under 'metrics' in risks.yaml")
    if "metric" in verify and "text" not in verify and not any(k in verify for k in ("below", "above")):
        problems.append(f"{where}: verify: a metric needs a target (below or above) or a text")
    if "text" in verify and not isinstance(verify["text"], str):
        risks._texts(verify["text"], f"{where}: verify.text", problems)
    return problems


def parse_library(data: dict[str, Any], file: str, metric_paths: set[str]) -> Library:
    problems = validate_library(data, file, metric_paths)
    if problems:
        raise risks.CatalogError("\n".join(problems))
    actions = {a["id"]: Action(id=a["id"], title=a["title"], why=a["why"], horizon=a["horizon"],
                               week=a.get("week"), effort=a["effort"], owner=a["owner"],
                               verify=a["verify"], always=bool(a.get("always")))
               for a in data["actions"]}
    return Library(actions=actions, roles=data["roles"], weeks={int(k): v for k, v in data["weeks"].items()},
                   horizons=data["horizons"], file=file)


def load_catalogs(root: Path | None = None) -> tuple[risks.Catalog, Library]:
    """The risk catalog and the remediation library of an engagement, checked against each other."""
    rpath = risks.catalog_path(root, "risks.yaml")
    lpath = risks.catalog_path(root, "remediations.yaml")
    rdata = risks.read_yaml(rpath)
    own = (rdata.get("metrics") or {}) if isinstance(rdata, dict) else {}
    metric_paths = set(risks.metric_catalog()) | set(own if isinstance(own, dict) else ())
    library = parse_library(risks.read_yaml(lpath), lpath.name, metric_paths)
    return risks.parse(rdata, rpath.name, set(library.actions)), library


# --- overrides ---------------------------------------------------------------------------------


@dataclass
class Overrides:
    owners: dict[str, str] = field(default_factory=dict)
    risk_order: list[str] = field(default_factory=list)
    risk_drop: list[str] = field(default_factory=list)
    risk_edit: dict[str, dict[str, str]] = field(default_factory=dict)
    action_drop: list[str] = field(default_factory=list)
    action_pin: list[str] = field(default_factory=list)
    action_edit: dict[str, dict[str, Any]] = field(default_factory=dict)
    action_add: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(vars(self).values())


ACTION_EDIT_KEYS = ("title", "why", "owner", "due", "week", "horizon", "effort", "note", "verify")


def _text(value: Any, lang: str) -> str:
    """A consultant's text: a plain string, or one per language."""
    if isinstance(value, dict):
        return value.get(lang) or value.get("en") or ""
    return str(value)


def _date(value: Any, where: str, problems: list[str]) -> None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return
    if isinstance(value, str):
        try:
            dt.date.fromisoformat(value)
            return
        except ValueError:
            pass
    problems.append(f"{where}: expected a date as YYYY-MM-DD, got {value!r}")


def validate_overrides(data: Any, file: str, catalog: risks.Catalog, library: Library) -> list[str]:
    """Every problem with an overrides file: unknown ids, wrong types, impossible weeks."""
    if data is None:
        return []
    if not isinstance(data, dict):
        return [f"{file}: expected a mapping with owners, risks and actions"]
    problems: list[str] = []
    unknown = set(data) - {"owners", "risks", "actions"}
    if unknown:
        problems.append(f"{file}: unknown section(s) {', '.join(sorted(unknown))} "
                        "(expected owners, risks, actions)")
    risk_ids = {r.id for r in catalog.risks}
    owners = data.get("owners") or {}
    if not isinstance(owners, dict):
        problems.append(f"{file}: owners: expected a mapping of role to person")
    else:
        for role, name in owners.items():
            if role not in library.roles:
                problems.append(f"{file}: owners.{role}: unknown role (expected one of "
                                f"{', '.join(library.roles)})")
            elif not isinstance(name, str) or not name.strip():
                problems.append(f"{file}: owners.{role}: expected a person's name")
    rsec = data.get("risks") or {}
    if not isinstance(rsec, dict):
        problems.append(f"{file}: risks: expected a mapping with order, drop, edit")
        rsec = {}
    for key in ("order", "drop"):
        problems += _id_list(rsec.get(key), f"{file}: risks.{key}", risk_ids, "risk")
    for rid, edit in (rsec.get("edit") or {}).items():
        if rid not in risk_ids:
            problems.append(f"{file}: risks.edit.{rid}: unknown risk")
        elif not isinstance(edit, dict) or set(edit) - {"title", "finding"}:
            problems.append(f"{file}: risks.edit.{rid}: expected title and/or finding")
    asec = data.get("actions") or {}
    if not isinstance(asec, dict):
        problems.append(f"{file}: actions: expected a mapping with drop, pin, edit, add")
        asec = {}
    added = [a.get("id") for a in (asec.get("add") or []) if isinstance(a, dict)]
    known = set(library.actions) | {a for a in added if a}
    for key in ("drop", "pin"):
        problems += _id_list(asec.get(key), f"{file}: actions.{key}", known, "action")
    for aid, edit in (asec.get("edit") or {}).items():
        where = f"{file}: actions.edit.{aid}"
        if aid not in known:
            problems.append(f"{where}: unknown action")
            continue
        if not isinstance(edit, dict):
            problems.append(f"{where}: expected a mapping of {', '.join(ACTION_EDIT_KEYS)}")
            continue
        problems += _action_fields(edit, where, library, catalog)
    for i, add in enumerate(asec.get("add") or []):
        where = f"{file}: actions.add[{i}]"
        if not isinstance(add, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        if not isinstance(add.get("id"), str) or not add["id"]:
            problems.append(f"{where}: id: expected a text")
        elif add["id"] in library.actions or added.count(add["id"]) > 1:
            problems.append(f"{where}: id: {add['id']!r} is already used")
        for key in ("title", "horizon", "owner"):
            if key not in add:
                problems.append(f"{where}: {key}: required for a new action")
        problems += _action_fields({k: v for k, v in add.items() if k not in ("id", "risk")},
                                   where, library, catalog)
        if "risk" in add and add["risk"] not in risk_ids:
            problems.append(f"{where}: risk: unknown risk {add['risk']!r}")
    return problems


def _id_list(ids: Any, where: str, known: set[str], kind: str) -> list[str]:
    """A list of known ids, or the problems with it."""
    if not isinstance(ids or [], list):
        return [f"{where}: expected a list of {kind} ids"]
    return [f"{where}: unknown {kind} {i!r}" for i in ids or [] if i not in known]


def _action_fields(edit: dict[str, Any], where: str, library: Library,
                   catalog: risks.Catalog) -> list[str]:
    problems = []
    for key, value in edit.items():
        if key not in ACTION_EDIT_KEYS:
            problems.append(f"{where}: {key}: unknown key (expected {', '.join(ACTION_EDIT_KEYS)})")
        elif key == "due":
            _date(value, f"{where}.due", problems)
        elif key == "horizon" and value not in WEEKS_OF_HORIZON:
            problems.append(f"{where}.horizon: expected one of {', '.join(WEEKS_OF_HORIZON)}")
        elif key == "week" and value is not None and value not in (1, 2, 3, 4):
            problems.append(f"{where}.week: expected 1, 2, 3 or 4")
        elif key == "effort" and value not in EFFORTS:
            problems.append(f"{where}.effort: expected S, M or L")
        elif key == "verify":
            problems += _verify_problems(value, where, set(catalog.metrics))
        elif key in ("title", "why", "owner", "note") and not (
                isinstance(value, str) and value.strip() or isinstance(value, dict)):
            problems.append(f"{where}.{key}: expected a text")
    horizon, week = edit.get("horizon"), edit.get("week")
    if horizon in WEEKS_OF_HORIZON and week is not None and week not in WEEKS_OF_HORIZON[horizon]:
        problems.append(f"{where}: week {week} does not fall in the {horizon}-day horizon")
    return problems


def load_overrides(root: Path, catalog: risks.Catalog, library: Library) -> Overrides:
    """The consultant's overrides of an engagement folder (empty when there is no file)."""
    path = Path(root) / OVERRIDES
    if not path.is_file():
        return Overrides()
    data = risks.read_yaml(path)
    problems = validate_overrides(data, path.name, catalog, library)
    if problems:
        raise risks.CatalogError("\n".join(problems))
    data = data or {}
    rsec, asec = data.get("risks") or {}, data.get("actions") or {}
    return Overrides(owners=dict(data.get("owners") or {}), risk_order=list(rsec.get("order") or []),
                     risk_drop=list(rsec.get("drop") or []), risk_edit=dict(rsec.get("edit") or {}),
                     action_drop=list(asec.get("drop") or []), action_pin=list(asec.get("pin") or []),
                     action_edit=dict(asec.get("edit") or {}), action_add=list(asec.get("add") or []))


def apply_risk_overrides(ranking: list[dict[str, Any]], o: Overrides, lang: str) -> list[dict[str, Any]]:
    """Consultant's order first (in the order given), dropped risks last; edits replace the text."""
    by_id = {r["id"]: r for r in ranking}
    for rid, edit in o.risk_edit.items():
        for key in ("title", "finding"):
            if key in edit:
                by_id[rid][key] = _text(edit[key], lang)
                by_id[rid]["edited"] = True
    pinned = [by_id[rid] for rid in o.risk_order if rid not in o.risk_drop]
    for r in pinned:
        r["pinned"] = True
    rest = [r for r in ranking if r["id"] not in o.risk_order and r["id"] not in o.risk_drop]
    dropped = [by_id[rid] for rid in o.risk_drop]
    for r in dropped:
        r["dropped"] = True
    # pinned risks without evidence still stay out of the top three (risks.number)
    return risks.number(pinned + [r for r in rest if r["has_evidence"]] + dropped
                        + [r for r in rest if not r["has_evidence"]])


# --- due dates ---------------------------------------------------------------------------------


def working_day(day: dt.date) -> dt.date:
    """A Saturday or Sunday moves back to the Friday before."""
    return day - dt.timedelta(days=max(0, day.weekday() - 4))


def due_date(start: dt.date, horizon: str, week: int | None, horizons: dict[str, dict[str, Any]]) -> dt.date:
    """End of the action's week (day 7N) or of its horizon (day D), start being day 1."""
    last_day = 7 * week if week else int(horizons[horizon]["days"])
    return working_day(start + dt.timedelta(days=last_day - 1))


# --- the plan ---------------------------------------------------------------------------------


def _verify(verify: dict[str, Any], catalog: risks.Catalog, metrics_doc: dict[str, Any],
            lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {"metric": verify.get("metric")}
    if "metric" in verify:
        d = catalog.metrics[verify["metric"]]
        value = risks.metric_value(metrics_doc, verify["metric"])
        out.update(label=d[lang], current=value, current_display=fmt_value(value, d["unit"], lang))
        for op in ("below", "above"):
            if op in verify:
                out.update(op=op, target=verify[op], target_display=fmt_value(verify[op], d["unit"], lang))
    text = verify.get("text")
    if text is not None:
        out["text"] = _text(text, lang)
    else:
        sign = "<" if out.get("op") == "below" else ">"
        now = "now" if lang == "en" else "actuellement"
        out["text"] = f"{out['label']} {sign} {out['target_display']} ({now} {out['current_display']})"
    return out


def build(ranking: list[dict[str, Any]], catalog: risks.Catalog, library: Library, start: dt.date,
          metrics_doc: dict[str, Any], overrides: Overrides | None = None,
          lang: str = "en") -> dict[str, Any]:
    """The reset plan by week and the roadmap by horizon, every action with an owner and a date."""
    o = overrides or Overrides()
    chosen: dict[str, dict[str, Any]] = {}  # action id -> how it entered the plan

    def take(aid: str, reason: str, risk: dict[str, Any] | None, deferred: bool = False) -> None:
        entry = chosen.setdefault(aid, {"reason": reason, "risks": [], "deferred": deferred})
        if risk is not None and risk["id"] not in entry["risks"]:
            entry["risks"].append(risk["id"])

    top = [r for r in ranking if r["top"]]
    for r in top:
        for aid in r["actions"]:
            take(aid, "top-risk", r)
    for aid, a in library.actions.items():
        if a.always:
            take(aid, "reset-plan", None)
    for aid in o.action_pin:
        if aid in library.actions:
            take(aid, "pinned", None)
    for r in ranking:
        if r["top"] or not r["has_evidence"] or r.get("dropped"):
            continue
        # a further risk with evidence: its actions count it, and its first new action is deferred
        fresh = [aid for aid in r["actions"] if aid not in chosen]
        for aid in r["actions"]:
            if aid in chosen:
                take(aid, chosen[aid]["reason"], r)
        if fresh:
            take(fresh[0], "further-risk", r, deferred=True)
    titles = {r["id"]: r["title"] for r in ranking}
    ranks = {r["id"]: r["rank"] for r in ranking}

    actions: list[dict[str, Any]] = []
    for aid, entry in chosen.items():
        if aid in o.action_drop:
            continue
        a = library.actions[aid]
        horizon, week = (("30-90", None) if entry["deferred"] and a.horizon != "30-90"
                         else (a.horizon, a.week))
        actions.append({"id": aid, "title": a.title[lang], "why": a.why[lang], "horizon": horizon,
                        "week": week, "effort": a.effort, "owner_role": a.owner, "verify": a.verify,
                        "risks": entry["risks"], "reason": entry["reason"], "source": "library"})
    for add in o.action_add:
        if add["id"] in o.action_drop:
            continue
        role = add["owner"] if add["owner"] in library.roles else None
        actions.append({"id": add["id"], "title": _text(add["title"], lang),
                        "why": _text(add.get("why", ""), lang), "horizon": add["horizon"],
                        "week": add.get("week"), "effort": add.get("effort", "M"), "owner_role": role,
                        "owner": None if role else add["owner"], "due": add.get("due"),
                        "verify": add.get("verify") or {"text": {"en": "Agreed with the consultant",
                                                                 "fr": "Validé avec le consultant"}},
                        "risks": [add["risk"]] if add.get("risk") else [], "reason": "consultant",
                        "source": "consultant", "note": add.get("note")})
    for action in actions:
        edit = o.action_edit.get(action["id"], {})
        for key in ("title", "why", "note"):
            if key in edit:
                action[key] = _text(edit[key], lang)
        for key in ("horizon", "week", "effort", "verify", "due"):
            if key in edit:
                action[key] = edit[key]
        if "week" in edit and "horizon" not in edit:
            action["horizon"] = {1: "0-7", None: "30-90"}.get(edit["week"], "7-30")
        if "horizon" in edit and "week" not in edit:
            action["week"] = (action["week"] if action["week"] in WEEKS_OF_HORIZON[edit["horizon"]]
                              else (WEEKS_OF_HORIZON[edit["horizon"]] or (None,))[0])
        if "owner" in edit:
            if edit["owner"] in library.roles:
                action["owner_role"], action["owner"] = edit["owner"], None
            else:
                action["owner"] = edit["owner"]
        action["edited"] = bool(edit)
        action["pinned"] = action["id"] in o.action_pin
        role = action.get("owner_role")
        action["owner"] = action.get("owner") or (o.owners.get(role) if role else None)
        action["owner_label"] = library.roles[role][lang] if role else None
        action["owner_display"] = action["owner"] or action["owner_label"]
        due = action.get("due")
        action["due"] = (dt.date.fromisoformat(due) if isinstance(due, str) else due) or due_date(
            start, action["horizon"], action["week"], library.horizons)
        action["due"] = action["due"].isoformat()
        action["effort_label"] = EFFORTS[action["effort"]][lang]
        action["horizon_label"] = library.horizons[action["horizon"]][lang]
        action["verify"] = _verify(action["verify"], catalog, metrics_doc, lang)
        action["risk_titles"] = [titles[r] for r in action["risks"] if r in titles]
        action.setdefault("note", None)

    position = {aid: i for i, aid in enumerate(library.actions)}

    def order(a: dict[str, Any]) -> tuple:
        first_rank = min((ranks.get(r, 99) for r in a["risks"]), default=99)
        return (a["due"], not a["pinned"], first_rank, position.get(a["id"], len(position)))

    actions.sort(key=order)
    weeks = []
    for w in (1, 2, 3, 4):
        ends = working_day(start + dt.timedelta(days=7 * w - 1))
        weeks.append({"week": w, "title": library.weeks[w][lang], "ends": ends.isoformat(),
                      "actions": [a for a in actions if a["week"] == w and a["horizon"] != "30-90"]})
    roadmap = [{"horizon": h, "title": library.horizons[h][lang],
                "due": due_date(start, h, None, library.horizons).isoformat(),
                "actions": [a for a in actions if a["horizon"] == h]}
               for h in WEEKS_OF_HORIZON]
    warnings = [f"risk {r['id']!r} is pinned but has no evidence, so it is not in the top three"
                for r in ranking if r.get("pinned") and not r["has_evidence"]]
    return {"start_date": start.isoformat(), "language": lang,
            "top_risks": [r["id"] for r in top], "reset_plan": weeks, "roadmap": roadmap,
            "actions": actions, "overridden": not o.empty, "warnings": warnings}


# --- editing the overrides (the web app's plan editor) -------------------------------------------


def read_overrides_data(root: Path) -> dict[str, Any]:
    path = Path(root) / OVERRIDES
    data = risks.read_yaml(path) if path.is_file() else None
    return data if isinstance(data, dict) else {}


def save_overrides(root: Path, data: dict[str, Any], catalog: risks.Catalog, library: Library) -> None:
    """Validate then write overrides.yaml atomically; nothing is written when it would not load."""
    problems = validate_overrides(data, OVERRIDES, catalog, library)
    if problems:
        raise risks.CatalogError("\n".join(problems))
    text = ("# The consultant's decisions on the risks and the plan (format: docs/risks.md).\n"
            "# Written by the assess web app's plan editor; hand edits are kept.\n")
    text += yaml.safe_dump(_prune(data), sort_keys=False, allow_unicode=True, default_flow_style=False)
    atomic_write(Path(root) / OVERRIDES, text)


def _prune(node: Any) -> Any:
    """Drop empty lists and mappings so the file stays readable."""
    if isinstance(node, dict):
        out = {k: _prune(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v not in ({}, [], None)}
    return node


def _toggle(ids: list[str], item: str, on: bool) -> list[str]:
    ids = [i for i in ids if i != item]
    return ids + [item] if on else ids


def edit_overrides(root: Path, catalog: risks.Catalog, library: Library, *,
                   owner: tuple[str, str | None] | None = None,
                   action: str | None = None, drop: bool | None = None, pin: bool | None = None,
                   edit: dict[str, Any] | None = None,
                   risk: str | None = None, risk_drop: bool | None = None) -> dict[str, Any]:
    """One decision of the consultant, applied to overrides.yaml: a role's owner, an action
    dropped/pinned/edited (an edit value of None or "" clears that field), a risk dropped.
    Returns the new overrides data. Custom actions (`add`) are edited in place."""
    with folder_lock(root):
        return _edit_overrides(root, catalog, library, owner, action, drop, pin, edit, risk, risk_drop)


def _edit_overrides(root, catalog, library, owner, action, drop, pin, edit, risk, risk_drop):
    data = read_overrides_data(root)
    if owner is not None:
        role, person = owner
        owners = dict(data.get("owners") or {})
        if person:
            owners[role] = person
        else:
            owners.pop(role, None)
        data["owners"] = owners
    if action is not None:
        asec = dict(data.get("actions") or {})
        if drop is not None:
            asec["drop"] = _toggle(list(asec.get("drop") or []), action, drop)
        if pin is not None:
            asec["pin"] = _toggle(list(asec.get("pin") or []), action, pin)
        if edit:
            added = [a for a in asec.get("add") or [] if a.get("id") == action]
            target = added[0] if added else dict((asec.get("edit") or {}).get(action) or {})
            for key, value in edit.items():
                if value is None or value == "":
                    target.pop(key, None)
                else:
                    target[key] = value
            if not added:
                edits = dict(asec.get("edit") or {})
                edits[action] = target
                asec["edit"] = edits
        data["actions"] = asec
    if risk is not None and risk_drop is not None:
        rsec = dict(data.get("risks") or {})
        rsec["drop"] = _toggle(list(rsec.get("drop") or []), risk, risk_drop)
        data["risks"] = rsec
    save_overrides(root, data, catalog, library)
    return data
