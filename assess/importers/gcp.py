"""Google Cloud's public status `incidents.json` (status.cloud.google.com/incidents.json).

A list of incidents: `id`, `number`, `begin`, `created`, `end`, `modified`, `external_desc`,
`updates[]` (`created`, `when`, `text`, `status`), `most_recent_update`, `status_impact`
(SERVICE_INFORMATION, SERVICE_DISRUPTION, SERVICE_OUTAGE), `severity` (low, medium, high),
`service_name`, `affected_products[]` (`title`, `id`), `uri`.

Mapping: begin -> impact start, created -> detected, end -> resolved, the first update whose
status is AVAILABLE -> mitigated (its posting time: `end` when it was posted after `end`, noted);
status_impact -> impact (outage, partial, degraded); severity through the `gcp` mapping; service =
service_name, or the first affected product.
"""

from __future__ import annotations

from pathlib import Path

from .base import ReadContext, ReadResult
from .jsonapi import JsonRecord, has_keys, load_json, read_records
from .rows import earliest, incident, map_severity

IMPACT = {"SERVICE_OUTAGE": "outage", "SERVICE_DISRUPTION": "partial",
          "SERVICE_INFORMATION": "degraded"}


class GcpIncidentsJson:
    name = "gcp-json"
    kind = "incidents"
    description = "Google Cloud status incidents.json"

    def detect(self, head: str, path: Path) -> bool:
        return has_keys(head, "status_impact", "external_desc")

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        loaded = load_json(path)

        capped: list[str] = []

        def to_row(rec: JsonRecord):
            ext_id = rec.text("id", required=True)
            begin = rec.when("begin")
            created = rec.when("created", "begin", required=True)
            end = rec.when("end")
            available = [rec.parse("updates.when", u.get("when") or u.get("created"))
                         for u in rec.get("updates") or []
                         if isinstance(u, dict) and u.get("status") == "AVAILABLE"]
            original = rec.raw("severity")
            if rec.problems:
                return None
            products = rec.names("affected_products", "title")
            service = rec.raw("service_name")
            if service in (None, "Multiple Products") and products:
                service = products[0]
            uri = rec.raw("uri")
            mitigated = earliest(*available)
            if mitigated is not None and end is not None and mitigated > end:
                # the AVAILABLE update was posted after the incident's end: the impact was over
                # by `end`, the update only says so
                capped.append(ext_id)
                mitigated = end
            return incident(
                "gcp", ext_id,
                title=rec.first("external_desc") or f"Incident {ext_id}",
                severity=map_severity(original, ctx.severity_map) if original else None,
                severity_original=original, service=service,
                impact_start=begin, detected=created, mitigated=mitigated, resolved=end,
                impact=IMPACT.get(rec.raw("status_impact") or ""),
                postmortem_url=f"https://status.cloud.google.com/{uri}" if uri else None,
            )

        notes = ["Public status-page incidents: detection source is not recorded."]
        what = "a Google Cloud incidents.json"
        result = read_records(self.name, path, ctx, loaded.records(what=what), to_row,
                              loaded.notes + notes, loaded.encoding, what)
        if capped:
            result.notes.append(
                f"{len(capped)} incident(s) whose first AVAILABLE update was posted after their "
                "`end`: mitigated is taken as `end` (the update reports an impact already over); "
                + ", ".join(capped[:10]) + (f" and {len(capped) - 10} more" if len(capped) > 10
                                             else "") + ".")
        return result
