"""One engagement, loaded and analysed: what the CLI, the web app and the reports all read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import metrics, store
from .engagement import Engagement, load_engagement


@dataclass
class Analysis:
    engagement: Engagement
    data: store.EngagementData
    metrics: dict[str, Any]
    import_notes: list[str] = field(default_factory=list)


def analyse(root: str | Path | Engagement) -> Analysis:
    """Load an engagement folder and compute its baseline."""
    engagement = root if isinstance(root, Engagement) else load_engagement(root)
    data = store.load(engagement)
    m = metrics.compute(data.incidents, data.deploys, data.actions,
                        metrics.Settings.from_engagement(engagement))
    notes = []
    for entry in store.read_manifest(engagement):
        notes.append(f"{entry['file']} ({entry['format']}, {entry.get('encoding') or 'n/a'}): "
                     f"{entry.get('rows_imported', '?')} rows imported, "
                     f"{entry.get('rows_rejected', 0)} rejected")
    return Analysis(engagement, data, m, notes)
