"""PagerDuty's incidents CSV download (Analytics/Reports > Incidents > Download CSV).

Columns, as PagerDuty exports them: id, incident_number, description, service_id, service_name,
escalation_policy_id, escalation_policy_name, created_on, resolved_on, seconds_to_first_ack,
seconds_to_resolve, auto_resolved, escalation_count, auto_escalation_count, acknowledge_count,
assignment_count, acknowledged_by_user_ids, acknowledged_by_user_names, assigned_to_user_ids,
assigned_to_user_names, resolved_by_user_id, resolved_by_user_name, urgency, and on accounts with
priorities, priority. Timestamps are ISO 8601 with the account's offset (2024-05-11T15:26:04-07:00).

Mapping: created_on is when PagerDuty opened the incident, so it is `detected` (an alert detected
it); acknowledged = created_on + seconds_to_first_ack; resolved = created_on + seconds_to_resolve
(PagerDuty's own duration; a resolved_on that disagrees by more than a minute is named in the
notes), else resolved_on. Severity from priority (P1..P5) when set, otherwise from urgency (high/low).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import columnar
from .base import (
    ImportError_,
    ReadContext,
    ReadResult,
    check_size,
    csv_records,
    head_text,
    header_cells,
    parse_iso,
    read_text,
)
from .jsonapi import JsonRecord, has_keys, load_json, read_records
from .rows import csv_rows, earliest, finish, incident, map_severity

NAME = "pagerduty-csv"
REQUIRED = ("id", "description", "created_on")
ISO = "ISO 8601 such as 2024-05-11T15:26:04-07:00"
NOTE = ("PagerDuty incidents are opened by alerts: detection source is 'alert' and impact start is "
        "not in the export (MTTD needs postmortem timelines).")


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
        check_size(path)
        if path.stat().st_size >= columnar.FAST_PATH_BYTES:
            result = self.read_fast(path, ctx)
            if result is not None:
                return result
        return self.read_rows(path, ctx)

    def read_fast(self, path: Path, ctx: ReadContext) -> ReadResult | None:
        """The columnar path (pyarrow); None when the file needs the row reader."""
        import pyarrow as pa
        import pyarrow.compute as pc

        header = header_cells(head_text(path))
        if any(c not in header for c in REQUIRED):
            return None
        cols = columnar.text_columns(path, header, [
            "id", "description", "incident_key", "created_on", "resolved_on", "seconds_to_first_ack",
            "seconds_to_resolve", "priority", "urgency", "service_name", "status"],
            typed=("created_on", "resolved_on", "seconds_to_first_ack", "seconds_to_resolve"))
        if cols is None or cols["id"].null_count or cols["created_on"].null_count:
            return None
        n = len(cols["id"])
        text_null = pa.nulls(n, pa.string())
        time_null = pa.nulls(n, pa.timestamp("us", "UTC"))
        converted = {}
        for name, convert in (("created_on", columnar.instants), ("resolved_on", columnar.instants),
                              ("seconds_to_first_ack", columnar.numbers),
                              ("seconds_to_resolve", columnar.numbers)):
            if name in cols:
                converted[name] = convert(cols[name])
                if converted[name] is None:
                    return None
        created = converted["created_on"]

        def after(seconds):  # created + a number of seconds, to the microsecond
            micros = pc.cast(pc.round(pc.multiply(seconds, 1e6)), pa.int64())
            return pc.cast(pc.add(pc.cast(created, pa.int64()), micros), pa.timestamp("us", "UTC"))

        resolved = converted.get("resolved_on", time_null)
        notes = [NOTE]
        if "seconds_to_resolve" in converted:
            by_duration = after(converted["seconds_to_resolve"])
            gap = pc.abs(pc.subtract(pc.cast(resolved, pa.int64()),
                                     pc.cast(by_duration, pa.int64())))
            off = pc.fill_null(pc.greater(gap, 60_000_000), False)
            if pc.any(off).as_py():
                shown = pc.filter(cols["id"], off).to_pylist()
                notes.append(_disagree_note(len(shown), [f"{i}" for i in shown[:10]], "row"))
            resolved = pc.coalesce(by_duration, resolved)
        acknowledged = (after(converted["seconds_to_first_ack"])
                        if "seconds_to_first_ack" in converted else time_null)
        original = pc.coalesce(cols.get("priority", text_null), cols.get("urgency", text_null))
        uniques = pc.unique(original).drop_null()
        mapped = pa.array([map_severity(v, ctx.severity_map) for v in uniques.to_pylist()],
                          pa.string())
        severity = pc.take(mapped, pc.index_in(original, value_set=uniques))
        ids = cols["id"]
        title = pc.coalesce(cols["description"], cols.get("incident_key", text_null),
                            pc.binary_join_element_wise("Incident", ids, " "))
        status = pc.if_else(pc.is_valid(resolved), "resolved",
                            pc.coalesce(cols.get("status", text_null), pa.scalar("open")))
        text = columnar.to_pandas_text
        frame = columnar.frame(n, {
            "key": text(pc.binary_join_element_wise("pagerduty", ids, ":")),
            "source": "pagerduty", "external_id": text(ids), "title": text(title),
            "severity": text(severity), "severity_original": text(original),
            "service": text(cols.get("service_name", text_null)),
            "detected": created.to_pandas(), "acknowledged": acknowledged.to_pandas(),
            "resolved": resolved.to_pandas(), "detection_source": "alert",
            "status": text(status), "provenance": columnar.line_labels(path.name, n),
        })
        return finish(NAME, "incidents", path, frame, [], notes, "UTF-8", n)

    def read_rows(self, path: Path, ctx: ReadContext) -> ReadResult:
        """The row-by-row reader: every cell checked, every rejected row reported."""
        text, encoding = read_text(path)
        header, records = csv_records(text, path.name)
        problems = []
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ImportError_(f"{path.name}: not a PagerDuty incidents CSV: no column(s) {missing}")
        rows, disagree = [], []
        for line, rec in csv_rows(path, header, records, ctx, problems):
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
            if to_resolve is not None:  # PagerDuty's own duration wins, a disagreement is named
                by_duration = created + dt.timedelta(seconds=to_resolve)
                if resolved is not None and abs((resolved - by_duration).total_seconds()) > 60:
                    disagree.append(f"{ext_id} (line {line})")
                resolved = by_duration
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
        notes = [NOTE]
        if disagree:
            notes.append(_disagree_note(len(disagree), disagree[:10], "row"))
        return finish(NAME, "incidents", path, rows, problems, notes, encoding, len(records))


def _disagree_note(count: int, shown: list[str], unit: str) -> str:
    more = f"; and {count - len(shown)} more" if count > len(shown) else ""
    return (f"{count} {unit}(s) whose resolved time disagrees with PagerDuty's own "
            "seconds_to_resolve by more than a minute: resolved is taken as created + "
            f"seconds_to_resolve ({', '.join(shown)}{more}).")


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
        rest = has_keys(head, "incident_number") and (
            has_keys(head, "urgency") or has_keys(head, "escalation_policy"))
        analytics = has_keys(head, "seconds_to_resolve") and has_keys(head, "created_at")
        return rest or analytics

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        loaded = load_json(path)
        what = "a PagerDuty incidents payload"
        zones: set[str] = set()

        def envelope(page: dict) -> None:
            if isinstance(page.get("time_zone"), str) and page["time_zone"].strip():
                zones.add(page["time_zone"].strip())

        records = loaded.records("incidents", "data", single=("incident",), what=what,
                                 extra=envelope)
        if len(zones) > 1:
            raise ImportError_(f"{path.name}: its pages name different time zones "
                               f"({', '.join(sorted(zones))}); export them with one time_zone")
        zone = next(iter(zones), None)
        if zone:
            try:
                ctx = replace(ctx, timezone=ZoneInfo(zone).key)
            except (ZoneInfoNotFoundError, ValueError):
                raise ImportError_(f"{path.name}: time_zone {zone!r} is not an IANA time zone "
                                   "such as Etc/UTC") from None
        disagree: list[str] = []

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
            if to_resolve is not None:
                # PagerDuty's own duration wins over a resolved_at that disagrees with it
                by_duration = created + dt.timedelta(seconds=to_resolve)
                if resolved is not None and abs((resolved - by_duration).total_seconds()) > 60:
                    gap = (resolved - created).total_seconds()
                    disagree.append(
                        f"record {rec.row} ({ext_id}): resolved_at is {abs(gap):.0f} s "
                        f"{'after' if gap >= 0 else 'before'} created_at, seconds_to_resolve "
                        f"says {to_resolve:.0f} s")
                resolved = by_duration
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

        notes = ["PagerDuty incidents are opened by alerts: detection source is 'alert'."]
        result = read_records(self.name, path, ctx, records, to_row, loaded.notes + notes,
                              loaded.encoding, what, zone_named=zone and f"{zone} (time_zone)")
        if disagree:
            result.notes.append(
                f"{len(disagree)} record(s) whose resolved_at disagrees with PagerDuty's own "
                "seconds_to_resolve by more than a minute: resolved is taken as created_at + "
                "seconds_to_resolve. " + "; ".join(disagree[:10])
                + (f"; and {len(disagree) - 10} more" if len(disagree) > 10 else ""))
        return result
