"""One engagement, loaded and analysed: what the CLI, the web app and the reports all read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import metrics, plans, questionnaires, risks, store
from .engagement import Engagement, load_engagement


@dataclass
class Analysis:
    engagement: Engagement
    data: store.EngagementData
    metrics: dict[str, Any]
    imports: list[dict[str, Any]] = field(default_factory=list)  # the manifest's entries
    # the in-window rows of the enriched incident table the metrics were computed from
    frame: pd.DataFrame | None = None
    settings: metrics.Settings | None = None
    scores: dict[str, Any] | None = None

    @property
    def import_notes(self) -> list[str]:
        """One line per imported file, for the reports' data sources."""
        return [f"{e['file']} ({e['format']}, {e.get('encoding') or 'n/a'}): "
                f"{e.get('rows_imported', '?')} rows imported, {e.get('rows_rejected', 0)} rejected"
                for e in self.imports]


def analyse(root: str | Path | Engagement) -> Analysis:
    """Load an engagement folder and compute its baseline."""
    engagement = root if isinstance(root, Engagement) else load_engagement(root)
    data = store.load(engagement)
    settings = metrics.Settings.from_engagement(engagement)
    m, frame = metrics.compute_with_frame(data.incidents, data.deploys, data.actions, settings)
    return Analysis(engagement, data, m, store.read_manifest(engagement), frame, settings)


def scores(a: Analysis) -> dict[str, Any]:
    """The questionnaires of the engagement scored (cached on the analysis)."""
    if a.scores is None:
        a.scores = questionnaires.score_engagement(a.engagement.root)
    return a.scores


def evidence(a: Analysis) -> risks.Evidence:
    """What the risk ranking reads from this analysis."""
    frame = a.frame if a.frame is not None else pd.DataFrame(columns=["key"])
    return risks.Evidence(metrics=a.metrics, incidents=frame, gaps=scores(a)["gaps"],
                          timezone=a.engagement.timezone, actions=a.data.actions,
                          journeys=a.engagement.revenue_critical_journeys)


def postmortem_items(a: Analysis) -> list[dict[str, Any]]:
    """The postmortems' action items as plain records (file order), for the plan."""
    items = a.data.actions
    if items is None or items.empty:
        return []
    out = []
    for row in items.to_dict("records"):
        due = row.get("due")
        out.append({"incident_key": row.get("incident_key"), "title": row.get("title"),
                    "owner": None if pd.isna(row.get("owner")) else row.get("owner"),
                    # a due date is a local day, stored as its start in UTC
                    "due": None if due is None or pd.isna(due) else
                    pd.Timestamp(due).tz_convert(a.engagement.timezone).date(),
                    "done": bool(row.get("done"))})
    return out


def judgement(a: Analysis, lang: str | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """The ranked risks and the plan, with the consultant's overrides applied; `today` is the
    report date (the plan's overdue marks, and its start when the engagement names none)."""
    lang = lang or a.engagement.language
    today = today or a.engagement.report_date
    catalog, library = plans.load_catalogs(a.engagement.root)
    overrides = plans.load_overrides(a.engagement.root, catalog, library)
    ranking = plans.apply_risk_overrides(risks.rank(catalog, evidence(a), lang), overrides, lang)
    plan = plans.build(ranking, catalog, library, a.engagement.start_date, a.metrics, overrides, lang,
                       team=a.engagement.team, postmortems=postmortem_items(a), today=today)
    return {"risks": ranking, "plan": plan}
