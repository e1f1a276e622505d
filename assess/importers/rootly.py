"""Rootly's API incidents (docs.rootly.com, JSON:API): `{"data": [{"id", "type": "incidents",
"attributes": {"title", "sequential_id", "kind", "status", "started_at", "detected_at",
"acknowledged_at", "mitigated_at", "resolved_at", "created_at", "url", "severity": {"data":
{"attributes": {"name", "severity"}}}, "services": {"data": [{"attributes": {"name"}}]},
"customer_impact_summary", "retrospective_progress_status"}}], "meta": {...}}`.

Mapping: the five milestone timestamps map one to one (detected_at, else created_at, is detected);
severity from the severity's name (SEV0..SEV4) or level (critical/high/medium/low); service is the
first service. Test and example incidents (`kind`) are skipped and counted.
"""

from __future__ import annotations

from pathlib import Path

from .base import ReadContext, ReadResult
from .jsonapi import JsonRecord, has_keys, load_json, read_records
from .rows import incident, map_severity


class RootlyJson:
    name = "rootly-json"
    kind = "incidents"
    description = "Rootly API incidents (JSON:API)"

    def detect(self, head: str, path: Path) -> bool:
        return has_keys(head, "attributes") and '"incidents"' in head and (
            has_keys(head, "started_at") or has_keys(head, "sequential_id"))

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        loaded = load_json(path)

        def to_row(rec: JsonRecord):
            if rec.raw("type") not in (None, "incidents"):
                return None
            kind = (rec.raw("attributes.kind") or "normal").lower()
            if kind.startswith(("test", "example")):
                return None
            ext_id = rec.text("id", required=True)
            a = "attributes."
            started = rec.when(a + "started_at")
            detected = rec.when(a + "detected_at", a + "created_at", required=True)
            acknowledged = rec.when(a + "acknowledged_at")
            mitigated = rec.when(a + "mitigated_at")
            resolved = rec.when(a + "resolved_at")
            name = rec.first(a + "severity.data.attributes.name", a + "severity.name")
            level = rec.first(a + "severity.data.attributes.severity", a + "severity.severity")
            if rec.problems:
                return None
            severity = None
            for candidate in (name, level):
                if candidate and severity is None:
                    severity = map_severity(candidate, ctx.severity_map)
            services = rec.get(a + "services.data") or rec.get(a + "services") or []
            service = None
            for s in services if isinstance(services, list) else []:
                if isinstance(s, dict):
                    service = (s.get("attributes") or {}).get("name") or s.get("name")
                    if service:
                        break
            return incident(
                "rootly", ext_id,
                title=rec.first(a + "title") or f"Incident {ext_id}",
                severity=severity, severity_original=name or level, service=service,
                impact_start=started, detected=detected, acknowledged=acknowledged,
                mitigated=mitigated, resolved=resolved, status=rec.raw(a + "status"),
            )

        notes = ["Rootly milestones (started, detected, acknowledged, mitigated, resolved) map one "
                 "to one."]
        what = "a Rootly incidents payload"
        return read_records(self.name, path, ctx, loaded.records("data", what=what), to_row,
                            loaded.notes + notes, loaded.encoding, what)
