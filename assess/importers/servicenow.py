"""ServiceNow incident CSV export (list view > Export > CSV, or the incident audit/event log):
`number`, `incident_state`, `opened_at`, `resolved_at`, `closed_at`, `sys_updated_at`, `priority`
("1 - Critical" .. "5 - Planning"), `impact`, `urgency`, `category`, `subcategory`, `cmdb_ci`,
`contact_type`, `short_description`, `made_sla`... '?' or an empty cell means no value.

An event-log export has one row per update of an incident, so `number` repeats: one incident per
`number` is kept, its latest state (latest `sys_updated_at`, then the last row). Dates are written
without an offset in the instance's format (dd-mm-yyyy HH:MM here, often yyyy-mm-dd HH:MM:SS): the
day/month order is decided from the whole file and read in the engagement's time zone.

Mapping: opened_at -> detected, resolved_at (else closed_at) -> resolved, cmdb_ci (else category)
-> service, short_description (else category / subcategory) -> title; contact_type phone, email,
self-service or walk-in -> detection source "customer", monitoring/event/alert -> "alert".
"""

from __future__ import annotations

from pathlib import Path

from .base import (
    ImportError_,
    ReadContext,
    ReadResult,
    csv_records,
    date_parser,
    header_cells,
    read_text,
    zone_note,
)
from .rows import csv_rows, finish, incident

NAME = "servicenow-csv"
DATES = ("opened_at", "resolved_at", "closed_at", "sys_updated_at")
CUSTOMER = ("phone", "email", "self service", "self-service", "walk-in", "chat", "portal")
ALERT = ("monitoring", "event", "alert", "integration")


class ServiceNowCsv:
    name = NAME
    kind = "incidents"
    description = "ServiceNow incident CSV (one row per incident, or per update)"

    def detect(self, head: str, path: Path) -> bool:
        cols = set(header_cells(head))
        return {"number", "opened_at"} <= cols and bool(cols & {"incident_state", "state",
                                                                  "sys_updated_at"})

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        text, encoding = read_text(path)
        header, records = csv_records(text, path.name)
        for col in ("number", "opened_at"):
            if col not in header:
                raise ImportError_(f"{path.name}: not a ServiceNow incident CSV: no column '{col}'")
        idx = [header.index(c) for c in DATES if c in header]
        values = [cells[i].strip() for _, cells in records for i in idx if i < len(cells)]
        parse, expected, note = date_parser(values, ctx, f"{path.name}: dates in {', '.join(DATES)}")
        notes = [n for n in (note, zone_note(values, ctx)) if n]
        latest: dict[str, tuple] = {}
        problems = []
        # ServiceNow's incident exports write '?' for an empty field
        for line, rec in csv_rows(path, header, records, ctx, problems, blanks=("", "?")):
            number = rec.text("number", required=True)
            opened = rec.time("opened_at", parse, expected, required=True)
            resolved = rec.time("resolved_at", parse, expected)
            closed = rec.time("closed_at", parse, expected)
            updated = rec.time("sys_updated_at", parse, expected)
            if rec.problems:
                problems.extend(rec.problems)
                continue
            sort_key = (updated.timestamp() if updated else float("-inf"), line)
            if number not in latest or sort_key >= latest[number][0]:
                latest[number] = (sort_key, rec, opened, resolved or closed, line)
        rows = []
        for number, (_, rec, opened, resolved, line) in latest.items():
            contact = (rec.raw("contact_type") or "").lower()
            source = ("customer" if contact in CUSTOMER else
                      "alert" if any(w in contact for w in ALERT) else "internal" if contact else None)
            severity, original = rec.severity("priority")
            cat = " / ".join(v for v in (rec.raw("category"), rec.raw("subcategory")) if v)
            state = (rec.raw("incident_state") or rec.raw("state") or "").lower() or None
            rows.append(incident(
                "servicenow", number, title=rec.raw("short_description") or cat or number,
                severity=severity, severity_original=original,
                service=rec.raw("cmdb_ci") or rec.raw("category"), detected=opened,
                resolved=resolved if state in ("resolved", "closed", None) or resolved else None,
                detection_source=source, status=state, provenance=f"{path.name}:{line}",
            ))
        repeats = len(records) - len(problems) - len(rows)
        if repeats:
            notes.append(f"{repeats} row(s) are earlier updates of an incident already in the file: "
                         "each incident keeps its latest state.")
        return finish(NAME, "incidents", path, rows, problems, notes, encoding, len(records))
