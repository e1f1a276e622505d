"""incident.io's API v2 incidents (api-docs.incident.io, "List Incidents V2"):
`{"incidents": [{"id", "reference" (INC-123), "name", "summary", "created_at", "updated_at",
"mode" (standard/retrospective/test/tutorial), "severity": {"name", "rank"},
"incident_status": {"name", "category" (triage/live/learning/closed/declined/merged/canceled)},
"incident_timestamp_values": [{"incident_timestamp": {"name"}, "value": {"value"}}],
"custom_field_entries": [{"custom_field": {"name"}, "values": [...]}],
"postmortem_document_url"}], "pagination_meta": {...}}`.

Mapping of the organisation's timestamps, by name (case-insensitive): "Impact started" -> impact
start, "Reported"/"Detected" -> detected (else created_at), "Accepted"/"Acknowledged" ->
acknowledged, "Fixed"/"Mitigated" -> mitigated, "Resolved" -> resolved. Custom fields named like
"Affected services"/"Service", "Root cause", "Customers affected" fill those fields. Test and
tutorial incidents, and declined, merged or cancelled ones, are skipped and counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import ReadContext, ReadResult
from .jsonapi import JsonRecord, has_keys, load_json, read_records
from .rows import incident, map_severity

TIMESTAMPS = {
    "impact_start": ("impact started", "impact start", "started"),
    "detected": ("reported", "detected", "reported at"),
    "acknowledged": ("accepted", "acknowledged"),
    "mitigation_started": ("mitigation started",),
    "mitigated": ("fixed", "mitigated", "fixed at", "mitigated at"),
    "resolved": ("resolved", "resolved at"),
}
SKIP_CATEGORIES = ("declined", "merged", "canceled", "cancelled")


def _field_text(entry: dict[str, Any]) -> str | None:
    for value in entry.get("values") or []:
        if not isinstance(value, dict):
            continue
        for key in ("value_catalog_entry", "value_option"):
            inner = value.get(key)
            if isinstance(inner, dict):
                text = inner.get("name") or inner.get("value")
                if text:
                    return str(text)
        for key in ("value_text", "value_numeric", "value_link"):
            if value.get(key) not in (None, ""):
                return str(value[key])
    return None


class IncidentIoJson:
    name = "incidentio-json"
    kind = "incidents"
    description = "incident.io API v2 incidents JSON"

    def detect(self, head: str, path: Path) -> bool:
        return has_keys(head, "incident_status") or has_keys(head, "incident_timestamp_values")

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        loaded = load_json(path)

        def to_row(rec: JsonRecord):
            if (rec.raw("mode") or "").lower() in ("test", "tutorial"):
                return None
            if (rec.raw("incident_status.category") or "").lower() in SKIP_CATEGORIES:
                return None
            ext_id = rec.text("id", required=True)
            created = rec.when("created_at", required=True)
            times: dict[str, Any] = {}
            for item in rec.get("incident_timestamp_values") or []:
                if not isinstance(item, dict):
                    continue
                name = str((item.get("incident_timestamp") or {}).get("name", "")).strip().lower()
                value = (item.get("value") or {}).get("value")
                for column, names in TIMESTAMPS.items():
                    if name in names and column not in times:
                        times[column] = rec.parse(f"timestamp '{name}'", value)
            fields = {}
            for entry in rec.get("custom_field_entries") or []:
                if isinstance(entry, dict):
                    name = str((entry.get("custom_field") or {}).get("name", "")).lower()
                    fields[name] = _field_text(entry)
            service = next((v for k, v in fields.items() if "service" in k and v), None)
            customers = next((v for k, v in fields.items() if "customers" in k and v), None)
            customers_n = None
            if customers is not None:
                digits = customers.replace(",", "").replace(" ", "")
                if digits.isdigit():
                    customers_n = int(digits)
                else:
                    rec.fail("custom field 'Customers affected'", "a whole number", customers)
            original = rec.first("severity.name")
            if rec.problems:
                return None
            category = (rec.raw("incident_status.category") or "").lower()
            resolved = times.get("resolved")
            if resolved is None and category in ("closed", "learning"):
                resolved = rec.when("closed_at", "updated_at")
            return incident(
                "incidentio", ext_id,
                title=rec.first("name") or rec.raw("reference") or ext_id,
                severity=map_severity(original, ctx.severity_map) if original else None,
                severity_original=original, service=service,
                impact_start=times.get("impact_start"),
                detected=times.get("detected") or created,
                acknowledged=times.get("acknowledged"),
                mitigation_started=times.get("mitigation_started"),
                mitigated=times.get("mitigated"), resolved=resolved,
                customers_affected=customers_n,
                root_cause=next((v for k, v in fields.items() if "root cause" in k and v), None),
                postmortem_url=rec.raw("postmortem_document_url"),
                status="resolved" if resolved is not None else category or None,
            )

        notes = ["incident.io timestamps are matched by name (Impact started, Reported, Accepted, "
                 "Fixed, Resolved); unknown names are ignored."]
        what = "an incident.io incidents payload"
        return read_records(self.name, path, ctx, loaded.records("incidents", what=what), to_row,
                            loaded.notes + notes, loaded.encoding, what)
