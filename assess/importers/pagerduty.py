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
from .jsonapi import JsonRecord, has_keys, load_json, read_records, records_at
from .rows import Record, earliest, finish, incident, map_severity

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


class PagerDutyJson:
    """PagerDuty's REST API `GET /incidents` payload and the Analytics raw incidents payload.

    REST (developer.pagerduty.com, "List incidents"): `{"incidents": [{"id", "incident_number",
    "title", "created_at", "status", "urgency", "priority": {"summary": "P1"}, "service":
    {"summary"}, "acknowledgements": [{"at"}], "last_status_change_at", "resolved_at"}]}`.
    Analytics (`POST /analytics/raw/incidents`): `{"data": [{"id", "description", "created_at",
    "resolved_at", "seconds_to_first_ack", "service_name", "urgency", "priority_name"}]}`.
    """

    name = "pagerduty-json"
    kind = "incidents"
    description = "PagerDuty REST API or Analytics incidents JSON"

    def detect(self, head: str, path: Path) -> bool:
        rest = has_keys(head, "incidents", "incident_number") and (
            has_keys(head, "urgency") or has_keys(head, "escalation_policy"))
        analytics = has_keys(head, "data", "seconds_to_resolve")
        return rest or analytics

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        payload, encoding = load_json(path)

        def to_row(rec: JsonRecord):
            ext_id = rec.text("id", required=True)
            created = rec.when("created_at", required=True)
            acks = [rec.parse("acknowledgements.at", a.get("at"))
                    for a in rec.get("acknowledgements") or [] if isinstance(a, dict)]
            acknowledged = earliest(*acks)
            to_ack = rec.number("seconds_to_first_ack")
            to_resolve = rec.number("seconds_to_resolve")
            resolved = rec.when("resolved_at")
            if resolved is None and rec.raw("status") == "resolved":
                resolved = rec.when("last_status_change_at")
            original = rec.first("priority.summary", "priority.name", "priority_name", "urgency")
            if rec.problems:
                return None
            if acknowledged is None and to_ack is not None:
                acknowledged = created + dt.timedelta(seconds=to_ack)
            if resolved is None and to_resolve is not None:
                resolved = created + dt.timedelta(seconds=to_resolve)
            return incident(
                "pagerduty", ext_id,
                title=rec.first("title", "description", "summary") or f"Incident {ext_id}",
                severity=map_severity(original, ctx.severity_map) if original else None,
                severity_original=original,
                service=rec.first("service.summary", "service.name", "service_name"),
                detected=created, acknowledged=acknowledged, resolved=resolved,
                detection_source="alert",
                status="resolved" if resolved is not None else rec.raw("status"),
            )

        records = records_at(payload, "incidents", "data")
        notes = ["PagerDuty incidents are opened by alerts: detection source is 'alert'."]
        return read_records(self.name, path, ctx, records, to_row, notes, encoding,
                            "a PagerDuty incidents payload")
