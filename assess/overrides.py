"""The consultant's decisions on the risks and the plan: `overrides.yaml` in the engagement folder.

Validated against the risk catalog and the remediation library, applied to the ranking, edited one
decision at a time (CLI and web) and written atomically under the folder lock. A run of the analysis
never writes it, so every decision survives re-imports. Format: docs/plans.md.

    owners:  {role: person}
    risks:   {order: [ids], drop: [ids], edit: {id: {title, finding}},
              add: [{id, title, finding, likelihood 0-1, impact 1-10, actions: [ids]}]}
    actions: {drop: [ids], pin: [ids], edit: {id: {title, why, owner, due, week, horizon, effort,
              days, note, verify}}, add: [{id, title, horizon, owner, ...}],
              status: {id: planned | in progress | done | dropped | blocked
                       or {status: ..., date: YYYY-MM-DD, note: ...}}}
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import risks
from .files import atomic_write, folder_lock
from .remediations import EFFORTS, WEEKS_OF_HORIZON, Library, matches_problems, verify_problems

OVERRIDES = "overrides.yaml"
STATUSES = ("planned", "in progress", "done", "dropped", "blocked")
ACTION_EDIT_KEYS = ("title", "why", "owner", "due", "week", "horizon", "effort", "days", "note",
                    "verify", "matches")


@dataclass
class Overrides:
    owners: dict[str, str] = field(default_factory=dict)
    risk_order: list[str] = field(default_factory=list)
    risk_drop: list[str] = field(default_factory=list)
    risk_edit: dict[str, dict[str, str]] = field(default_factory=dict)
    risk_add: list[dict[str, Any]] = field(default_factory=list)
    action_drop: list[str] = field(default_factory=list)
    action_pin: list[str] = field(default_factory=list)
    action_edit: dict[str, dict[str, Any]] = field(default_factory=dict)
    action_add: list[dict[str, Any]] = field(default_factory=list)
    # action id -> {"status": one of STATUSES, "date": date or None, "note": text or None}
    action_status: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(vars(self).values())


def text_of(value: Any, lang: str) -> str:
    """A consultant's text: a plain string, or one per language."""
    if isinstance(value, dict):
        return value.get(lang) or value.get("en") or ""
    return str(value)


def as_date(value: Any) -> dt.date | None:
    """A date of the file (YAML date or YYYY-MM-DD text); None when absent."""
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    return dt.date.fromisoformat(str(value))


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


def status_entry(value: Any) -> dict[str, Any]:
    """A status as written (a word, or a mapping with status, date, note) as a mapping."""
    if isinstance(value, dict):
        return {"status": value.get("status"), "date": value.get("date"), "note": value.get("note")}
    return {"status": value, "date": None, "note": None}


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
    rsec0 = data.get("risks") if isinstance(data.get("risks"), dict) else {}
    added_risks = [r for r in (rsec0.get("add") or []) if isinstance(r, dict)]
    risk_ids = {r.id for r in catalog.risks}
    problems_added = _risk_add_problems(rsec0.get("add"), file, risk_ids, library)
    risk_ids |= {r.get("id") for r in added_risks if isinstance(r.get("id"), str)}
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
    problems += problems_added
    rsec = data.get("risks") or {}
    if not isinstance(rsec, dict):
        problems.append(f"{file}: risks: expected a mapping with order, drop, edit, add")
        rsec = {}
    unknown = set(rsec) - {"order", "drop", "edit", "add"}
    if unknown:
        problems.append(f"{file}: risks: unknown key(s) {', '.join(sorted(unknown))} "
                        "(expected order, drop, edit, add)")
    for key in ("order", "drop"):
        problems += _id_list(rsec.get(key), f"{file}: risks.{key}", risk_ids, "risk")
    for rid, edit in (rsec.get("edit") or {}).items():
        if rid not in risk_ids:
            problems.append(f"{file}: risks.edit.{rid}: unknown risk")
        elif not isinstance(edit, dict) or set(edit) - {"title", "finding"}:
            problems.append(f"{file}: risks.edit.{rid}: expected title and/or finding")
    asec = data.get("actions") or {}
    if not isinstance(asec, dict):
        problems.append(f"{file}: actions: expected a mapping with drop, pin, edit, add, status")
        asec = {}
    unknown = set(asec) - {"drop", "pin", "edit", "add", "status"}
    if unknown:
        problems.append(f"{file}: actions: unknown key(s) {', '.join(sorted(unknown))} "
                        "(expected drop, pin, edit, add, status)")
    added = [a.get("id") for a in (asec.get("add") or []) if isinstance(a, dict)]
    known = set(library.actions) | {a for a in added if a}
    # adopted postmortem items are named pm-<their title> by the plan (plans.build)
    for key in ("drop", "status", "edit"):
        ids = asec.get(key) or []
        known |= {i for i in ids if isinstance(i, str) and i.startswith("pm-")}
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
    status = asec.get("status") or {}
    if not isinstance(status, dict):
        problems.append(f"{file}: actions.status: expected a mapping of action id to its status")
        status = {}
    for aid, value in status.items():
        where = f"{file}: actions.status.{aid}"
        if aid not in known:
            problems.append(f"{where}: unknown action")
            continue
        entry = status_entry(value)
        if isinstance(value, dict) and set(value) - {"status", "date", "note"}:
            problems.append(f"{where}: expected status, date and note")
        if entry["status"] not in STATUSES:
            problems.append(f"{where}: expected one of {', '.join(STATUSES)}, got {entry['status']!r}")
        if entry["date"] is not None:
            _date(entry["date"], f"{where}.date", problems)
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
        elif key == "days" and not (isinstance(value, int | float) and not isinstance(value, bool)
                                    and value > 0):
            problems.append(f"{where}.days: expected a number of person-days above 0")
        elif key == "verify":
            problems += verify_problems(value, where, set(catalog.metrics), need_text=False)
        elif key == "matches":
            problems += matches_problems(value, where)
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
    status = {}
    for aid, value in (asec.get("status") or {}).items():
        entry = status_entry(value)
        status[aid] = {**entry, "date": as_date(entry["date"])}
    return Overrides(owners=dict(data.get("owners") or {}), risk_order=list(rsec.get("order") or []),
                     risk_drop=list(rsec.get("drop") or []), risk_edit=dict(rsec.get("edit") or {}),
                     risk_add=list(rsec.get("add") or []),
                     action_drop=list(asec.get("drop") or []), action_pin=list(asec.get("pin") or []),
                     action_edit=dict(asec.get("edit") or {}), action_add=list(asec.get("add") or []),
                     action_status=status)


