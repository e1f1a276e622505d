"""Broken promises: postmortem action items never owned or done, followed by incidents of the
same class. The follow-up incidents are what the action would have prevented; each link cites the
action, its owner and due date, the postmortem that promised it and the incidents that came after.

A pure function of the enriched incidents (in the window, with their `class`) and the action items
of postmortems.yaml (store.load_postmortems)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .formatting import isna


def broken_promises(incidents: pd.DataFrame, actions: pd.DataFrame | None,
                    timezone: str = "UTC") -> list[dict[str, Any]]:
    """Every open action item (no owner, or not done by its due date) whose incident's class came
    back after the postmortem, one entry per action and class: [{action, owner, due, why,
    from_key, from_title, promised_at (the first time), promised (every time), from_keys, class,
    followers (after the first promise), followers_sev1}], the heaviest first."""
    if actions is None or actions.empty or incidents.empty or "class" not in incidents.columns:
        return []
    # narrow once: the per-action work below reads plain Python values, not frames
    cols = incidents[["key", "class", "start", "severity", "title", "postmortem_at", "resolved"]]
    keys = cols["key"].astype(str).tolist()
    rows = dict(zip(keys, cols.itertuples(index=False), strict=True))
    by_class: dict[str, list[tuple[pd.Timestamp, str, bool]]] = {}
    for r, k in zip(cols.itertuples(index=False), keys, strict=True):
        if not isna(r[1]):
            by_class.setdefault(r[1], []).append((r[2], k, r[3] == "SEV1"))
    out = []
    for act in actions.itertuples(index=False):
        if bool(act.done) if not isna(act.done) else False:
            continue
        key = str(act.incident_key)
        origin = rows.get(key)
        if origin is None or isna(origin[1]):
            continue
        promised = next((t for t in (origin[5], origin[6], origin[2]) if not isna(t)), None)
        if promised is None:
            continue
        if isna(act.owner):
            why, after = "no_owner", promised
        elif isna(act.due):
            why, after = "no_due", promised
        else:
            # an action due after the next incident had not yet failed when it came
            why, after = "overdue", max(promised, act.due)
        later = [(k, sev1) for t, k, sev1 in by_class.get(origin[1], [])
                 if not isna(t) and t > after]
        if not later:
            continue
        out.append({
            "action": str(act.title),
            "owner": None if isna(act.owner) else str(act.owner),
            # the client's calendar days: a due date is a local day (stored as its UTC start)
            "due": None if isna(act.due) else act.due.tz_convert(timezone).date().isoformat(),
            "why": why,
            "from_key": key,
            "from_title": None if isna(origin[4]) else str(origin[4]),
            "promised_at": promised.tz_convert(timezone).date().isoformat(),
            "class": str(origin[1]),
            "followers": [k for k, _ in later],
            "followers_sev1": sum(1 for _, sev1 in later if sev1),
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
