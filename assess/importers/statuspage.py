"""Atlassian Statuspage: the public API's `/api/v2/incidents.json` and `/api/v2/summary.json`,
the management API's incident list, and a status page's Atom or RSS history feed
(`/history.atom`, `/history.rss`).

JSON (developer.statuspage.io): `{"page": {"time_zone"}, "incidents": [{"id", "name", "status",
"impact" (none/minor/major/critical), "created_at", "started_at", "monitoring_at", "resolved_at",
"shortlink", "incident_updates": [{"status", "body", "created_at"}], "components": [{"name"}],
"postmortem_published_at"}]}`. Timestamps carry the page's own offset (2019-02-20T12:00:19-06:00)
and are converted to UTC.

Mapping: started_at (else created_at) -> impact start, created_at -> detected, the first update in
`identified` -> acknowledged, monitoring_at -> mitigated, resolved_at -> resolved; impact critical ->
outage, major -> partial, minor -> degraded. A status page is written for customers, so detection
source is not known from it.

Feeds: one entry per incident, `<title>`, `<published>`/`<pubDate>`, `<updated>`, `<link>`, and an
HTML body listing each update as `<small>Feb <var data-var='date'>18</var>, <var
data-var='time'>10:57</var> UTC</small><br><strong>Resolved</strong> - ...`. Those update times
give detected (first update), mitigated (Monitoring) and resolved (Resolved).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .base import ImportError_, ReadContext, ReadResult, read_text
from .jsonapi import JsonRecord, has_keys, load_json, read_records, records_at
from .rows import earliest, incident, map_severity

IMPACT = {"critical": "outage", "major": "partial", "minor": "degraded", "none": "none"}


class StatuspageJson:
    name = "statuspage-json"
    kind = "incidents"
    description = "Atlassian Statuspage incidents.json or summary.json"

    def detect(self, head: str, path: Path) -> bool:
        return has_keys(head, "incidents") and (
            has_keys(head, "incident_updates") or has_keys(head, "shortlink")
            or (has_keys(head, "page", "time_zone") and has_keys(head, "components")))

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        payload, encoding = load_json(path)

        def to_row(rec: JsonRecord):
            if rec.raw("scheduled_for") is not None:
                return None  # a scheduled maintenance, not an incident
            ext_id = rec.text("id", required=True)
            created = rec.when("created_at", required=True)
            started = rec.when("started_at")
            updates = [u for u in rec.get("incident_updates") or [] if isinstance(u, dict)]
            identified = [rec.parse("incident_updates.created_at", u.get("created_at"))
                          for u in updates if u.get("status") == "identified"]
            monitoring = rec.when("monitoring_at")
            resolved = rec.when("resolved_at")
            postmortem_at = rec.when("postmortem_published_at")
            original = rec.raw("impact")
            if rec.problems:
                return None
            components = rec.names("components")
            return incident(
                "statuspage", ext_id,
                title=rec.first("name") or f"Incident {ext_id}",
                severity=map_severity(original, ctx.severity_map) if original else None,
                severity_original=original, service=components[0] if components else None,
                impact_start=started or created, detected=created,
                acknowledged=earliest(*identified), mitigated=monitoring, resolved=resolved,
                impact=IMPACT.get(original or ""), postmortem_at=postmortem_at,
                postmortem_url=rec.raw("shortlink") if postmortem_at else None,
                status=rec.raw("status"),
            )

        page_tz = payload.get("page", {}).get("time_zone") if isinstance(payload, dict) else None
        notes = ["Statuspage incidents are written for customers: detection source is not known."]
        if page_tz:
            notes.append(f"The page's time zone is {page_tz}; timestamps carry their offset and "
                         "are stored in UTC.")
        return read_records(self.name, path, ctx, records_at(payload, "incidents", ""), to_row,
                            notes, encoding, "a Statuspage incidents payload")


ATOM = "{http://www.w3.org/2005/Atom}"
_UPDATE = re.compile(
    r"<small>\s*(\w{3})\s*<var data-var=['\"]date['\"]>\s*(\d{1,2})\s*</var>"
    r"(?:,\s*<var data-var=['\"]year['\"]>\s*(\d{4})\s*</var>)?"
    r",\s*<var data-var=['\"]time['\"]>\s*(\d{1,2}:\d{2})\s*</var>\s*UTC\s*</small>"
    r"\s*<br\s*/?>\s*<strong>\s*([^<]+?)\s*</strong>", re.I)


def _updates(body: str, year: int) -> list[tuple[str, dt.datetime]]:
    """(status, time) of each update in a feed entry's HTML body."""
    out = []
    for mon, day, yr, clock, status in _UPDATE.findall(html.unescape(body)):
        when = dt.datetime.strptime(f"{mon} {day} {yr or year} {clock}", "%b %d %Y %H:%M")
        out.append((status.lower(), when.replace(tzinfo=dt.UTC)))
    return out