def _risk_add_problems(added: Any, file: str, risk_ids: set[str], library: Library) -> list[str]:
    """Problems with the consultant's own risks (risks.add)."""
    if added is None:
        return []
    if not isinstance(added, list):
        return [f"{file}: risks.add: expected a list of risks"]
    problems = []
    for i, r in enumerate(added):
        where = f"{file}: risks.add[{i}]"
        if not isinstance(r, dict):
            problems.append(f"{where}: expected a mapping with id, title, finding, likelihood, impact")
            continue
        rid = r.get("id")
        if not isinstance(rid, str) or not rid.strip() or rid in risk_ids:
            problems.append(f"{where}: id: expected a new risk id (not one of the catalog's)")
        for key in ("title", "finding"):
            if not (isinstance(r.get(key), str) and r[key].strip() or isinstance(r.get(key), dict)):
                problems.append(f"{where}: {key}: expected a text")
        lk, imp = r.get("likelihood"), r.get("impact")
        if not isinstance(lk, int | float) or isinstance(lk, bool) or not 0 < lk <= 1:
            problems.append(f"{where}: likelihood: expected a number above 0 and at most 1, got {lk!r}")
        if not isinstance(imp, int | float) or isinstance(imp, bool) or not 1 <= imp <= risks.IMPACT_MAX:
            problems.append(f"{where}: impact: expected a number from 1 to {risks.IMPACT_MAX}, "
                            f"got {imp!r}")
        for a in r.get("actions") or []:
            if a not in library.actions:
                problems.append(f"{where}: actions: {a!r} is not in the remediation library")
    return problems


def consultant_risk(r: dict[str, Any], lang: str) -> dict[str, Any]:
    """A risk the consultant added: scored from the likelihood and impact they state, its
    evidence their judgement (recorded), ranked among the others by its score."""
    likelihood, impact = float(r["likelihood"]), float(r["impact"])
    return {
        "id": r["id"], "title": text_of(r["title"], lang), "finding": text_of(r["finding"], lang),
        "score": round(likelihood * impact, 2), "likelihood": likelihood, "decisive": None,
        "impact": {"score": impact, "base": impact, "severity": 0, "customers": 0, "revenue": 0,
                   "recurrence": 0, "potential": 0, "severity_minutes": 0, "customers_affected": 0,
                   "journeys": []},
        "has_evidence": True, "signals": [], "source": "consultant",
        "evidence": {"incident_count": 0, "incidents": [], "metrics": [], "answers": [],
                     "promises": [], "strength": {"recorded": 1, "measured": 0, "inferred": 0}},
        "actions": list(r.get("actions") or []),
    }


