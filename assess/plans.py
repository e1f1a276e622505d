"""The plan: the 30-day reliability reset by week and the 0-7 / 7-30 / 30-90-day roadmap, built
from the ranked risks, the remediation library (assess/remediations.py), the consultant's overrides
(assess/overrides.py), the team's capacity and the postmortems' action items.

A pure function of plain data. Rules, documented in docs/plans.md:
- The plan holds the top risks' actions (in rank order), the reset-plan actions of the source
  articles (`always`), pinned actions, open postmortem items (adopted), and for each further risk
  with evidence its first action, at the library's own horizon (a quick win stays a quick win).
  The consultant's diagnostic actions are the engagement's output, done in week 1, not client work.
- Postmortem action items already recorded are linked to the action they match, never added
  again; an action whose items are all done is done; open items keep their owner.
- Week N of the plan is days 7N-6 .. 7N, the start date being day 1 (default: the Monday after the
  report date). Each action is levelled on its owner's capacity (days a week of reliability work):
  it starts in its week (0-7: week 1, 7-30: its library week, 30-90: staggered from week 5) and is
  due at the end of the week its work is done, at the latest by its horizon's end. What does not
  fit by then is not overloaded on anyone: it is listed with the decision it needs.
- The error-budget rule: while availability.budget_consumed > 1, the people give their
  `days_per_week_budget_spent` (default twice their days, at most 5) during the 30-day reset.
- A due date on a Saturday or Sunday moves back to the Friday before; an explicit `due` wins.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import risks
from .formatting import fmt_date, fmt_value
from .overrides import (  # noqa: F401  (re-exported: the CLI, the web app and analysis use them)
    ACTION_EDIT_KEYS,
    OVERRIDES,
    STATUSES,
    Overrides,
    apply_risk_overrides,
    as_date,
    edit_overrides,
    load_overrides,
    read_overrides_data,
    save_overrides,
    text_of,
    validate_overrides,
)
from .remediations import (  # noqa: F401  (re-exported)
    EFFORTS,
    WEEKS_OF_HORIZON,
    Action,
    Library,
    load_catalogs,
    parse_library,
    validate_library,
)

# the weeks an action may be worked in, by horizon: (earliest, latest); day 90 falls in week 13
HORIZON_WEEKS = {"0-7": (1, 1), "7-30": (2, 4), "30-90": (5, 13)}
PLAN_WEEKS = 13
BUDGET_METRIC = "availability.budget_consumed"
BUDGET_THRESHOLD = 1.0  # the budget is spent when more than all of it is consumed
OPEN = ("planned", "in progress", "blocked")
REASONS = {"top-risk": 0, "pinned": 1, "consultant": 1, "postmortem": 2, "reset-plan": 3, "further-risk": 4}
WORDS = {
    "en": {"now": "now", "met": "already met", "not_goal": "kept, not a goal",
           "weeks": "week", "as_role": "{mine}, for the {asked}", "rule_on": (
               "The error budget is spent {x} over (error budget consumed {x} > {t}). Until it is back "
               "under {t}, feature work yields to stabilisation: during the 30-day reset the named people "
               "give {spent} person-days a week to reliability instead of {normal}."),
           "rule_off": ("Error budget consumed {x} (not above {t}): capacity stays as planned. If it goes "
                        "over {t}, feature work yields to stabilisation until it recovers."),
           "rule_none": ("The error budget consumed is not measurable: the rule (feature work yields to "
                         "stabilisation while it is above {t}) cannot be checked."),
           "overflow": ("“{title}”: {owner} has {free} of the {needs} person-days it needs by {by}: "
                        "decide whether to give {owner} more reliability time, hand it to someone else, "
                        "or move it to a later horizon."),
           "unstaffed": ("No one is named for the role {role}: name someone (owners in overrides.yaml or "
                         "team.people in engagement.yaml) so its {actions} can be planned on capacity."),
           "overdue": ("{actions} still open past the due date ({ids}): mark them done or give them "
                       "a new date."),
           "pinned_no_evidence": "risk {rid!r} is pinned but has no evidence, so it is not in the top three",
           "recurred": ("“{title}” is marked done (by {since}), yet {n} SEV1-SEV2 incident{s} "
                        "of its risk followed (first {first}, {key}): check that it worked before "
                        "counting it as a fix.")},
    "fr": {"now": "actuellement", "met": "déjà atteint", "not_goal": "à maintenir, pas un objectif",
           "weeks": "semaine", "as_role": "{mine}, pour le rôle {asked}", "rule_on": (
               "Le budget d'erreur est dépassé {x} (budget consommé {x} > {t}). Tant qu'il n'est pas revenu "
               "sous {t}, la stabilisation passe avant les fonctionnalités : pendant les 30 jours, les "
               "personnes nommées donnent {spent} jours par semaine à la fiabilité au lieu de {normal}."),
           "rule_off": ("Budget d'erreur consommé {x} (pas au-dessus de {t}) : la capacité reste celle du "
                        "plan. S'il dépasse {t}, la stabilisation passera avant les fonctionnalités."),
           "rule_none": ("Le budget d'erreur consommé n'est pas mesurable : la règle (stabilisation avant "
                         "fonctionnalités au-dessus de {t}) ne peut pas être vérifiée."),
           "overflow": ("« {title} » : {owner} dispose de {free} des {needs} jours-personne nécessaires "
                        "d'ici le {by} : "
                        "décider de lui donner plus de temps fiabilité, de confier l'action à quelqu'un "
                        "d'autre ou de la repousser à un horizon plus lointain."),
           "unstaffed": ("Personne n'est nommé pour le rôle {role} : nommer quelqu'un (owners dans "
                         "overrides.yaml ou team.people dans engagement.yaml) pour planifier ses "
                         "{actions} sur la capacité."),
           "overdue": ("{actions} toujours en cours après l'échéance ({ids}) : les marquer faites ou "
                       "leur donner une nouvelle date."),
           "pinned_no_evidence": "le risque {rid!r} est épinglé mais sans preuve : il n'est pas dans les "
                                 "trois premiers",
           "recurred": ("« {title} » est marquée faite (au {since}), pourtant {n} incident{s} "
                        "SEV1-SEV2 de son risque ont suivi (le premier le {first}, {key}) : vérifier "
                        "qu'elle a marché avant de la compter comme corrigée.")},
}
def n_actions(n: int) -> str:
    """'1 action', '3 actions' (the same in English and French)."""
    return f"{n} action{'' if n == 1 else 's'}"


STATUS_LABELS = {"en": {s: s for s in STATUSES},
                 "fr": {"planned": "prévue", "in progress": "en cours", "done": "faite",
                        "dropped": "abandonnée", "blocked": "bloquée"}}


# --- dates ---------------------------------------------------------------------------------------


def working_day(day: dt.date) -> dt.date:
    """A Saturday or Sunday moves back to the Friday before."""
    return day - dt.timedelta(days=max(0, day.weekday() - 4))


def due_date(start: dt.date, horizon: str, week: int | None, horizons: dict[str, dict[str, Any]]) -> dt.date:
    """End of the action's week (day 7N) or of its horizon (day D), start being day 1."""
    last_day = 7 * week if week else int(horizons[horizon]["days"])
    return working_day(start + dt.timedelta(days=last_day - 1))