class StatuspageFeed:
    name = "statuspage-feed"
    kind = "incidents"
    description = "Status page history feed (Atom or RSS)"

    def detect(self, head: str, path: Path) -> bool:
        start = head.lstrip()[:400]
        return start.startswith("<") and ("<feed" in head or "<rss" in head)

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        text, encoding = read_text(path)
        if re.search(r"<!(DOCTYPE|ENTITY)", text, re.I):
            raise ImportError_(f"{path.name}: the feed declares a DOCTYPE or entities, which a "
                               "status page feed never needs; refused for safety")
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            line, col = exc.position
            raise ImportError_(f"{path.name}, line {line}, column {col}: not well-formed XML "
                               f"({exc}); nothing was imported") from None
        if root.tag == f"{ATOM}feed":
            entries = [{
                "id": e.findtext(f"{ATOM}id"), "title": e.findtext(f"{ATOM}title"),
                "published": e.findtext(f"{ATOM}published"), "updated": e.findtext(f"{ATOM}updated"),
                "link": (e.find(f"{ATOM}link").get("href") if e.find(f"{ATOM}link") is not None
                         else None),
                "body": e.findtext(f"{ATOM}content") or e.findtext(f"{ATOM}summary") or "",
            } for e in root.iter(f"{ATOM}entry")]
        elif root.tag == "rss":
            entries = [{
                "id": i.findtext("guid") or i.findtext("link"), "title": i.findtext("title"),
                "published": i.findtext("pubDate"), "updated": None, "link": i.findtext("link"),
                "body": i.findtext("description") or "",
            } for i in root.iter("item")]
        else:
            raise ImportError_(f"{path.name}: an XML file, but neither an Atom nor an RSS feed")

        def to_row(rec: JsonRecord):
            ext_id = rec.text("id", required=True)
            published = rec.when("published", required=True)
            updated = rec.when("updated")
            if rec.problems:
                return None
            year = (updated or published).year
            updates = _updates(rec.raw("body") or "", year)
            times = {}
            for status, when in updates:
                times.setdefault(status, []).append(when)
            first = min((w for _, w in updates), default=published)
            link = rec.raw("link") or ""
            if "/incidents/" in link:  # the same id as the JSON API's, so both dedupe together
                ext_id = link.rstrip("/").rsplit("/", 1)[-1]
            resolved = max(times["resolved"]) if "resolved" in times else None
            return incident(
                "statuspage", ext_id, title=rec.raw("title") or f"Incident {ext_id}",
                impact_start=first, detected=first,
                acknowledged=min(times["identified"]) if "identified" in times else None,
                mitigated=min(times["monitoring"]) if "monitoring" in times else None,
                resolved=resolved,
                status="resolved" if resolved is not None else (updates[0][0] if updates else None),
            )

        notes = ["Status page feeds carry no severity or impact level: severity is left unset. "
                 "Update times are read from each entry's body (UTC)."]
        return read_records(self.name, path, ctx, entries, to_row, notes, encoding,
                            "a status page feed")

