"""Readers for every export format, registered in one place and chosen by content sniffing."""

from __future__ import annotations

import re
from pathlib import Path

from .base import ImportError_, Problem, ReadContext, Reader, ReadResult, head_text, sniff_binary
from .deploys import DeployCsv, GitLog
from .firehydrant import FireHydrantCsv, FireHydrantJson
from .gcp import GcpIncidentsJson
from .generic import GenericTable
from .github import GitHubIssuesJson
from .grafana import GrafanaOnCallJson
from .incidentio import IncidentIoJson
from .jira import JiraCsv
from .opsgenie import OpsgenieJson
from .pagerduty import PagerDutyCsv, PagerDutyJson
from .rootly import RootlyJson
from .servicenow import ServiceNowCsv
from .statuspage import StatuspageFeed, StatuspageJson

# Detection tries readers in this order; each one's test is specific to its format's own fields.
READERS: dict[str, Reader] = {r.name: r for r in (
    PagerDutyCsv(), JiraCsv(), ServiceNowCsv(), FireHydrantCsv(), DeployCsv(), GitLog(),
    PagerDutyJson(), OpsgenieJson(), StatuspageJson(), IncidentIoJson(), FireHydrantJson(),
    RootlyJson(), GrafanaOnCallJson(), GitHubIssuesJson(), GcpIncidentsJson(), StatuspageFeed(),
    GenericTable("generic-xlsx", "Any XLSX incident list, through a column mapping", xlsx=True),
    GenericTable("generic-csv", "Any CSV incident list, through a column mapping", xlsx=False),
)}
GENERIC = ("generic-csv", "generic-xlsx")

__all__ = ["GENERIC", "READERS", "ImportError_", "Problem", "ReadContext", "ReadResult", "choose",
           "detect", "read"]


def detect(path: Path) -> Reader:
    """The reader whose format the file's content matches; a clear error when none does."""
    with path.open("rb") as f:
        start = f.read(16)
    what = sniff_binary(start)
    if what and not (what.startswith("a ZIP") and path.suffix.lower() in (".xlsx", ".xlsm")):
        raise ImportError_(f"{path.name}: this is {what}, not an incident or deploy export; "
                           "nothing was imported")
    head = "" if what else head_text(path)
    if not what and not head.strip():
        raise ImportError_(f"{path.name}: not a text export (empty or binary content)")
    matches = [r for r in READERS.values() if r.detect(head, path)]
    if not matches and re.search(r'"\s*(@\{\w+=|System\.Object\[\])', head):
        raise ImportError_(
            f"{path.name}: nested objects are written as text (\"@{{status=...; ...}}\"): the file "
            "was made by Windows PowerShell's ConvertTo-Json, which stops at depth 2 by default; "
            "export again with ConvertTo-Json -Depth 10; nothing was imported")
    if not matches:
        hint = (" A CSV of your own shape imports with --format generic-csv and --map "
                "field=Column." if path.suffix.lower() in (".csv", ".tsv", ".txt") else "")
        raise ImportError_(
            f"{path.name}: format not recognised; name it with --format "
            f"(one of: {', '.join(READERS)}).{hint}"
        )
    return matches[0]


def choose(path: Path, fmt: str | None = None) -> Reader:
    """The named reader, or the one the file's content matches."""
    if fmt is None:
        return detect(path)
    if fmt not in READERS:
        raise ImportError_(f"unknown format '{fmt}'; known formats: {', '.join(READERS)}")
    return READERS[fmt]


def read(path: Path, ctx: ReadContext, fmt: str | None = None) -> ReadResult:
    """Read one export with the named reader, or the detected one."""
    return choose(path, fmt).read(path, ctx)
