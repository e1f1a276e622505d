"""FireHydrant incidents: the API's `GET /v1/incidents` JSON and a CSV export.

JSON (docs.firehydrant.com API reference, IncidentEntity): `{"data": [{"id", "name", "number",
"severity", "priority", "started_at", "created_at", "current_milestone", "milestones": [{"type",
"occurred_at", "duration"}], "services": [{"name"}], "customers_impacted", "tag_list",
"incident_url", "report_id"}], "pagination": {...}}`.

Milestones are FireHydrant's lifecycle: started, detected, acknowledged, investigating, identified,
first_action (mitigation began), mitigated, resolved, postmortem_started, postmortem_completed,
closed. They map to impact start, detected, acknowledged, mitigation started, mitigated, resolved and
postmortem date.

CSV: one row per incident with the same names as columns (`id`, `name`, `number`, `severity`,
`started_at`, `detected_at`, `acknowledged_at`, `first_action_at`, `mitigated_at`, `resolved_at`,
`services`, `customers_impacted`), the shape of FireHydrant's incident data export. Extra columns
are ignored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .base import (
    INSTANT,
    ImportError_,
    ReadContext,
    ReadResult,
    csv_records,
    header_cells,
    parse_instant,
    read_text,
)
from .jsonapi import JsonRecord, has_keys, load_json, read_records
from .rows import csv_rows, finish, incident, map_severity

MILESTONES = {
    "started": "impact_start", "detected": "detected", "acknowledged": "acknowledged",
    "first_action": "mitigation_started", "mitigated": "mitigated", "resolved": "resolved",
    "postmortem_completed": "postmortem_at", "retrospective_completed": "postmortem_at",
}


def _row(ext_id: str, number: str | None, title: str | None, original: str | None,
         times: dict, service: str | None, customers: int | None, ctx: ReadContext,
         status: str | None, url: str | None) -> dict:
    return incident(
        "firehydrant", ext_id, title=title or f"Incident {number or ext_id}",
        severity=map_severity(original, ctx.severity_map) if original else None,
        severity_original=original, service=service, customers_affected=customers,
        postmortem_url=url if times.get("postmortem_at") else None,
        status="resolved" if times.get("resolved") else status, **times,
    )


class FireHydrantJson:
    name = "firehydrant-json"
    kind = "incidents"
    description = "FireHydrant API incidents JSON"

    def detect(self, head: str, path: Path) -> bool:
        return head.lstrip()[:1] in ("{", "[") and (
            has_keys(head, "milestones") or has_keys(head, "current_milestone"))

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        loaded = load_json(path)

        def to_row(rec: JsonRecord):
            ext_id = rec.text("id", required=True)
            times: dict = {}
            for m in rec.get("milestones") or []:
                if isinstance(m, dict) and m.get("type") in MILESTONES:
                    column = MILESTONES[m["type"]]
                    when = rec.parse(f"milestones.{m['type']}", m.get("occurred_at"))
                    if when is not None and (column not in times or when < times[column]):
                        times[column] = when
            times.setdefault("impact_start", rec.when("started_at"))
            if times.get("detected") is None:
                times["detected"] = rec.when("created_at", "started_at", required=True)
            customers = rec.integer("customers_impacted")
            if rec.problems:
                return None
            services = rec.names("services")
            return _row(ext_id, rec.raw("number"), rec.raw("name"), rec.raw("severity"), times,
                        services[0] if services else None, customers, ctx,
                        rec.raw("current_milestone"), rec.raw("incident_url"))

        notes = ["FireHydrant milestones map to the canonical timeline (first_action = mitigation "
                 "started)."]
        what = "a FireHydrant incidents payload"
        return read_records(self.name, path, ctx, loaded.records("data", what=what), to_row,
                            loaded.notes + notes, loaded.encoding, what)


def _cell_list(value: str | None) -> list[str]:
    """A list cell as json-2-csv writes it (["api","web"]; older versions [api;web]), or a
    comma-separated one."""
    if not value:
        return []
    text = value.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            items = re.split(r"[;,]", text.strip("[]"))
        if isinstance(items, list):
            return [str(i).strip() for i in items if str(i).strip()]
    return [p.strip() for p in text.split(",") if p.strip()]


class FireHydrantCsv:
    """FireHydrant incidents as CSV: FireHydrant's own exporter (firehydrant/csv-incident-parser:
    `number, name, severity, environment, functionality, service, started, detected,
    acknowledged, first_action, mitigated, resolved, opened_at, started_by, elapsed_time,
    customers_impacted, incident_commander, tickets, slack`, lists written by json-2-csv), and
    the `<milestone>_at` shape (`id, started_at, detected_at, ...`)."""

    name = "firehydrant-csv"
    kind = "incidents"
    description = "FireHydrant incidents CSV export"

    def detect(self, head: str, path: Path) -> bool:
        cols = {c.lower() for c in header_cells(head)}
        at_shape = {"name", "started_at"} <= cols and bool(
            cols & {"mitigated_at", "first_action_at", "current_milestone"})
        parser_shape = {"number", "name", "started", "opened_at"} <= cols and bool(
            cols & {"mitigated", "first_action", "incident_commander", "started_by"})
        return at_shape or parser_shape

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        text, encoding = read_text(path)
        header, records = csv_records(text, path.name)
        header = [h.lower() for h in header]
        if not {"started_at", "created_at", "started", "opened_at"} & set(header):
            raise ImportError_(f"{path.name}: not a FireHydrant CSV: no column 'started_at' "
                               "or 'started'")
        rows, problems = [], []
        # FireHydrant's exporter (json-2-csv) writes a null field as 'null'
        for line, rec in csv_rows(path, header, records, ctx, problems, blanks=("", "null")):
            ext_id = rec.text("id") or rec.text("incident_id") or rec.text("number", required=True)
            times = {}
            for milestone, column in MILESTONES.items():
                name = f"{milestone}_at" if f"{milestone}_at" in header else milestone
                value = rec.time(name, parse_instant, INSTANT)
                if value is not None:
                    times[column] = value
            if "detected" not in times:
                times["detected"] = (rec.time("created_at", parse_instant, INSTANT)
                                     or rec.time("opened_at", parse_instant, INSTANT)
                                     or times.get("impact_start"))
                if times["detected"] is None:
                    rec.fail("started_at" if "started_at" in header else "started",
                             f"a timestamp ({INSTANT})")
            customers = rec.integer("customers_impacted")
            if rec.problems:
                problems.extend(rec.problems)
                continue
            services = _cell_list(rec.raw("services") or rec.raw("service"))
            rows.append({**_row(ext_id, rec.raw("number"), rec.raw("name"), rec.raw("severity"),
                                times, services[0] if services else None, customers, ctx,
                                rec.raw("current_milestone"), rec.raw("incident_url")),
                         "provenance": f"{path.name}:{line}"})
        notes = ["FireHydrant milestone columns map to the canonical timeline."]
        if "elapsed_time" in header or "tickets" in header:
            notes.append("elapsed_time and tickets are not read: FireHydrant's CSV exporter writes "
                         "a fixed elapsed_time and a ticket's name (or 'none'), not a count.")
        if "number" in header and "id" not in header:
            notes.append("The CSV names incidents by number: they do not de-duplicate with the "
                         "API JSON, which names them by id.")
        return finish(self.name, "incidents", path, rows, problems, notes, encoding, len(records))
