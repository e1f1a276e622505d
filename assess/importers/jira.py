"""Jira's issue CSV export (Filters > Export > CSV (all fields) or CSV (current fields)).

Jira writes one column per value for multi-valued fields, so `Labels` and `Component/s` repeat in
the header; all their values are kept. Dates follow the site's format, by default
`dd/MMM/yy h:mm a` (11/May/24 03:26 PM) in the exporting user's time zone, with no offset: they are
read in the engagement's time zone. Custom fields appear as `Custom field (Name)`.

Only rows whose `Issue Type` is an incident type are read (INCIDENT_TYPES, or the engagement's
`jira_incident_types`); the others (epics, stories, tasks) are skipped and counted by type.

Mapping: Created -> detected, Resolved -> resolved, Summary -> title, first Component/s -> service,
Custom field (Severity) or else Priority -> severity. Optional custom fields read when present:
Impact Start, Mitigation Started, Mitigated At, Root Cause, Customers Affected, Support Tickets,
Revenue Impact, Postmortem. A label `customer-reported` (or a Detection custom field saying
customer) marks the detection source as customer; otherwise it is internal.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .base import (
    ImportError_,
    ReadContext,
    ReadResult,
    csv_records,
    header_cells,
    parse_iso,
    parse_with,
    read_text,
)
from .rows import Record, finish

NAME = "jira-csv"
_JIRA_FORMATS = (
    "%d/%b/%y %I:%M %p",  # 11/May/24 03:26 PM, Jira's default
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y %H:%M",
)
EXPECTED_DATE = "a Jira date such as 11/May/24 03:26 PM or 2024-05-11 15:26"
_parse_jira_date = parse_with(_JIRA_FORMATS)


def _parse(value: str, tz) -> object:
    try:
        return _parse_jira_date(value, tz)
    except ValueError:
        return parse_iso(value, tz)


CUSTOMER_WORDS = ("customer", "support", "client")
# Issue types that are incidents unless the engagement says otherwise (jira_incident_types):
# Jira Service Management's incident types and the names teams commonly give one in Jira Software.
INCIDENT_TYPES = ("Incident", "[System] Incident", "Major Incident", "Outage",
                  "Production Incident")


class JiraCsv:
    name = NAME
    kind = "incidents"
    description = "Jira issue CSV export"

    def detect(self, head: str, path: Path) -> bool:
        return {"Issue key", "Summary", "Created"} <= set(header_cells(head))

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        text, encoding = read_text(path)
        header, records = csv_records(text, path.name)
        for col in ("Summary", "Issue key", "Created"):
            if col not in header:
                raise ImportError_(f"{path.name}: not a Jira CSV export: no column '{col}'")
        problems, rows = [], []
        repeated = {h for h in header if header.count(h) > 1}
        types = tuple(t.lower() for t in (ctx.issue_types or INCIDENT_TYPES))
        type_col = "Issue Type" if "Issue Type" in header else None
        skipped: Counter[str] = Counter()
        for line, cells in records:
            if len(cells) != len(header):
                rec = Record(path.name, line, {}, ctx)
                rec.fail(None, f"{len(header)} cells like the header", f"{len(cells)} cells")
                problems.extend(rec.problems)
                continue
            if type_col:
                issue_type = cells[header.index(type_col)].strip()
                if issue_type.lower() not in types:
                    skipped[issue_type or "(no type)"] += 1
                    continue
            single: dict[str, str] = {}
            multi: dict[str, list[str]] = {}
            for name, cell in zip(header, cells, strict=True):
                if name in repeated:
                    if cell.strip():
                        multi.setdefault(name, []).append(cell.strip())
                else:
                    single[name] = cell
            rec = Record(path.name, line, single, ctx)
            labels = multi.get("Labels", []) + ([single["Labels"]] if single.get("Labels") else [])
            components = multi.get("Component/s", []) + (
                [single["Component/s"]] if single.get("Component/s") else [])
            key = rec.text("Issue key", required=True)
            created = rec.time("Created", _parse, EXPECTED_DATE, required=True)
            resolved = rec.time("Resolved", _parse, EXPECTED_DATE)
            impact_start = rec.time("Custom field (Impact Start)", _parse, EXPECTED_DATE)
            mit_started = rec.time("Custom field (Mitigation Started)", _parse, EXPECTED_DATE)
            mitigated = rec.time("Custom field (Mitigated At)", _parse, EXPECTED_DATE)
            customers = rec.integer("Custom field (Customers Affected)")
            tickets = rec.integer("Custom field (Support Tickets)")
            revenue = rec.number("Custom field (Revenue Impact)")
            sev_col = "Custom field (Severity)" if rec.raw("Custom field (Severity)") else "Priority"
            severity, original = rec.severity(sev_col)
            if rec.problems:
                problems.extend(rec.problems)
                continue
            detection = (rec.raw("Custom field (Detection)") or "").lower()
            lowered = [lab.lower() for lab in labels]
            if "customer-reported" in lowered or any(w in detection for w in CUSTOMER_WORDS):
                source = "customer"
            elif "alert" in detection or "monitoring" in detection or "alert" in lowered:
                source = "alert"
            else:
                source = "internal"
            impact = (rec.raw("Custom field (Impact)") or "").lower() or None
            rows.append({
                "key": f"jira:{key}",
                "source": "jira",
                "external_id": key,
                "title": rec.raw("Summary"),
                "severity": severity,
                "severity_original": original,
                "service": components[0] if components else None,
                "impact_start": impact_start,
                "detected": created,
                "mitigation_started": mit_started,
                "mitigated": mitigated,
                "resolved": resolved,
                "detection_source": source,
                "impact": impact if impact in ("outage", "partial", "degraded", "none") else None,
                "customers_affected": customers,
                "support_tickets": tickets,
                "revenue_impact": revenue,
                "root_cause": rec.raw("Custom field (Root Cause)"),
                "postmortem_url": rec.raw("Custom field (Postmortem)"),
                "status": (rec.raw("Status") or "").lower() or None,
                "provenance": f"{path.name}:{line}",
            })
        notes = [f"Jira dates carry no time zone: read as {ctx.timezone} (the engagement's zone)."]
        if skipped:
            shown = ", ".join(f"{t} {n}" for t, n in skipped.most_common())
            notes.append(
                f"{sum(skipped.values())} row(s) skipped as not incidents by Issue Type: {shown}. "
                f"Incident types: {', '.join(ctx.issue_types or INCIDENT_TYPES)} (set "
                "jira_incident_types in engagement.yaml to change them).")
        elif not type_col:
            notes.append("No Issue Type column: every row is read as an incident.")
        return finish(NAME, "incidents", path, rows, problems, notes, encoding, len(records))
