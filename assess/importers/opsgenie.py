"""Opsgenie alerts and incidents, as its REST API returns them (docs.opsgenie.com, Alert API and
Incident API): `{"data": [...], "paging": {...}, "took", "requestId"}`.

Alert: `id`, `tinyId`, `message`, `status` (open/closed), `acknowledged`, `createdAt`, `updatedAt`,
`priority` (P1..P5), `tags`, `entity`, `report: {ackTime, closeTime}` where ackTime and closeTime
are milliseconds after creation. Incident: `id`, `tinyId`, `message`, `status` (open/resolved/
closed), `priority`, `createdAt`, `impactStartDate`, `impactEndDate`, `tags`. Timestamps are ISO 8601
or, in some payloads (webhooks, older exports), epoch milliseconds: both are read.

Mapping: createdAt -> detected; ackTime -> acknowledged; closeTime -> resolved (alerts);
impactStartDate -> impact start and impactEndDate -> mitigated (incidents); service from the
`entity` field or a `service:<name>` tag.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .base import ReadContext, ReadResult
from .jsonapi import JsonRecord, has_keys, load_json, read_records
from .rows import incident, map_severity


def _service(rec: JsonRecord) -> str | None:
    for tag in rec.get("tags") or []:
        if isinstance(tag, str) and tag.lower().startswith("service:"):
            return tag.split(":", 1)[1].strip() or None
    return rec.first("entity")


class OpsgenieJson:
    name = "opsgenie-json"
    kind = "incidents"
    description = "Opsgenie alerts or incidents API JSON"

    def detect(self, head: str, path: Path) -> bool:
        return has_keys(head, "tinyId") and (has_keys(head, "data") or has_keys(head, "createdAt"))

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        loaded = load_json(path)

        def to_row(rec: JsonRecord):
            ext_id = rec.text("id", required=True)
            created = rec.when("createdAt", required=True)
            is_alert = rec.get("report") is not None or rec.get("acknowledged") is not None
            ack_ms = rec.number("report.ackTime")
            close_ms = rec.number("report.closeTime")
            impact_start = rec.when("impactStartDate")
            impact_end = rec.when("impactEndDate")
            original = rec.raw("priority")
            if rec.problems:
                return None
            acknowledged = resolved = None
            if created is not None and ack_ms:
                acknowledged = created + dt.timedelta(milliseconds=ack_ms)
            status = (rec.raw("status") or "").lower()
            if created is not None and close_ms and status in ("closed", "resolved"):
                resolved = created + dt.timedelta(milliseconds=close_ms)
            if resolved is None and status in ("closed", "resolved"):
                resolved = impact_end or rec.when("updatedAt")
            return incident(
                "opsgenie", ext_id,
                title=rec.first("message") or f"Opsgenie {rec.raw('tinyId') or ext_id}",
                severity=map_severity(original, ctx.severity_map) if original else None,
                severity_original=original, service=_service(rec),
                impact_start=impact_start, detected=created, acknowledged=acknowledged,
                mitigated=impact_end, resolved=resolved,
                detection_source="alert" if is_alert else None,
                status="resolved" if resolved is not None else status or None,
            )

        notes = ["Opsgenie ackTime/closeTime are milliseconds after creation; epoch-millisecond "
                 "timestamps are read as UTC."]
        what = "an Opsgenie alerts or incidents payload"
        return read_records(self.name, path, ctx, loaded.records("data", what=what), to_row,
                            loaded.notes + notes, loaded.encoding, what)
