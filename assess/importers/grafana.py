"""Grafana OnCall alert groups (grafana.com/docs/oncall, "Alert groups HTTP API"):
`{"count", "next", "previous", "results": [{"id", "integration_id", "route_id", "alerts_count",
"state", "created_at", "resolved_at", "acknowledged_at", "title", "permalinks", "silenced_at",
"labels": [{"key": {"name"}, "value": {"name"}}]}]}`.

Mapping: created_at -> detected, acknowledged_at, resolved_at; the severity and service come from
alert-group labels named `severity` and `service` when present (OnCall has no severity field).
"""

from __future__ import annotations

from pathlib import Path

from .base import ReadContext, ReadResult
from .jsonapi import JsonRecord, has_keys, load_json, read_records
from .rows import incident, map_severity


def _label(rec: JsonRecord, name: str) -> str | None:
    for label in rec.get("labels") or []:
        if not isinstance(label, dict):
            continue
        key, value = label.get("key"), label.get("value")
        key = key.get("name") if isinstance(key, dict) else key
        value = value.get("name") if isinstance(value, dict) else value
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return None


class GrafanaOnCallJson:
    name = "grafana-oncall-json"
    kind = "incidents"
    description = "Grafana OnCall alert groups JSON"

    def detect(self, head: str, path: Path) -> bool:
        return has_keys(head, "alerts_count", "integration_id")

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        loaded = load_json(path)

        def to_row(rec: JsonRecord):
            ext_id = rec.text("id", required=True)
            created = rec.when("created_at", required=True)
            acknowledged = rec.when("acknowledged_at")
            resolved = rec.when("resolved_at")
            if rec.problems:
                return None
            original = _label(rec, "severity")
            return incident(
                "grafana-oncall", ext_id,
                title=rec.first("title") or f"Alert group {ext_id}",
                severity=map_severity(original, ctx.severity_map) if original else None,
                severity_original=original,
                service=_label(rec, "service") or rec.raw("integration_id"),
                detected=created, acknowledged=acknowledged, resolved=resolved,
                detection_source="alert", status=rec.raw("state"),
            )

        notes = ["Grafana OnCall alert groups carry no severity unless labelled 'severity'."]
        what = "a Grafana OnCall alert groups payload"
        return read_records(self.name, path, ctx, loaded.records("results", what=what), to_row,
                            loaded.notes + notes, loaded.encoding, what)
