"""The engagement folder: `engagement.yaml` loaded into frozen dataclasses, with errors naming the key.

Layout of an engagement folder (documented in docs/engagement-format.md):

    engagement.yaml      settings: client, consultant, window, time zone, SLA, targets, branding
    imports.yaml         the manifest of imported exports (written by `assess import`)
    incidents/           raw incident exports, kept exactly as received
    deploys/             raw deploy logs
    answers/             questionnaire answers (intake.yaml, self/<respondent>.yaml)
    postmortems.yaml     postmortems held and their action items (optional)
    branding/            logo files referenced from engagement.yaml
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .errors import AssessError
from .files import YamlLimitError, atomic_write, folder_lock, load_yaml

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
# Minutes to start mitigation, from the severity table of the source articles.
DEFAULT_MITIGATION_TARGETS = {"SEV1": 5.0, "SEV2": 15.0, "SEV3": 240.0}
DEFAULT_IMPACT_BY_SEVERITY = {"SEV1": "outage", "SEV2": "partial", "SEV3": "none", "SEV4": "none"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class EngagementError(AssessError, ValueError):
    """A problem with an engagement folder or its settings, worded for the user."""


@dataclass(frozen=True)
class Branding:
    name: str
    logo: Path | None
    primary_color: str = "#1F3A5F"
    accent_color: str = "#E07A1F"
    consultant_logo: Path | None = None


@dataclass(frozen=True)
class BusinessHours:
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(18, 0)
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0

    def contains(self, local: dt.datetime) -> bool:
        """True when a local wall-clock time falls inside business hours."""
        return local.weekday() in self.days and self.start <= local.time() < self.end


@dataclass(frozen=True)
class Person:
    """Someone the plan can count on: their role and the days a week they give reliability work."""

    name: str
    role: str | None = None  # a role of the remediation library (platform, eng-lead, ...) or free text
    days_per_week: float | None = None  # None: the team's default
    days_per_week_budget_spent: float | None = None  # while the error budget is spent


@dataclass(frozen=True)
class Team:
    size: int | None = None  # engineers in the client's team
    people: tuple[Person, ...] = ()
    default_days_per_week: float = 1.0  # for someone named without days_per_week


@dataclass(frozen=True)
class Engagement:
    root: Path
    client: str
    consultant: str
    consultant_firm: str
    window_end: dt.date
    window_days: int
    timezone: str
    sla_target: float  # a fraction, e.g. 0.999
    mitigation_targets: dict[str, float]
    revenue_critical_journeys: tuple[str, ...]
    branding: Branding
    start_date: dt.date | None  # None: the plan starts the Monday after the report date
    # the date the assessment is reported as of (default: the day it is rendered): the plan's
    # overdue marks and the statuses it knows stop there
    report_date: dt.date | None = None
    language: str = "en"
    # the currency revenue figures are recorded in (ISO 4217 code or symbol; None: not stated)
    currency: str | None = None
    partial_outage_weight: float = 0.5
    change_window_minutes: float = 120.0
    recurrence_days: int = 30
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    # the impact an incident is taken to have when its source records none (metrics' one rule)
    impact_by_severity: dict[str, str] = field(
        default_factory=lambda: dict(DEFAULT_IMPACT_BY_SEVERITY))
    severity_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    team: Team = field(default_factory=Team)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def window_start(self) -> dt.date:
        """First day inside the window (the window ends at the end of `window_end`)."""
        return self.window_end - dt.timedelta(days=self.window_days - 1)

    def window_bounds_utc(self) -> tuple[dt.datetime, dt.datetime]:
        """The window as [start, end) instants: local midnights converted to UTC."""
        start = dt.datetime.combine(self.window_start, dt.time(0), tzinfo=self.tz)
        end = dt.datetime.combine(self.window_end + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)


class _Reader:
    """Reads typed values out of a nested mapping and names the key path in every error."""

    def __init__(self, data: dict[str, Any], source: Path):
        self.data = data
        self.source = source

    def fail(self, key: str, expected: str, got: Any = None) -> EngagementError:
        shown = "" if got is None else f", got {got!r}"
        return EngagementError(f"{self.source}: key '{key}': expected {expected}{shown}")

    def get(self, key: str, default: Any = ..., ) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node or node[part] is None:
                if default is ...:
                    raise self.fail(key, "a value (this key is required)")
                return default
            node = node[part]
        return node

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "a non-empty text", value)
        return value.strip()

    def number(self, key: str, default: Any = ..., lo: float | None = None,
               hi: float | None = None) -> float:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "a number", value)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.fail(key, f"a number between {lo} and {hi}", value)
        return float(value)

    def date(self, key: str, default: Any = ...) -> dt.date:
        value = self.get(key, default)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(key, "a date as YYYY-MM-DD", value)

    def hhmm(self, key: str, default: str) -> dt.time:
        value = self.get(key, default)
        if not isinstance(value, str) or not _HHMM.match(value):
            raise self.fail(key, "a time as HH:MM", value)
        return dt.time.fromisoformat(value)


def _parse_sla(r: _Reader) -> float:
    value = r.get("sla.target", 99.9)
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            value = float(value.strip().rstrip("%"))
        except ValueError:
            raise r.fail("sla.target", "a percentage such as 99.9 or '99.9%'", value) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 50 <= value < 100:
        raise r.fail("sla.target", "a percentage between 50 and 100 such as 99.9", value)
    return float(value) / 100.0


def _parse_impacts(r: _Reader) -> dict[str, str]:
    raw = r.get("sla.impact_by_severity", {})
    if not isinstance(raw, dict):
        raise r.fail("sla.impact_by_severity", "a mapping of SEV1..SEV4 to outage, partial, "
                     "degraded or none", raw)
    impacts = dict(DEFAULT_IMPACT_BY_SEVERITY)
    for sev, value in raw.items():
        key = f"sla.impact_by_severity.{sev}"
        if sev not in SEVERITIES:
            raise r.fail(key, f"one of {', '.join(SEVERITIES)} as the key")
        if value not in ("outage", "partial", "degraded", "none"):
            raise r.fail(key, "one of outage, partial, degraded, none", value)
        impacts[sev] = value
    return impacts


def _parse_targets(r: _Reader) -> dict[str, float]:
    raw = r.get("mitigation_targets", {})
    if not isinstance(raw, dict):
        raise r.fail("mitigation_targets", "a mapping of SEV1..SEV4 to minutes", raw)
    targets = dict(DEFAULT_MITIGATION_TARGETS)
    for sev in raw:
        key = f"mitigation_targets.{sev}"
        if sev not in SEVERITIES:
            raise r.fail(key, f"one of {', '.join(SEVERITIES)} as the key")
        targets[sev] = r.number(key, lo=0, hi=60 * 24 * 30)
    return targets


def _parse_branding(r: _Reader, root: Path, client: str) -> Branding:
    def asset(key: str) -> Path | None:
        value = r.get(key, None)
        if value is None:
            return None
        if not isinstance(value, str):
            raise r.fail(key, "a path to an SVG or PNG file inside the engagement folder", value)
        path = (root / value).resolve()
        if root.resolve() not in path.parents:
            raise r.fail(key, "a path inside the engagement folder", value)
        if path.suffix.lower() not in (".svg", ".png", ".jpg", ".jpeg"):
            raise r.fail(key, "an .svg, .png or .jpg file", value)
        if not path.is_file():
            raise r.fail(key, "an existing file", value)
        return path

    colors = {}
    for name, default in (("primary_color", "#1F3A5F"), ("accent_color", "#E07A1F")):
        value = r.get(f"branding.{name}", default)
        if not isinstance(value, str) or not _COLOR.match(value):
            raise r.fail(f"branding.{name}", "a colour as #RRGGBB", value)
        colors[name] = value
    return Branding(
        name=r.text("branding.name", client),
        logo=asset("branding.logo"),
        consultant_logo=asset("branding.consultant_logo"),
        **colors,
    )


def _parse_business_hours(r: _Reader) -> BusinessHours:
    days_raw = r.get("business_hours.days", ["mon", "tue", "wed", "thu", "fri"])
    if not isinstance(days_raw, list) or not days_raw:
        raise r.fail("business_hours.days", "a list of days such as [mon, tue, wed, thu, fri]")
    days = []
    for d in days_raw:
        if not isinstance(d, str) or d.lower()[:3] not in WEEKDAYS:
            raise r.fail("business_hours.days", "day names such as mon, tue, ... sun", d)
        days.append(WEEKDAYS.index(d.lower()[:3]))
    start = r.hhmm("business_hours.start", "09:00")
    end = r.hhmm("business_hours.end", "18:00")
    if end <= start:
        raise r.fail("business_hours.end", "a time after business_hours.start", end.isoformat())
    return BusinessHours(start=start, end=end, days=tuple(sorted(set(days))))


def _parse_team(r: _Reader) -> Team:
    raw = r.get("team", {})
    if not isinstance(raw, dict) or set(raw) - {"size", "people", "default_days_per_week"}:
        raise r.fail("team", "a mapping with size, default_days_per_week and people", raw)
    engineers = r.get("client.engineers", None)
    size = r.number("team.size", engineers, lo=1, hi=100_000) if (
        raw.get("size") is not None or engineers is not None) else None
    if size is not None and size != int(size):
        raise r.fail("team.size", "a whole number of engineers", size)
    default = r.number("team.default_days_per_week", 1, lo=0, hi=7)
    people_raw = r.get("team.people", [])
    if not isinstance(people_raw, list):
        raise r.fail("team.people", "a list of people (name, role, days_per_week)", people_raw)
    people: list[Person] = []
    for i, p in enumerate(people_raw):
        key = f"team.people[{i}]"
        if not isinstance(p, dict) or set(p) - {"name", "role", "days_per_week",
                                                 "days_per_week_budget_spent"}:
            raise r.fail(key, "a mapping with name, role, days_per_week and optionally "
                         "days_per_week_budget_spent", p)
        sub = _Reader(p, r.source)
        try:
            name = sub.text("name")
            role = sub.text("role", None) if p.get("role") is not None else None
            days = sub.number("days_per_week", None, lo=0, hi=7) if p.get("days_per_week") is not None \
                else None
            spent = sub.number("days_per_week_budget_spent", None, lo=0, hi=7) if p.get(
                "days_per_week_budget_spent") is not None else None
        except EngagementError as exc:
            raise EngagementError(str(exc).replace("key '", f"key '{key}.", 1)) from None
        if any(q.name.casefold() == name.casefold() for q in people):
            raise r.fail(f"{key}.name", "a name not already listed", name)
        people.append(Person(name=name, role=role, days_per_week=days, days_per_week_budget_spent=spent))
    return Team(size=int(size) if size is not None else None, people=tuple(people),
                default_days_per_week=default)


def people_from_lines(text: str) -> list[dict[str, Any]]:
    """The settings form's people, one a line as `name, role, days a week[, days while the error
    budget is spent]`, as team.people entries; EngagementError naming the line otherwise."""
    people: list[dict[str, Any]] = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3 or len(parts) > 4 or not parts[0]:
            raise EngagementError(f"people, line {n}: expected 'name, role, days a week' "
                                  f"(and optionally days while the error budget is spent), got {line!r}")
        entry: dict[str, Any] = {"name": parts[0]}
        if parts[1]:
            entry["role"] = parts[1]
        for key, value in zip(("days_per_week", "days_per_week_budget_spent"), parts[2:], strict=False):
            try:
                entry[key] = float(value)
            except ValueError:
                raise EngagementError(f"people, line {n}: {value!r} is not a number of days") from None
            if entry[key] == int(entry[key]):
                entry[key] = int(entry[key])
        people.append(entry)
    return people


def people_lines(team: Team) -> str:
    """team.people as the settings form shows them (the inverse of people_from_lines)."""
    def num(v: float | None) -> str:
        return "" if v is None else f"{v:g}"
    return "\n".join(", ".join([p.name, p.role or "", num(p.days_per_week)]
                               + ([num(p.days_per_week_budget_spent)] if p.days_per_week_budget_spent
                                  is not None else [])) for p in team.people)


def parse_engagement(data: Any, root: Path, source: Path | None = None) -> Engagement:
    """Validate a parsed engagement.yaml mapping and build the Engagement."""
    source = source or root / "engagement.yaml"
    if not isinstance(data, dict):
        raise EngagementError(f"{source}: expected a mapping of settings at the top level")
    r = _Reader(data, source)
    client = r.text("client.name")
    tz = r.text("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail("timezone", "an IANA time zone such as Europe/Paris", tz) from None
    days = r.number("window.days", 90, lo=1, hi=3660)
    if days != int(days):
        raise r.fail("window.days", "a whole number of days", days)
    end = r.date("window.end")
    journeys = r.get("revenue_critical_journeys", [])
    if not isinstance(journeys, list) or not all(isinstance(j, str) for j in journeys):
        raise r.fail("revenue_critical_journeys", "a list of journey names", journeys)
    language = r.text("language", "en")
    if language not in ("en", "fr"):
        raise r.fail("language", "en or fr", language)
    overrides = r.get("severity_mapping", {})
    if not isinstance(overrides, dict) or not all(
        isinstance(v, dict) and all(s in SEVERITIES for s in v.values()) for v in overrides.values()
    ):
        raise r.fail("severity_mapping", "a mapping of source -> {original value: SEV1..SEV4}")
    return Engagement(
        root=root,
        client=client,
        consultant=r.text("consultant.name"),
        consultant_firm=r.text("consultant.firm", r.text("consultant.name")),
        window_end=end,
        window_days=int(days),
        timezone=tz,
        sla_target=_parse_sla(r),
        mitigation_targets=_parse_targets(r),
        revenue_critical_journeys=tuple(journeys),
        branding=_parse_branding(r, root, client),
        start_date=r.date("start_date", None) if data.get("start_date") is not None else None,
        report_date=r.date("report_date", None) if data.get("report_date") is not None else None,
        language=language,
        currency=r.text("currency") if data.get("currency") is not None else None,
        partial_outage_weight=r.number("sla.partial_outage_weight", 0.5, lo=0, hi=1),
        change_window_minutes=r.number("change_window_minutes", 120, lo=1, hi=7 * 24 * 60),
        recurrence_days=int(r.number("recurrence_days", 30, lo=1, hi=365)),
        business_hours=_parse_business_hours(r),
        impact_by_severity=_parse_impacts(r),
        severity_overrides={str(k): {str(a): b for a, b in v.items()} for k, v in overrides.items()},
        team=_parse_team(r),
    )


def load_engagement(root: str | Path) -> Engagement:
    """Load and validate DIR/engagement.yaml."""
    root = Path(root)
    source = root / "engagement.yaml"
    if not root.is_dir():
        raise EngagementError(f"{root}: not an engagement folder (no such directory)")
    if not source.is_file():
        raise EngagementError(
            f"{root}: not an engagement folder (no engagement.yaml; create one with `assess init`)"
        )
    try:
        data = load_yaml(source)  # within limits: size, aliases that expand, foreign tags
    except YamlLimitError as exc:
        raise EngagementError(str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise EngagementError(f"{source}: not valid YAML{where}: {exc}") from None
    except UnicodeDecodeError:
        raise EngagementError(f"{source}: expected UTF-8 text") from None
    return parse_engagement(data, root, source)


TEMPLATE = """\
# Engagement settings. Documented in docs/engagement-format.md.
client:
  name: {client}
consultant:
  name: {consultant}
  firm: {firm}
window:
  end: {end}        # last day of the assessment window (YYYY-MM-DD)
  days: 90          # window length in days
timezone: {timezone}
language: en        # en or fr: default language of the reports
# currency: EUR     # the currency of the revenue figures the exports record
sla:
  target: 99.9      # monthly availability committed to customers, in percent
  partial_outage_weight: 0.5   # a partial outage counts as this share of downtime
  impact_by_severity:          # the impact of an incident whose source records none
    SEV1: outage
    SEV2: partial
    SEV3: none
    SEV4: none
mitigation_targets: # minutes from detection to the start of mitigation
  SEV1: 5
  SEV2: 15
  SEV3: 240
change_window_minutes: 120     # an incident this soon after a deploy is change-related
business_hours:
  start: "09:00"
  end: "18:00"
  days: [mon, tue, wed, thu, fri]
revenue_critical_journeys: []
# start_date: 2026-01-05   # first day of the plan; default: the Monday after the report date
team:                # who carries the plan (docs/engagement-format.md)
  # size: 12         # engineers in the team
  default_days_per_week: 1     # reliability days a week of someone named without days_per_week
  people: []         # - {{name: Priya Raman, role: platform, days_per_week: 2}}
branding:
  name: {client}
  primary_color: "#1F3A5F"
  accent_color: "#E07A1F"
  # logo: branding/logo.svg
"""


def init_engagement(root: str | Path, client: str = "New client", consultant: str = "Consultant",
                    firm: str | None = None, timezone: str = "UTC",
                    end: dt.date | None = None) -> Path:
    """Create a new engagement folder with a commented engagement.yaml; refuse to overwrite."""
    root = Path(root)
    if (root / "engagement.yaml").exists():
        raise EngagementError(f"{root}: already an engagement folder (engagement.yaml exists)")
    for sub in ("incidents", "deploys", "answers/self", "branding"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    text = TEMPLATE.format(client=yaml_scalar(client), consultant=yaml_scalar(consultant),
                           firm=yaml_scalar(firm or consultant), timezone=timezone,
                           end=(end or dt.date.today()).isoformat())
    (root / "engagement.yaml").write_text(text, encoding="utf-8")
    load_engagement(root)  # what we wrote must load
    return root


def yaml_scalar(value: str) -> str:
    """A string as a one-line YAML scalar, quoted where YAML would misread it."""
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def read_settings(root: str | Path) -> dict[str, Any]:
    """engagement.yaml as a plain mapping (for editing)."""
    data = load_yaml(Path(root) / "engagement.yaml")
    return data if isinstance(data, dict) else {}


def save_settings(root: str | Path, updates: dict[str, Any]) -> Engagement:
    """Set dotted keys of engagement.yaml (None removes a key), validate, then write atomically.

    Nothing is written when the result would not load: the error names the key, as for a
    hand-edited file. Comments of the original file are not kept.
    """
    root = Path(root)
    with folder_lock(root):
        return _save_settings(root, updates)


def _save_settings(root: Path, updates: dict[str, Any]) -> Engagement:
    data = read_settings(root)
    for dotted, value in updates.items():
        *parents, leaf = dotted.split(".")
        node = data
        for key in parents:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        if value is None or value == "":
            node.pop(leaf, None)
        else:
            node[leaf] = value
    engagement = parse_engagement(data, root)
    text = "# Written by assess (web app settings); the keys are described in docs/engagement-format.md\n"
    text += yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    atomic_write(root / "engagement.yaml", text)
    return engagement
