"""Atlassian Statuspage: the public API's `/api/v2/incidents.json`, `/api/v2/summary.json` and
per-incident `/api/v2/incidents/{id}.json`, the management API's incident list, and a status page's
Atom or RSS history feed (`/history.atom`, `/history.rss`).

JSON (developer.statuspage.io): `{"page": {"time_zone"}, "incidents": [{"id", "name", "status",
"impact" (none/minor/major/critical), "created_at", "started_at", "monitoring_at", "resolved_at",
"shortlink", "incident_updates": [{"status", "body", "created_at", "display_at"}], "components":
[{"name"}], "postmortem_published_at", "scheduled_for"}]}`; one incident is `{"page": ...,
"incident": {...}}`. Timestamps carry the page's own offset (2019-02-20T12:00:19-06:00) and are
converted to UTC. An update's `display_at` is the time shown on the page (back-dated when a team
fills an incident in later); `created_at` is when it was typed.

Mapping: started_at, else the earlier of created_at and the first update shown -> impact start;
created_at -> detected; the first `identified` update -> acknowledged; monitoring_at, else the first
`monitoring` update -> mitigated; resolved_at, else the first `resolved` update -> resolved (update
times: display_at, else created_at). Impact critical -> outage, major -> partial, minor -> degraded.
Scheduled maintenances (`scheduled_for`, or updates scheduled/in_progress/verifying/completed) are
skipped and counted. A status page is written for customers: detection source is not known.

Feeds: one entry per incident, `<title>`, `<published>`/`<pubDate>`, `<updated>`, `<link>`, and an
HTML body listing each update as `<small>Feb <var data-var='date'>18</var>, <var
data-var='time'>10:57</var> UTC</small><br><strong>Resolved</strong> - ...`, the time written in the
page's own zone by its abbreviation (UTC, CET, PST, BST, ...). Those update times give detected
(first update), acknowledged (Identified), mitigated (Monitoring) and resolved (Resolved). A feed
whose entries list no timed updates is not a Statuspage history feed and is refused.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .base import ImportError_, ReadContext, ReadResult, read_text
from .jsonapi import JsonRecord, Skip, has_keys, load_json, read_records
from .rows import earliest, incident, map_severity

IMPACT = {"critical": "outage", "major": "partial", "minor": "degraded", "none": "none"}
MAINTENANCE = {"scheduled", "in_progress", "in progress", "verifying", "completed"}
MAINTENANCE_TITLE = re.compile(r"^\s*(scheduled|planned)\s+maintenance\b", re.I)


class StatuspageJson:
    name = "statuspage-json"
    kind = "incidents"
    description = "Atlassian Statuspage incidents.json, summary.json or one incident's JSON"

    def detect(self, head: str, path: Path) -> bool:
        return has_keys(head, "incident_updates") or (
            has_keys(head, "incidents") and (
                has_keys(head, "shortlink")
                or (has_keys(head, "page", "time_zone") and has_keys(head, "components"))))

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        loaded = load_json(path)
        zones: set[str] = set()
        listed_apart = [0]

        def envelope(page: dict[str, Any]) -> None:
            tz = page.get("page", {}).get("time_zone") if isinstance(page.get("page"), dict) else None
            if isinstance(tz, str):
                zones.add(tz)
            if isinstance(page.get("scheduled_maintenances"), list):
                listed_apart[0] += len(page["scheduled_maintenances"])

        what = "a Statuspage incidents payload"
        records = loaded.records("incidents", single=("incident",), what=what, extra=envelope)

        def to_row(rec: JsonRecord):
            updates = [u for u in rec.get("incident_updates") or [] if isinstance(u, dict)]
            if rec.raw("scheduled_for") is not None or any(
                    str(u.get("status", "")).lower() in MAINTENANCE for u in updates):
                return Skip("scheduled maintenance")
            ext_id = rec.text("id", required=True)
            created = rec.when("created_at", required=True)
            started = rec.when("started_at")
            shown = []  # (status, time shown on the page)
            for u in updates:
                value = u.get("display_at") or u.get("created_at")
                field = "display_at" if u.get("display_at") else "created_at"
                when = rec.parse(f"incident_updates.{field}", value)
                if when is not None:
                    shown.append((str(u.get("status", "")).lower(), when))

            def first(status: str):
                return earliest(*(w for s, w in shown if s == status))

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
                impact_start=started or earliest(created, *(w for _, w in shown)),
                detected=created, acknowledged=first("identified"),
                mitigated=monitoring or first("monitoring"),
                resolved=resolved or first("resolved"),
                impact=IMPACT.get(original or ""), postmortem_at=postmortem_at,
                postmortem_url=rec.raw("shortlink") if postmortem_at else None,
                status=rec.raw("status"),
            )

        notes = ["Statuspage incidents are written for customers: detection source is not known. "
                 "Update times are the ones shown on the page (display_at, else created_at)."]
        if zones:
            notes.append(f"The page's time zone is {', '.join(sorted(zones))}; timestamps carry "
                         "their offset and are stored in UTC.")
        result = read_records(self.name, path, ctx, records, to_row, loaded.notes + notes,
                              loaded.encoding, what)
        if listed_apart[0]:
            result.notes.append(f"{listed_apart[0]} scheduled maintenance(s) listed apart "
                                "(scheduled_maintenances) are not incidents: skipped.")
        return result


# --- history feeds --------------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
_UPDATE = re.compile(
    r"<small>\s*(\w{3})\w*\s*<var data-var=['\"]date['\"]>\s*(\d{1,2})\s*</var>"
    r"(?:,\s*<var data-var=['\"]year['\"]>\s*(\d{4})\s*</var>)?"
    r",\s*<var data-var=['\"]time['\"]>\s*(\d{1,2}:\d{2})\s*</var>\s*([^<]*?)\s*</small>"
    r"\s*<br\s*/?>\s*<strong>\s*([^<]+?)\s*</strong>", re.I)

# Abbreviations Statuspage writes for its page time zones (the tz database's, as Rails prints
# them), with their UTC offsets in minutes. Where one abbreviation means several offsets, the
# first is used only when marked as the default; otherwise the engagement's zone (or --timezone)
# must settle it.
ZONES: dict[str, tuple[int, ...]] = {
    "UTC": (0,), "GMT": (0,), "Z": (0,), "WET": (0,), "WEST": (60,), "BST": (60,),
    "CET": (60,), "CEST": (120,), "MET": (60,), "MEST": (120,), "EET": (120,), "EEST": (180,),
    "MSK": (180,), "WAT": (60,), "CAT": (120,), "SAST": (120,), "EAT": (180,),
    "EST": (-300,), "EDT": (-240,), "CDT": (-300,), "MST": (-420,), "MDT": (-360,),
    "PST": (-480, 480), "PDT": (-420,), "AKST": (-540,), "AKDT": (-480,), "HST": (-600,),
    "AST": (-240,), "ADT": (-180,), "NST": (-210,), "NDT": (-150,),
    "CST": (-360, 480), "IST": (330, 60, 120), "IDT": (180,), "PKT": (300,), "JST": (540,),
    "KST": (540,), "HKT": (480,), "WIB": (420,), "AWST": (480,), "ACST": (570,), "ACDT": (630,),
    "AEST": (600,), "AEDT": (660,), "NZST": (720,), "NZDT": (780,), "ChST": (600,),
    "SST": (-660,),
}
DEFAULT_FOR_AMBIGUOUS = {"PST": -480}  # Pacific; Asia/Manila pages settle through the zone
_NUMERIC = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")


def zone_offset(abbr: str, wall: dt.datetime, ctx: ReadContext) -> dt.timedelta:
    """The UTC offset a Statuspage feed means by a zone abbreviation at a wall-clock time.

    The engagement's zone (or --timezone) settles an abbreviation it uses at that time; numeric
    ones (+03, -0530) are read as written; ValueError names what is ambiguous or unknown."""
    key = abbr.strip()
    engagement_zone = ctx.tz
    if key and engagement_zone.tzname(wall) == key:
        return engagement_zone.utcoffset(wall)
    m = _NUMERIC.match(key)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
    offsets = ZONES.get(key) or ZONES.get(key.upper())
    if not offsets:
        raise ValueError(f"a time zone abbreviation Statuspage writes (UTC, CET, PST, ...); "
                         f"'{key or '(none)'}' is unknown: name the page's zone with --timezone")
    if len(offsets) > 1 and key not in DEFAULT_FOR_AMBIGUOUS:
        choices = ", ".join(_fmt_offset(o) for o in offsets)
        raise ValueError(f"a time zone that --timezone or the engagement settles: '{key}' means "
                         f"UTC{choices.replace(', ', ' or UTC')}")
    minutes = DEFAULT_FOR_AMBIGUOUS.get(key, offsets[0])
    return dt.timedelta(minutes=minutes)


def _fmt_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h:02d}:{m:02d}"


def _updates(rec: JsonRecord, body: str, reference: dt.datetime,
             zones_seen: dict[str, dt.timedelta]) -> list[tuple[str, dt.datetime]]:
    """(status, UTC time) of each update in a feed entry's HTML body.

    A date without a year takes the entry's year, or the year before when that would put it
    after the entry's own date (an incident that spans New Year)."""
    out = []
    for mon, day, yr, clock, zone, status in _UPDATE.findall(html.unescape(body)):
        ref = reference.replace(tzinfo=None)
        wall = None
        for year in ([int(yr)] if yr else [ref.year + 1, ref.year, ref.year - 1]):
            try:
                wall = dt.datetime.strptime(f"{mon} {day} {year} {clock}", "%b %d %Y %H:%M")
            except ValueError:  # Feb 29 of a year without it, or no such month
                continue
            if yr or wall - ref <= dt.timedelta(days=2):  # never well after the entry's date
                break
        if wall is None:
            rec.fail("body", "an update date such as Dec 22, 11:12 CET", f"{mon} {day} {clock}")
            continue
        try:
            offset = zone_offset(zone, wall, rec.ctx)
        except ValueError as exc:
            if not any(str(exc) in p.expected for p in rec.problems):  # once per zone
                rec.fail("body", str(exc), f"{mon} {day}, {clock} {zone}".strip())
            continue
        zones_seen[zone.strip() or "(none)"] = offset
        out.append((status.lower(), (wall - offset).replace(tzinfo=dt.UTC)))
    return out


