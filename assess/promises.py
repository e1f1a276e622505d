"""Broken promises: postmortem action items never owned or done, followed by incidents of the
same class. The follow-up incidents are what the action would have prevented; each link cites the
action, its owner and due date, the postmortem that promised it and the incidents that came after.

A pure function of the enriched incidents (in the window, with their `class`) and the action items
of postmortems.yaml (store.load_postmortems)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .formatting import isna


def _promised_at(row: pd.Series) -> pd.Timestamp:
    """When the action was promised: the postmortem, else the resolution, else the start."""
    for col in ("postmortem_at", "resolved", "start"):
        if col in row and not isna(row[col]):
            return row[col]
    return pd.NaT


def broken_promises(incidents: pd.DataFrame, actions: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Every open action item (no owner, or not done by its due date) whose incident's class came
    back after the postmortem, one entry per action and class: [{action, owner, due, why,
    from_key, from_title, promised_at (the first time), promised (every time), from_keys, class,
    followers (after the first promise), followers_sev1}], the heaviest first."""
    if actions is None or actions.empty or incidents.empty or "class" not in incidents.columns:
        return []
    by_key = incidents.set_index(incidents["key"].astype(str))
    out = []
    for act in actions.itertuples(index=False):
        if bool(act.done) if not isna(act.done) else False:
            continue
        key = str(act.incident_key)
        if key not in by_key.index:
            continue
        origin = by_key.loc[key]
        if isinstance(origin, pd.DataFrame):  # a key twice: take the first
            origin = origin.iloc[0]
        cls = origin["class"]
        promised = _promised_at(origin)
        if isna(cls) or isna(promised):
            continue
        later = incidents[(incidents["class"] == cls) & (incidents["start"] > promised)]
        if isna(act.owner):
            why = "no_owner"
        elif isna(act.due):
            why = "no_due"
        else:
            # an action due after the next incident had not yet failed when it came
            later = later[later["start"] > act.due]
            why = "overdue"
        if later.empty:
            continue
        out.append({
            "action": str(act.title),
            "owner": None if isna(act.owner) else str(act.owner),
            "due": None if isna(act.due) else act.due.date().isoformat(),
            "why": why,
            "from_key": key,
            "from_title": None if isna(origin["title"]) else str(origin["title"]),
            "promised_at": promised.date().isoformat(),
            "class": str(cls),
            "followers": later["key"].astype(str).tolist(),
            "followers_sev1": int(later["severity"].eq("SEV1").sum()),
        })
    return _grouped(out)


def _grouped(links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per action and class: an action promised again at each postmortem of the same
    family is one broken promise, made several times ("promised 3 times, never owned")."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for link in sorted(links, key=lambda p: p["promised_at"]):
        key = (link["action"].strip().lower(), link["class"])
        g = groups.get(key)
        if g is None:
            groups[key] = {**link, "promised": [link["promised_at"]], "from_keys": [link["from_key"]]}
            continue
        g["promised"].append(link["promised_at"])
        g["from_keys"].append(link["from_key"])
        if link["owner"] and not g["owner"]:
            g["owner"] = link["owner"]
    out = list(groups.values())
    out.sort(key=lambda p: (-p["followers_sev1"], -len(p["followers"]), p["promised_at"],
                            p["action"]))
    return out
