"""PagerDuty's incidents CSV download (Analytics/Reports > Incidents > Download CSV).

Columns, as PagerDuty exports them: id, incident_number, description, service_id, service_name,
escalation_policy_id, escalation_policy_name, created_on, resolved_on, seconds_to_first_ack,
seconds_to_resolve, auto_resolved, escalation_count, auto_escalation_count, acknowledge_count,
assignment_count, acknowledged_by_user_ids, acknowledged_by_user_names, assigned_to_user_ids,
assigned_to_user_names, resolved_by_user_id, resolved_by_user_name, urgency, and on accounts with
priorities, priority. Timestamps are ISO 8601 with the account's offset (2024-05-11T15:26:04-07:00).

Mapping: created_on is when PagerDuty opened the incident, so it is `detected` (an alert detected
it); acknowledged = created_on + seconds_to_first_ack; resolved = resolved_on, or created_on +
seconds_to_resolve. Severity from priority (P1..P5) when set, otherwise from urgency (high/low).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .base import ImportError_, ReadContext, ReadResult, csv_records, header_cells, parse_iso, read_text
from .rows import Record, finish, map_severity

NAME = "pagerduty-csv"
REQUIRED = ("id", "description", "created_on")
ISO = "ISO 8601 such as 2024-05-11T15:26:04-07:00"


class PagerDutyCsv:
    name = NAME
    kind = "incidents"
    description = "PagerDuty incidents CSV download"

    def detect(self, head: str, path: Path) -> bool:
        cols = set(header_cells(head))
        return {"incident_number", "created_on"} <= cols and (
            "seconds_to_resolve" in cols or "service_name" in cols
        )

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        text, encoding = read_text(path)
        header, records = csv_records(text, path.name)
        problems = []
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ImportError_(f"{path.name}: not a PagerDuty incidents CSV: no column(s) {missing}")
        rows = []
        for line, cells in records:
            rec = Record(path.name, line, dict(zip(header, cells, strict=False)), ctx)
            if len(cells) != len(header):
                rec.fail(None, f"{len(header)} cells like the header", f"{len(cells)} cells")
                problems.extend(rec.problems)
                continue
            ext_id = rec.text("id", required=True)
            created = rec.time("created_on", parse_iso, ISO, required=True)
            resolved = rec.time("resolved_on", parse_iso, ISO)
            to_ack = rec.number("seconds_to_first_ack")
            to_resolve = rec.number("seconds_to_resolve")
            prio = rec.raw("priority")
            urgency = rec.raw("urgency")
            original = prio or urgency
            severity = map_severity(original, ctx.severity_map) if original else None
            if rec.problems:
                problems.extend(rec.problems)
                continue
            acknowledged = created + dt.timedelta(seconds=to_ack) if to_ack is not None else None
            if resolved is None and to_resolve is not None:
                resolved = created + dt.timedelta(seconds=to_resolve)
            rows.append({
                "key": f"pagerduty:{ext_id}",
                "source": "pagerduty",
                "external_id": ext_id,
                "title": rec.raw("description") or rec.raw("incident_key") or f"Incident {ext_id}",
                "severity": severity,
                "severity_original": original,
                "service": rec.raw("service_name"),
                "detected": created,
                "acknowledged": acknowledged,
                "resolved": resolved,
                "detection_source": "alert",
                "status": "resolved" if resolved is not None else (rec.raw("status") or "open"),
                "provenance": f"{path.name}:{line}",
            })
        notes = ["PagerDuty incidents are opened by alerts: detection source is 'alert' and impact "
                 "start is not in the export (MTTD needs postmortem timelines)."]
        return finish(NAME, "incidents", path, rows, problems, notes, encoding, len(records))