class StatuspageFeed:
    name = "statuspage-feed"
    kind = "incidents"
    description = "Statuspage history feed (Atom or RSS)"

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
        timed = sum(bool(_UPDATE.search(html.unescape(e["body"] or ""))) for e in entries)
        if entries and not timed:
            raise ImportError_(
                f"{path.name}: a feed of {len(entries)} item(s), but not a Statuspage history feed: "
                "no item lists its updates with their times (\"Dec 22, 11:12 CET - Resolved\"), so "
                "when each incident began and ended is not in it (an item's date is only when it "
                "was last posted). Export the incidents as JSON or CSV from the status tool "
                "instead; nothing was imported")
        zones_seen: dict[str, dt.timedelta] = {}
        maintenance_titles: list[str] = []

        def to_row(rec: JsonRecord):
            ext_id = rec.text("id", required=True)
            published = rec.when("published", required=True)
            updated = rec.when("updated")
            if rec.problems:
                return None
            updates = _updates(rec, rec.raw("body") or "", updated or published, zones_seen)
            title = rec.raw("title") or ""
            if MAINTENANCE_TITLE.match(title) or any(s in MAINTENANCE for s, _ in updates):
                maintenance_titles.append(title)
                rec.problems.clear()
                return Skip("scheduled maintenance")
            if not updates and not rec.problems:
                rec.fail("body", "the incident's updates with their times (\"Dec 22, 11:12 CET\")")
            if rec.problems:
                return None
            times: dict[str, list[dt.datetime]] = {}
            for status, when in updates:
                times.setdefault(status, []).append(when)
            first = min(w for _, w in updates)
            link = rec.raw("link") or ""
            if "/incidents/" in link:  # the same id as the JSON API's, so both dedupe together
                ext_id = link.rstrip("/").rsplit("/", 1)[-1]
            resolved = min(times["resolved"]) if "resolved" in times else None
            latest = max(updates, key=lambda u: u[1])[0]
            return incident(
                "statuspage", ext_id, title=title or f"Incident {ext_id}",
                impact_start=first, detected=first,
                acknowledged=min(times["identified"]) if "identified" in times else None,
                mitigated=min(times["monitoring"]) if "monitoring" in times else None,
                resolved=resolved,
                status="resolved" if resolved is not None else latest,
            )

        notes = ["Status page feeds carry no severity or impact level: severity is left unset. "
                 "Update times are read from each entry's body, in the zone it names."]
        result = read_records(self.name, path, ctx, entries, to_row, notes, encoding,
                              "a status page feed")
        if zones_seen:
            used = ", ".join(f"{z} as UTC{_fmt_offset(int(o.total_seconds() // 60))}"
                             for z, o in sorted(zones_seen.items()))
            result.notes.append(f"Update times were written in {used}.")
        if maintenance_titles:
            shown = "; ".join(sorted(set(maintenance_titles))[:5])
            result.notes.append(f"Skipped as scheduled maintenance: {shown}.")
        return result
