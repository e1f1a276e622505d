"""Severity mappings per source: package defaults in YAML, overridden by the engagement."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from .engagement import SEVERITIES, Engagement, EngagementError

DEFAULTS = Path(__file__).parent / "data" / "severity.yaml"
# Which mapping section a reader uses.
SECTION = {
    "pagerduty-csv": "pagerduty", "pagerduty-json": "pagerduty", "jira-csv": "jira",
    "opsgenie-json": "opsgenie", "statuspage-json": "statuspage", "statuspage-feed": "statuspage",
    "incidentio-json": "incidentio", "firehydrant-json": "firehydrant",
    "firehydrant-csv": "firehydrant", "rootly-json": "rootly", "grafana-oncall-json": "grafana",
    "github-issues-json": "github", "gcp-json": "gcp", "servicenow-csv": "servicenow",
    "generic-csv": "generic", "generic-xlsx": "generic",
}


@cache
def default_mappings(path: Path = DEFAULTS) -> dict[str, dict[str, str]]:
    """The shipped mappings, validated: {section: {lower-cased original: SEVn}}."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, dict[str, str]] = {}
    for section, mapping in data.items():
        if not isinstance(mapping, dict):
            raise EngagementError(f"{path}: key '{section}': expected a mapping of value -> SEVn")
        for original, sev in mapping.items():
            if sev not in SEVERITIES:
                raise EngagementError(
                    f"{path}: key '{section}.{original}': expected one of {', '.join(SEVERITIES)}"
                )
        out[section] = {str(k).lower(): v for k, v in mapping.items()}
    return out


def severity_map(reader_name: str, engagement: Engagement | None) -> dict[str, str]:
    """The mapping a reader applies: shipped defaults, then the engagement's overrides."""
    section = SECTION.get(reader_name, reader_name)
    merged = dict(default_mappings().get(section, {}))
    if engagement is not None:
        for key in (section, reader_name):
            merged.update({k.lower(): v for k, v in engagement.severity_overrides.get(key, {}).items()})
    return merged