def apply_risk_overrides(ranking: list[dict[str, Any]], o: Overrides, lang: str) -> list[dict[str, Any]]:
    """The consultant's own risks ranked in by score; their order first (in the order given),
    dropped risks last; edits replace the text."""
    if o.risk_add:
        added = [consultant_risk(r, lang) for r in o.risk_add]
        ranking = sorted(ranking + added, key=lambda r: (not r["has_evidence"], -r["score"]))
    by_id = {r["id"]: r for r in ranking}
    for rid, edit in o.risk_edit.items():
        for key in ("title", "finding"):
            if key in edit:
                by_id[rid][key] = text_of(edit[key], lang)
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
                        + [r for r in rest if not r["has_evidence"]], lang)


# --- editing (the CLI's --status and the web app's plan editor) ----------------------------------


def read_overrides_data(root: Path) -> dict[str, Any]:
    """overrides.yaml as a plain mapping (empty when absent)."""
    path = Path(root) / OVERRIDES
    data = risks.read_yaml(path) if path.is_file() else None
    return data if isinstance(data, dict) else {}


def save_overrides(root: Path, data: dict[str, Any], catalog: risks.Catalog, library: Library) -> None:
    """Validate then write overrides.yaml atomically; nothing is written when it would not load."""
    problems = validate_overrides(data, OVERRIDES, catalog, library)
    if problems:
        raise risks.CatalogError("\n".join(problems))
    text = ("# The consultant's decisions on the risks and the plan (format: docs/plans.md).\n"
            "# Written by assess (plan editor, assess plan --status); hand edits are kept.\n")
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
                   status: tuple[str, dt.date | None] | None = None,
                   risk: str | None = None, risk_drop: bool | None = None,
                   risk_edit: dict[str, Any] | None = None,
                   risk_add: dict[str, Any] | None = None) -> dict[str, Any]:
    """One decision of the consultant, applied to overrides.yaml under the folder lock: a role's
    owner, an action dropped/pinned/edited (an edit value of None or "" clears that field) or given
    a status (with the date it was reached; "planned" without a date clears it), a risk dropped.
    Returns the new overrides data. Custom actions (`add`) are edited in place."""
    with folder_lock(root):
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
            data["actions"] = _edit_action(dict(data.get("actions") or {}), action, drop, pin, edit,
                                           status)
        if risk is not None and risk_drop is not None:
            rsec = dict(data.get("risks") or {})
            rsec["drop"] = _toggle(list(rsec.get("drop") or []), risk, risk_drop)
            data["risks"] = rsec
        if risk is not None and risk_edit:
            data["risks"] = _edit_risk(dict(data.get("risks") or {}), risk, risk_edit)
        if risk_add:
            rsec = dict(data.get("risks") or {})
            rsec["add"] = [r for r in rsec.get("add") or [] if r.get("id") != risk_add["id"]] \
                + [risk_add]
            data["risks"] = rsec
        save_overrides(root, data, catalog, library)
        return data


def _edit_risk(rsec: dict[str, Any], risk: str, edit: dict[str, Any]) -> dict[str, Any]:
    """A risk's title or finding edited: in place for the consultant's own risk, else under edit;
    an empty value clears the edit (the catalog's text comes back)."""
    added = [r for r in rsec.get("add") or [] if r.get("id") == risk]
    target = added[0] if added else dict((rsec.get("edit") or {}).get(risk) or {})
    for key, value in edit.items():
        if value in (None, ""):
            if not added:
                target.pop(key, None)
        else:
            target[key] = value
    if not added:
        edits = dict(rsec.get("edit") or {})
        edits[risk] = target
        rsec["edit"] = {k: v for k, v in edits.items() if v}
    return rsec


def _edit_action(asec: dict[str, Any], action: str, drop: bool | None, pin: bool | None,
                 edit: dict[str, Any] | None, status: tuple[str, dt.date | None] | None) -> dict[str, Any]:
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
    if status is not None:
        word, day = status
        statuses = dict(asec.get("status") or {})
        previous = status_entry(statuses.get(action)) if action in statuses else {}
        if word == "planned" and day is None and not previous.get("note"):
            statuses.pop(action, None)
        else:
            entry: dict[str, Any] = {"status": word}
            if day is not None:
                entry["date"] = day.isoformat()
            if previous.get("note"):
                entry["note"] = previous["note"]
            statuses[action] = entry if len(entry) > 1 else word
        asec["status"] = statuses
    return asec