def week_end(start: dt.date, week: int, horizon_days: int | None = None) -> dt.date:
    """The working day that ends week N (never past the horizon's last day)."""
    last_day = 7 * week if horizon_days is None else min(7 * week, horizon_days)
    return working_day(start + dt.timedelta(days=last_day - 1))


def week_of(start: dt.date, day: dt.date) -> int:
    """The plan week a date falls in (week 1 holds the start date; earlier dates are week 1)."""
    return max(1, (day - start).days // 7 + 1)


def next_monday(day: dt.date) -> dt.date:
    """The first Monday strictly after a day: the default start of a plan."""
    return day + dt.timedelta(days=7 - day.weekday())


# --- people and capacity -------------------------------------------------------------------------


@dataclass
class Person:
    name: str
    role: str | None
    days_per_week: float
    days_budget_spent: float
    source: str  # team | owners | postmortem


def people_of(team: Any, owners: dict[str, str], postmortem_owners: Iterable[str],
              library: Library) -> dict[str, Person]:
    """Everyone the engagement names, by name: the team (engagement.yaml), the owners named for
    roles (overrides.yaml), the owners of postmortem action items."""
    default = float(getattr(team, "default_days_per_week", 1.0)) if team is not None else 1.0
    out: dict[str, Person] = {}

    def add(name: str, role: str | None, days: float | None, spent: float | None, source: str) -> None:
        key = name.strip().casefold()
        if key in {k.casefold() for k in out}:
            return
        d = default if days is None else float(days)
        out[name.strip()] = Person(name.strip(), role, d,
                                   float(spent) if spent is not None else min(5.0, 2 * d), source)

    for p in getattr(team, "people", ()) if team is not None else ():
        add(p.name, p.role, p.days_per_week, p.days_per_week_budget_spent, "team")
    for role, name in owners.items():
        if role in library.roles:
            add(name, role, None, None, "owners")
    for name in postmortem_owners:
        if name:
            add(name, None, None, None, "postmortem")
    return out


def _find(people: dict[str, Person], name: str | None) -> Person | None:
    if not name:
        return None
    key = name.strip().casefold()
    return next((p for n, p in people.items() if n.casefold() == key), None)


# --- postmortem items --------------------------------------------------------------------------


def _norm(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", title.casefold()).strip()


def postmortem_groups(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Postmortem action items, one per distinct title (a recurring family records the same item
    again): its incidents, and the last record's owner, due date and done flag (file order)."""
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        title = str(item.get("title") or "").strip()
        if not title:
            continue
        g = groups.setdefault(_norm(title), {"title": title, "incidents": [], "owner": None, "due": None,
                                             "done": False})
        if item.get("incident_key") and item["incident_key"] not in g["incidents"]:
            g["incidents"].append(item["incident_key"])
        g["owner"] = item.get("owner") or g["owner"]
        due = item.get("due")
        g["due"] = (due.date() if isinstance(due, dt.datetime) else due) if due is not None else g["due"]
        g["done"] = bool(item.get("done"))
    return list(groups.values())


def _matches(patterns: Iterable[str], title: str) -> bool:
    return any(re.search(p, title, re.IGNORECASE) for p in patterns)


# --- verify -------------------------------------------------------------------------------------


def _meets(value: Any, verify: dict[str, Any]) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    if "below" in verify:
        return value < verify["below"]
    return "above" in verify and value > verify["above"]


def _verify(verify: dict[str, Any], catalog: risks.Catalog, metrics_doc: dict[str, Any],
            lang: str) -> dict[str, Any]:
    """The action's check: the leading indicator it moves (text) and the metric to watch, which is
    no goal when the baseline already meets it."""
    words = WORDS[lang]
    out: dict[str, Any] = {"metric": verify.get("metric"), "met": False}
    if "metric" in verify:
        d = catalog.metrics[verify["metric"]]
        value = risks.metric_value(metrics_doc, verify["metric"])
        out.update(label=d[lang], current=value, current_display=fmt_value(value, d["unit"], lang))
        for op in ("below", "above"):
            if op in verify:
                out.update(op=op, target=verify[op], target_display=fmt_value(verify[op], d["unit"], lang))
        if "op" in out:
            sign = "<" if out["op"] == "below" else ">"
            out["met"] = _meets(value, verify)
            out["watch"] = (f"{out['label']} {sign} {out['target_display']} ({words['met']}: "
                            f"{out['current_display']}, {words['not_goal']})" if out["met"] else
                            f"{out['label']} {sign} {out['target_display']} ({words['now']} "
                            f"{out['current_display']})")
    text = verify.get("text")
    out["text"] = text_of(text, lang) if text is not None else out.get("watch", "")
    return out


# --- the plan ---------------------------------------------------------------------------------


def build(ranking: list[dict[str, Any]], catalog: risks.Catalog, library: Library,
          start: dt.date | None, metrics_doc: dict[str, Any], overrides: Overrides | None = None,
          lang: str = "en", *, team: Any = None, postmortems: Iterable[dict[str, Any]] = (),
          today: dt.date | None = None) -> dict[str, Any]:
    """The reset plan by week and the roadmap by horizon, every action with an owner, a status, a
    date levelled on its owner's capacity and a check; what does not fit, the decisions it needs
    and the error-budget rule. `start` None: the Monday after `today` (the report date)."""
    o = overrides or Overrides()
    words = WORDS[lang]
    today = today or dt.date.today()
    start_default = start is None
    start = start or next_monday(today)
    chosen: dict[str, dict[str, Any]] = {}  # action id -> how it entered the plan

    def take(aid: str, reason: str, risk: dict[str, Any] | None) -> None:
        entry = chosen.setdefault(aid, {"reason": reason, "risks": []})
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
        # a further risk with evidence: its actions count it, and its first new action joins the
        # plan at the library's own horizon
        fresh = [aid for aid in r["actions"] if aid not in chosen]
        for aid in r["actions"]:
            if aid in chosen:
                take(aid, chosen[aid]["reason"], r)
        if fresh:
            take(fresh[0], "further-risk", r)

    # postmortem items: linked to the action they match (the plan's first, else the library's,
    # adopted when open), or adopted as they are
    groups = postmortem_groups(postmortems)
    added = {a["id"]: a for a in o.action_add}
    patterns = {aid: a.matches for aid, a in library.actions.items()}
    patterns.update({aid: tuple(a.get("matches") or ()) for aid, a in added.items()})
    for aid, edit in o.action_edit.items():
        if "matches" in edit:
            patterns[aid] = tuple(edit["matches"])
    links: dict[str, list[dict[str, Any]]] = {}
    adopted: list[dict[str, Any]] = []
    for g in groups:
        in_plan = [aid for aid in [*chosen, *added] if _matches(patterns.get(aid, ()), g["title"])]
        elsewhere = [aid for aid in library.actions
                     if aid not in chosen and _matches(patterns[aid], g["title"])]
        target = (in_plan or elsewhere or [None])[0]
        if target is not None and target in library.actions and target not in chosen:
            if g["done"]:
                continue  # done, and no part of this plan: nothing to add
            take(target, "postmortem", None)
        if target is None:
            if not g["done"]:
                adopted.append(g)
            continue
        links.setdefault(target, []).append(g)

    diagnostic: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for aid, entry in chosen.items():
        if aid in o.action_drop:
            continue
        a = library.actions[aid]
        row = {"id": aid, "title": a.title[lang], "why": a.why[lang], "horizon": a.horizon,
               "week": a.week, "effort": a.effort, "days": a.days, "owner_role": a.owner,
               "verify": a.verify, "risks": entry["risks"], "reason": entry["reason"],
               "source": "library"}
        (diagnostic if a.diagnostic else actions).append(row)
    for add in o.action_add:
        if add["id"] in o.action_drop:
            continue
        role = add["owner"] if add["owner"] in library.roles else None
        actions.append({"id": add["id"], "title": text_of(add["title"], lang),
                        "why": text_of(add.get("why", ""), lang), "horizon": add["horizon"],
                        "week": add.get("week"), "effort": add.get("effort", "M"), "days": add.get("days"),
                        "owner_role": role, "owner": None if role else add["owner"], "due": add.get("due"),
                        "verify": add.get("verify") or {"text": {"en": "Agreed with the consultant",
                                                                 "fr": "Validé avec le consultant"}},
                        "risks": [add["risk"]] if add.get("risk") else [], "reason": "consultant",
                        "source": "consultant", "note": add.get("note")})
    for g in adopted:
        pid = "pm-" + _norm(g["title"]).replace(" ", "-")[:60]
        if pid in o.action_drop:
            continue
        actions.append({"id": pid, "title": g["title"], "why": "", "horizon": "7-30", "week": 2,
                        "effort": "S", "days": None, "owner_role": None, "owner": g["owner"],
                        "verify": {"text": {"en": "Done as the postmortem recorded it",
                                            "fr": "Fait comme le post-mortem l'a décidé"}},
                        "risks": [], "reason": "postmortem", "source": "postmortem"})
        links[pid] = [g]

    titles = {r["id"]: r["title"] for r in ranking}
    ranks = {r["id"]: r["rank"] for r in ranking}
    for action in actions + diagnostic:
        _finish(action, o, library, catalog, metrics_doc, lang, links.get(action["id"], []), titles,
                today)

    position = {aid: i for i, aid in enumerate(library.actions)}

    def priority(a: dict[str, Any]) -> tuple:
        first_rank = min((ranks.get(r, 99) for r in a["risks"]), default=99)
        return (a["status"] != "in progress", not a["pinned"], REASONS.get(a["reason"], 5), first_rank,
                position.get(a["id"], len(position)))

    people = people_of(team, o.owners, [g["owner"] for g in groups if not g["done"] and g["owner"]]
                       + [a["owner"] for a in actions if a.get("owner")], library)
    capacity = _level(actions, people, start, library, budget_spent(metrics_doc), priority, lang)
    # the rule's totals count the people the capacity table lists: the team, and whoever else
    # carries an action (a consultant named for a role with nothing to do is not capacity)
    for p in capacity["people"]:
        p["counted"] = p["source"] == "team" or p["load"] > 0
    counted = {p["name"] for p in capacity["people"] if p["counted"]}
    rule = budget_rule(metrics_doc, {n: p for n, p in people.items() if n in counted}, lang)
    roles_of = {p["name"]: p["role_label"] for p in capacity["people"]}
    for a in actions:  # under the owner's name: their own role, and the role the action asks
        mine = roles_of.get(a.get("owner"))
        asked = a.get("owner_label")
        a["owner_note"] = (words["as_role"].format(mine=mine, asked=asked)
                           if mine and asked and mine != asked else mine or asked)

    for a in diagnostic:
        a.update(status="done", done_date=None, overdue=False, week=1, start_week=1, fits=None,
                 due=week_end(start, 1).isoformat(), staffed=True)
        a["status_label"] = STATUS_LABELS[lang]["done"]
        a["owner_display"] = a["owner"] or a["owner_label"]
    for a in actions:
        a["overdue"] = a["status"] in OPEN and dt.date.fromisoformat(a["due"]) < today
        a["status_label"] = STATUS_LABELS[lang][a["status"]]

    def order(a: dict[str, Any]) -> tuple:
        first_rank = min((ranks.get(r, 99) for r in a["risks"]), default=99)
        return (a["due"], not a["pinned"], first_rank, position.get(a["id"], len(position)))

    actions.sort(key=order)
    weeks = []
    for w in (1, 2, 3, 4):
        weeks.append({"week": w, "title": library.weeks[w][lang], "ends": week_end(start, w).isoformat(),
                      "actions": [a for a in actions if a["week"] == w and a["horizon"] != "30-90"],
                      "diagnostic": diagnostic if w == 1 else []})
    roadmap = [{"horizon": h, "title": library.horizons[h][lang],
                "due": due_date(start, h, None, library.horizons).isoformat(),
                "actions": [a for a in actions if a["horizon"] == h]}
               for h in WEEKS_OF_HORIZON]
    warnings = [words["pinned_no_evidence"].format(rid=r["id"])
                for r in ranking if r.get("pinned") and not r["has_evidence"]]
    _recurred_after_done(actions, ranking, words)
    warnings += [a["recurred_after_done"]["text"] for a in actions if a.get("recurred_after_done")]
    overdue = [a["id"] for a in actions if a["overdue"]]
    if overdue:
        warnings.append(words["overdue"].format(actions=n_actions(len(overdue)),
                                                ids=", ".join(overdue)))
    decisions = ([{"kind": "capacity", "action": x["action"], "text": x["decision"]}
                  for x in capacity["overflow"]]
                 + [{"kind": "unstaffed", "role": u["role"], "text": u["decision"]}
                    for u in capacity["unstaffed"]])
    linked = [{"action": aid, **{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in g.items()}}
              for aid, gs in links.items() for g in gs]
    return {"start_date": start.isoformat(), "start_date_default": start_default,
            "as_of": today.isoformat(), "language": lang,
            "top_risks": [r["id"] for r in top], "reset_plan": weeks, "roadmap": roadmap,
            "actions": actions, "diagnostic": diagnostic, "capacity": capacity,
            "error_budget_rule": rule, "decisions": decisions, "overdue": overdue,
            "postmortem_items": linked, "overridden": not o.empty, "warnings": warnings}


def _finish(action: dict[str, Any], o: Overrides, library: Library, catalog: risks.Catalog,
            metrics_doc: dict[str, Any], lang: str, links: list[dict[str, Any]],
            titles: dict[str, str], today: dt.date | None = None) -> None:
    """Edits, owner, status, effort and check of one action (dates come from the levelling)."""
    edit = o.action_edit.get(action["id"], {})
    for key in ("title", "why", "note"):
        if key in edit:
            action[key] = text_of(edit[key], lang)
    for key in ("horizon", "week", "effort", "days", "verify", "due"):
        if key in edit:
            action[key] = edit[key]
    if "week" in edit and "horizon" not in edit:
        action["horizon"] = {1: "0-7", None: "30-90"}.get(edit["week"], "7-30")
    if "horizon" in edit and "week" not in edit:
        action["week"] = (action["week"] if action["week"] in WEEKS_OF_HORIZON[edit["horizon"]]
                          else (WEEKS_OF_HORIZON[edit["horizon"]] or (None,))[0])
    owner_set = False
    if "owner" in edit:
        if edit["owner"] in library.roles:
            action["owner_role"], action["owner"] = edit["owner"], None
        else:
            action["owner"], owner_set = edit["owner"], True
    # an open postmortem item keeps its owner (unless the consultant named someone else)
    pm_owner = next((g["owner"] for g in links if not g["done"] and g["owner"]), None)
    if pm_owner and not owner_set and action["source"] != "consultant":
        action["owner"] = pm_owner
    action["owner_named"] = bool(action.get("owner"))  # a person, not a role: never handed over
    action["edited"] = bool(edit)
    action["pinned"] = action["id"] in o.action_pin
    role = action.get("owner_role")
    action["owner"] = action.get("owner") or (o.owners.get(role) if role else None)
    action["owner_label"] = library.roles[role][lang] if role else None
    action["effort_label"] = EFFORTS[action["effort"]][lang]
    action["days"] = float(action["days"]) if action.get("days") else EFFORTS[action["effort"]]["days"]
    action["horizon_label"] = library.horizons[action["horizon"]][lang]
    action["verify"] = _verify(action["verify"], catalog, metrics_doc, lang)
    action["risk_titles"] = [titles[r] for r in action["risks"] if r in titles]
    action.setdefault("note", None)
    action["due"] = as_date(action.get("due"))
    action["postmortem"] = [{**g, "due": g["due"].isoformat() if isinstance(g["due"], dt.date) else g["due"]}
                            for g in links]
    recorded = o.action_status.get(action["id"])
    if recorded and today and isinstance(recorded.get("date"), dt.date) and recorded["date"] > today:
        # a status reached after the report's date is not known to that report: a report dated
        # X shows the plan as it stood on X, whenever it is rendered again
        recorded = None
    if recorded:
        action["status"], action["done_date"] = recorded["status"], recorded["date"]
        action["status_note"] = recorded.get("note")
        action["status_source"] = "overrides"
    elif links and all(g["done"] for g in links):
        action["status"], action["done_date"], action["status_source"] = "done", None, "postmortem"
    else:
        action["status"], action["done_date"], action["status_source"] = "planned", None, None
    if isinstance(action["done_date"], dt.date):
        action["done_date"] = action["done_date"].isoformat()


def _recurred_after_done(actions: list[dict[str, Any]], ranking: list[dict[str, Any]],
                         words: dict[str, Any]) -> None:
    """A done action whose risk then had a SEV1 or SEV2 incident: marked for checking, never
    counted as a fix on its word alone (`recurred_after_done`: since, incidents, text). Done since
    its recorded date, else the latest due date of the postmortem items that say it was done."""
    evidence = {r["id"]: (r.get("evidence") or {}).get("incidents") or [] for r in ranking}
    for a in actions:
        a["recurred_after_done"] = None
        if a["status"] != "done":
            continue
        since = a.get("done_date") or max((str(g["due"]) for g in a.get("postmortem") or []
                                           if g.get("done") and g.get("due")), default=None)
        if not since:
            continue
        after: dict[str, dict[str, Any]] = {}
        for rid in a["risks"]:
            for i in evidence.get(rid, []):
                if i.get("severity") in ("SEV1", "SEV2") and str(i.get("started") or "")[:10] > since:
                    after.setdefault(i["key"], {k: i.get(k) for k in ("key", "severity", "started",
                                                                      "title")})
        if after:
            found = sorted(after.values(), key=lambda i: str(i["started"]))
            a["recurred_after_done"] = {"since": since, "incidents": found, "text": words[
                "recurred"].format(title=a["title"], since=since, n=len(found),
                                   s="s" if len(found) > 1 else "",
                                   first=found[0]["started"][:10], key=found[0]["key"])}


def _budget_value(metrics_doc: dict[str, Any]) -> float | None:
    """The error budget consumed, or None when it is not measurable."""
    value = risks.metric_value(metrics_doc, BUDGET_METRIC)
    measurable = isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)
    return value if measurable else None


def budget_spent(metrics_doc: dict[str, Any]) -> bool:
    """True while more than the whole error budget is consumed (the rule moves capacity)."""
    value = _budget_value(metrics_doc)
    return value is not None and value > BUDGET_THRESHOLD


def budget_rule(metrics_doc: dict[str, Any], people: dict[str, Person], lang: str) -> dict[str, Any]:
    """The error-budget policy as a plan rule: the figure, the threshold, and what it moves."""
    value = _budget_value(metrics_doc)
    measurable = value is not None
    triggered = budget_spent(metrics_doc)
    normal = sum(p.days_per_week for p in people.values())
    spent = sum(p.days_budget_spent for p in people.values())
    shown = {"x": fmt_value(value, "times", lang) if measurable else "n/a",
             "t": fmt_value(BUDGET_THRESHOLD, "times", lang), "normal": f"{normal:g}", "spent": f"{spent:g}"}
    key = "rule_on" if triggered else ("rule_off" if measurable else "rule_none")
    return {"id": "error-budget", "metric": BUDGET_METRIC, "value": value,
            "threshold": BUDGET_THRESHOLD, "triggered": bool(triggered),
            "weeks": [1, 2, 3, 4] if triggered else [],
            "days_per_week": {"normal": normal, "budget_spent": spent if triggered else normal},
            "text": WORDS[lang][key].format(**shown)}


def _level(actions: list[dict[str, Any]], people: dict[str, Person], start: dt.date, library: Library,
           budget_spent: bool, priority, lang: str) -> dict[str, Any]:
    """Give each open action a start week, a finishing week and a due date within its owner's
    capacity; what does not fit by its horizon's end is listed, never overloaded."""
    words = WORDS[lang]

    def cap(p: Person, w: int) -> float:
        return p.days_budget_spent if budget_spent and w <= 4 else p.days_per_week

    free = {name: [0.0] + [cap(p, w) for w in range(1, PLAN_WEEKS + 1)] for name, p in people.items()}
    load = {name: [0.0] * (PLAN_WEEKS + 1) for name in people}
    horizon_days = {h: int(library.horizons[h]["days"]) for h in library.horizons}
    late = sorted([a for a in actions if a["horizon"] == "30-90" and a["status"] in OPEN], key=priority)
    stagger = {a["id"]: HORIZON_WEEKS["30-90"][0] + (i * 8) // max(len(late), 1) for i, a in enumerate(late)}
    overflow: list[dict[str, Any]] = []
    unstaffed: dict[str, list[str]] = {}

    for a in sorted(actions, key=priority):
        lo, hi = HORIZON_WEEKS[a["horizon"]]
        first = stagger.get(a["id"]) or (a["week"] if a["week"] and a["horizon"] == "7-30" else lo)
        explicit = a["due"]
        if explicit is not None:
            hi = week_of(start, explicit)
            first = min(first, hi)
        a["start_week"], a["fits"] = first, None
        owner = _find(people, a.get("owner"))
        if a["status"] not in OPEN:  # done or dropped: takes no one's time
            _date(a, start, a.get("week") or first, horizon_days, explicit, nominal=True)
            continue
        role = a.get("owner_role")
        candidates = [owner] if owner else []
        if not a["owner_named"] and role:
            candidates += [p for p in people.values() if p.role == role and p not in candidates]
        if not candidates:
            unstaffed.setdefault(a.get("owner") or role or "?", []).append(a["id"])
            a["staffed"] = False
            _date(a, start, first, horizon_days, explicit, nominal=True)
            continue
        a["staffed"] = True
        placed = None
        # a later action starts at its staggered week; when it does not fit from there, it may
        # take any free week of its horizon from the first (never left waiting beside idle weeks)
        starts = [first] + ([min(lo, hi)] if a["id"] in stagger and min(lo, hi) < first else [])
        for begin in starts:
            for p in candidates:
                finish = _fill(free[p.name], a["days"], begin, hi, commit=False)
                if finish is not None:
                    _fill(free[p.name], a["days"], begin, hi, commit=True, load=load[p.name])
                    placed = (p, finish)
                    a["start_week"] = begin
                    break
            if placed is not None:
                break
        if placed is None:
            best = candidates[0]
            a["fits"] = False
            a["owner"] = a.get("owner") or best.name
            _date(a, start, a["week"] or first, horizon_days, explicit, nominal=True)
            # the decision speaks of the due date the plan shows, and of the free days before it
            by = dt.date.fromisoformat(a["due"])
            begin = starts[-1]
            until = max(begin, min(hi, week_of(start, by)))
            available = sum(free[best.name][begin:until + 1])
            overflow.append({"action": a["id"], "title": a["title"], "owner": best.name,
                             "needs_days": a["days"], "free_days": round(available, 2),
                             "by": by.isoformat(), "decision": words["overflow"].format(
                                 title=a["title"], owner=best.name, free=f"{available:g}",
                                 needs=f"{a['days']:g}", by=fmt_date(by, lang))})
            continue
        p, finish = placed
        a["fits"] = True
        if p is not candidates[0]:
            a["handed_over_from"] = candidates[0].name
        a["owner"] = p.name
        _date(a, start, finish, horizon_days, explicit)

    for a in actions:
        a["owner_display"] = a.get("owner") or a["owner_label"] or "?"
    people_out = []
    for name, p in people.items():
        weeks = [{"week": w, "load": round(load[name][w], 2), "capacity": cap(p, w)}
                 for w in range(1, PLAN_WEEKS + 1)]
        people_out.append({"name": name, "role": p.role,
                           "role_label": library.roles[p.role][lang] if p.role in library.roles else p.role,
                           "days_per_week": p.days_per_week,
                           "days_per_week_budget_spent": p.days_budget_spent,
                           "source": p.source, "weeks": weeks,
                           "load": round(sum(w["load"] for w in weeks), 2),
                           "peak": max((w["load"] for w in weeks), default=0.0)})
    return {"levelled": bool(people), "weeks": PLAN_WEEKS, "people": people_out, "overflow": overflow,
            "unstaffed": [{"role": role, "actions": ids, "decision": words["unstaffed"].format(
                role=role, actions=n_actions(len(ids)))} for role, ids in unstaffed.items()]}


def _fill(free: list[float], days: float, first: int, last: int, commit: bool,
          load: list[float] | None = None) -> int | None:
    """The week the work is done when it takes the owner's free days from `first` on; None when it
    is not done by `last`. With commit, the days are taken."""
    left = days
    for w in range(first, min(last, PLAN_WEEKS) + 1):
        take = min(free[w], left)
        if take <= 1e-9:
            continue
        left -= take
        if commit:
            free[w] -= take
            if load is not None:
                load[w] += take
        if left <= 1e-9:
            return w
    return None


def _date(a: dict[str, Any], start: dt.date, finish: int, horizon_days: dict[str, int],
          explicit: dt.date | None, nominal: bool = False) -> None:
    """Due date and week of an action finishing in week `finish` (an explicit due wins)."""
    if explicit is not None:
        due = explicit
    elif nominal and a["horizon"] != "30-90" and a.get("week"):
        due = week_end(start, a["week"])
    elif nominal and a["horizon"] == "30-90" and finish < HORIZON_WEEKS["30-90"][0]:
        due = week_end(start, 13, horizon_days["30-90"])
    else:
        due = week_end(start, finish, horizon_days["30-90"] if a["horizon"] == "30-90" else None)
    a["due"] = due.isoformat()
    if a["horizon"] != "30-90":
        a["week"] = min(max(week_of(start, due), 1), 4)
    else:
        a["week"] = None
