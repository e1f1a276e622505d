"""PDF reports: `render_html(template, context) -> str` and `html_to_pdf(html, ...) -> bytes`.

Rendering fetches nothing from outside: the URL fetcher admits only data: URIs and files inside
the allowed roots (report_templates/ and the engagement's branding folder). Client text is always
escaped (autoescape on for every template).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import importlib.metadata
import json
import mimetypes
import signal
import threading
import time
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import weasyprint
from markupsafe import Markup
from weasyprint.urls import URLFetcher, URLFetchingError

from . import analysis as analysis_
from . import charts
from .analysis import Analysis
from .files import safe_csv, safe_yaml
from .formatting import fmt_date, fmt_minutes, fmt_number, fmt_pct, isna
from .paths import data_dir

TEMPLATES = data_dir("report_templates")


CHART_SCHEME = "assess-chart"  # <img src="assess-chart:NAME">: a chart still being drawn


class SafeFetcher(URLFetcher):
    """Admit data: URIs and local files under `roots`; refuse and record everything else.

    `charts` maps a chart's name to a function that returns its SVG (waiting for it if it is
    still being drawn): the page is laid out while the charts are drawn, and each chart is waited
    for only when the layout reaches it."""

    def __init__(self, roots: list[Path], charts: dict[str, Any] | None = None):
        super().__init__(allowed_protocols=("data", "file"), timeout=2)
        self.roots = [r.resolve() for r in roots]
        self.refused: list[str] = []
        self.charts = charts or {}

    def fetch(self, url: str, headers: Any = None):
        parts = urlsplit(url)
        if parts.scheme == CHART_SCHEME and parts.path in self.charts:
            svg = self.charts[parts.path]()
            return super().fetch(svg_uri(svg), headers)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            if any(path == r or r in path.parents for r in self.roots) and path.is_file():
                return super().fetch(url, headers)
        self.refused.append(url)
        raise URLFetchingError(f"refused to fetch {url!r}: reports load only their own assets")


def svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix.lower() == ".svg":
        mime = "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.cache
def strings() -> dict[str, dict[str, Any]]:
    """The reports' words in each language (report_templates/strings.yaml)."""
    return safe_yaml((TEMPLATES / "strings.yaml").read_text(encoding="utf-8"))


def translator(lang: str):
    """t(key, **values): the key's text in `lang`, values escaped, the text itself trusted."""
    table = strings()

    def t(key: str, **values: Any) -> Markup:
        entry = table.get(key)
        if entry is None:
            raise KeyError(f"report string {key!r} is missing from strings.yaml")
        text = entry.get(lang) or entry["en"]
        if isinstance(text, dict):  # {one: ..., other: ...}: chosen by the value `n`
            count = values.get("n", values.get("count"))
            text = text["one"] if count == 1 else text["other"]
        return Markup(text).format(**values)

    def tl(key: str) -> list[Any]:
        entry = table[key]
        return entry.get(lang) or entry["en"]

    return t, tl


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the user's cache folder (compiling them is a third of a
    second per process); Jinja checks each against its template's modification time."""
    from .caches import cache_root  # not store: it brings pandas

    root = cache_root()
    if root is None:
        return None
    folder = root / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


@functools.cache
def environment() -> jinja2.Environment:
    """The reports' Jinja environment (one per process: templates compile once)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,  # every template: client text is never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=fmt_number, pct=fmt_pct, minutes=fmt_minutes, date=fmt_date,
                       sdate=lambda v, lang="en": fmt_date(v, lang, short=True))
    env.tests["contains"] = lambda seq, item: item in (seq or ())
    return env


def render_html(template: str, context: dict[str, Any]) -> str:
    """Render one report template to HTML."""
    return environment().get_template(template).render(**context)


def layout(html: str, fetcher: SafeFetcher, images: dict[str, Any] | None = None
           ) -> weasyprint.Document:
    """Lay out the HTML into pages with the safe fetcher (`images`: WeasyPrint's image cache,
    by URL, when the caller wants to see the images it loaded)."""
    base = str(TEMPLATES) + "/"
    return weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher).render(
        cache={} if images is None else images)


def write_pdf(doc: weasyprint.Document, metadata: dict[str, Any] | None = None,
              attachments: list[tuple[str, bytes, str]] | None = None,
              variant: str | None = None) -> bytes:
    """PDF bytes of a laid-out document; attachments are (name, bytes, description).

    `variant` "pdf/a-3b" writes archival PDF/A-3 (which allows the attached source data)."""
    files = [weasyprint.Attachment(string=data, name=name, description=desc)
             for name, data, desc in (attachments or [])]
    for key, value in (metadata or {}).items():
        setattr(doc.metadata, key, value)
    return doc.write_pdf(attachments=files, pdf_variant=variant,
                         custom_metadata=bool(doc.metadata.custom))


def html_to_pdf(html: str, roots: list[Path], metadata: dict[str, Any] | None = None,
                attachments: list[tuple[str, bytes, str]] | None = None,
                fetcher: SafeFetcher | None = None) -> bytes:
    """HTML to PDF bytes, fetching only what the safe fetcher admits."""
    return write_pdf(layout(html, fetcher or SafeFetcher(roots)), metadata, attachments)


class RenderTimeout(RuntimeError):
    """A report took longer than its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str):
    """Stop a runaway render with a clear error (SIGALRM: main thread only; elsewhere a no-op,
    and the web app's worker enforces its own limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise RenderTimeout(f"{what} took longer than {seconds:g} s and was stopped; "
                            "a very large incident list is capped in the appendix, so this "
                            "usually means a runaway input: check the engagement's data")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    deadline = time.monotonic() + seconds
    try:
        yield
        # an alarm that fired inside a destructor is swallowed by Python ("Exception ignored in
        # __del__"): the deadline still holds
        if time.monotonic() > deadline:
            expired(signal.SIGALRM, None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- the reports --------------------------------------------------------------------------------

APPENDIX_ROWS = 400  # incidents listed in the appendix; all of them are in the attached CSV
APPENDIX_COLUMNS = ("key", "external_id", "title", "severity", "service", "detected", "resolved",
                    "detection_source")
REPORTS = ("assessment", "due_diligence")
COVERAGE_FIELDS = ("severity", "service", "impact_start", "acknowledged", "mitigated", "resolved",
                   "root_cause", "detection_source")


@dataclass
class Rendered:
    path: Path
    pages: int
    refused: list[str]
    timings: dict[str, float] = dataclass_field(default_factory=dict)


def verdict(m: dict[str, Any], client: str, top: list[dict[str, Any]], lang: str = "en") -> Markup:
    """One paragraph a founder reads first: markup whose values (the client's name, a risk's
    title) are escaped once, here; the template prints it as it is."""
    t, _ = translator(lang)
    level = m["maturity"]["level"]
    avail = m["availability"]
    below = avail["months_below_sla"]
    parts = [t("verdict_level", client=client, level=t(level))]
    if below:
        parts.append(t("verdict_sla_missed", avail=fmt_pct(avail["availability"], 2, lang),
                       full=fmt_pct(avail.get("full_outage_availability"), 2, lang)
                       if avail.get("full_outage_availability") is not None else "n/a",
                       sla=fmt_pct(avail["sla_target"], 1, lang), below=below,
                       months=len(m["availability_by_month"]),
                       budget=f"{fmt_number(avail['budget_consumed'], 1, lang)}\u00d7"))
    elif avail["availability"] is not None:
        parts.append(t("verdict_sla_met", sla=fmt_pct(avail["sla_target"], 1, lang)))
    rec = m["recurrence"]
    if rec["major_rate"]:
        parts.append(t("verdict_recurrence", rate=fmt_pct(rec["major_rate"], 0, lang),
                       all=fmt_pct(rec["rate"], 0, lang), days=rec["window_days"],
                       rc=fmt_pct(rec["major_root_cause_share"] or 0, 0, lang)))
    if top:
        parts.append(t("verdict_top", risk=top[0]["title"]))
    return Markup(" ").join(parts)


def coverage(frame) -> list[dict[str, Any]]:
    """Share of the window's incidents carrying each field the figures depend on."""
    n = len(frame) if frame is not None else 0
    return [{"field": f, "share": (float(frame[f].notna().mean()) if n else None)}
            for f in COVERAGE_FIELDS] if n else []


def _incident_rows(a: Analysis) -> tuple[list[dict[str, Any]], int]:
    """The window's incidents (the set every figure counts), the latest APPENDIX_ROWS of them."""
    e = a.engagement
    window = a.frame if a.frame is not None else a.data.incidents
    # the columns the appendix shows, before sorting: a sort copies every column it carries
    window = window[list(APPENDIX_COLUMNS)]
    incidents = window.sort_values("detected", ascending=False, na_position="last")
    total = len(incidents)
    shown = incidents.head(APPENDIX_ROWS).sort_values("detected", na_position="last")
    rows = []
    for r in shown.itertuples():
        rows.append({
            "key": r.key, "external_id": r.external_id, "title": r.title,
            "severity": r.severity if isinstance(r.severity, str) else "?",
            "service": r.service if isinstance(r.service, str) else "",
            "detected": r.detected.tz_convert(e.timezone).strftime("%Y-%m-%d %H:%M")
            if not isna(r.detected) else "",
            # time to resolve, from detection: the same rule as the metrics
            "ttr": None if isna(r.resolved) or isna(r.detected) or r.resolved < r.detected else
            (r.resolved - r.detected).total_seconds() / 60,
            "source": r.detection_source if isinstance(r.detection_source, str) else "",
        })
    return rows, total


def version() -> str:
    try:
        return importlib.metadata.version("assess")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


def build_context(a: Analysis, lang: str, svgs: dict[str, str],
                  judgement: dict[str, Any] | None = None,
                  chart_srcs: dict[str, str] | None = None) -> dict[str, Any]:
    """What the templates read; the charts as data: URIs of `svgs`, or as the `chart_srcs`
    given (assess-chart: URLs the safe fetcher resolves when the layout reaches them)."""
    from . import diligence, questionnaires
    from .figures import figures, grade_legend
    from .maturity import headline
    from .metrics import MATURITY_LEVELS
    from .questionnaires import areas

    e = a.engagement
    m = a.metrics
    j = judgement or analysis_.judgement(a, lang)
    top = [r for r in j["risks"] if r["top"]]
    plan = j["plan"]
    scores = analysis_.scores(a)
    # one maturity headline, the lower of the incident record and the practices (assess/maturity.py)
    m = {**m, "maturity": headline(a.metrics["maturity"], scores)}
    rows, total = _incident_rows(a)
    t, tl = translator(lang)
    intake = next((r for r in scores["respondents"] if r["questionnaire"] == "intake"), None)
    sources = sorted({entry["format"] for entry in a.imports if entry.get("kind") == "incidents"})
    answered = (intake or {}).get("answered_at")
    figs = figures(m, lang)
    return {
        "lang": lang, "t": t, "tl": tl, "e": e, "m": m,
        "generated": (e.report_date or dt.date.today()).isoformat(),
        "version": version(),
        "logo": data_uri(e.branding.logo) if e.branding.logo else None,
        "consultant_logo": data_uri(e.branding.consultant_logo) if e.branding.consultant_logo
        else None,
        "charts": chart_srcs if chart_srcs is not None else {
            name: svg_uri(svg) for name, svg in svgs.items()},
        "verdict": verdict(m, e.client, top, lang),
        "top": top, "all_risks": j["risks"], "plan": plan,
        "plan_counts": {"reset": sum(len(w["actions"]) for w in plan["reset_plan"]),
                        "later": len(plan["roadmap"][2]["actions"])},
        "last_due": max((x["due"] for x in plan["actions"]), default=plan["start_date"]),
        "scores": scores, "area_names": areas(), "levels": list(MATURITY_LEVELS),
        "respondents": ", ".join(f"{r['respondent']} ({r['role']})" for r in scores["respondents"]),
        "interview_date": str(answered)[:10] if answered else None,
        "gantt": gantt(plan), "scale_position": scale_position,
        "colon": " : " if lang == "fr" else ": ",
        "reason": lambda r: t("reason_" + r["code"], **{
            k: (fmt_pct(v, 0, lang) if k == "share" else t(v) if k == "level"
                else fmt_number(v, 2, lang) if k == "score"
                else t("n_months", n=v) if k == "months"
                else (v.get(lang) or v.get("en")) if isinstance(v, dict) else v)
            for k, v in r["values"].items()}),
        "incidents": rows, "incidents_total": total,
        "import_notes": a.import_notes, "sources": ", ".join(sources) or "-",
        "coverage": coverage(a.frame),
        "figures": figs,
        # the two-page summary cites each flag's evidence without the interview's notes
        "red_flags": diligence.red_flags(a.metrics, scores, a.frame, lang, notes=False),
        "claims": diligence.claims_against_evidence(questionnaires.claims(scores, a.metrics), lang),
        "plain_sources": diligence.plain_sources(a.imports, lang, diligence.used_files(
            a.frame, a.data.deploys[(a.data.deploys["deployed_at"] >= a.settings.start)
                                    & (a.data.deploys["deployed_at"] < a.settings.end)]
            if a.settings is not None else None)),
        "commitment": diligence.commitment(plan),
        "fig": {f["key"]: f for f in figs},
        "grade_legend": grade_legend(lang),
        "impact_map": ", ".join(f"{sev} {t('impact_' + v)}" for sev, v in
                                sorted(e.impact_by_severity.items())),
        "fonts_dir": (TEMPLATES / "fonts").as_uri(),
    }


# The roadmap's timeline scale: each horizon gets a fixed share of the width, so a 0-7-day action
# is as readable as a 30-90-day one (a linear 90-day scale would squeeze the first week to 8%).
SCALE = ((0, 0.0), (7, 24.0), (30, 58.0), (90, 100.0))


def scale_position(day: float) -> float:
    """Percent of the timeline's width at `day` (days since the start, piecewise linear)."""
    for (d0, p0), (d1, p1) in zip(SCALE, SCALE[1:], strict=False):
        if day <= d1:
            return round(p0 + (p1 - p0) * max(day - d0, 0) / (d1 - d0), 2)
    return 100.0


def gantt(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Each roadmap action with the bar it draws: from its week or horizon start to its due date."""
    start = dt.date.fromisoformat(plan["start_date"])
    first_day = {"0-7": 0, "7-30": 7, "30-90": 30}
    rows = []
    for horizon in plan["roadmap"]:
        bars = []
        for a in horizon["actions"]:
            begin = 7 * (a["week"] - 1) if a["week"] else first_day[a["horizon"]]
            end = max((dt.date.fromisoformat(a["due"]) - start).days + 1, begin + 1)
            left = scale_position(begin)
            bars.append({"a": a, "left": left, "width": max(scale_position(end) - left, 1.5)})
        rows.append({"horizon": horizon, "bars": bars})
    return rows


CHART_SIZES = {name: (360, 280) for name in ("detection", "mttr_trend", "availability",
                                              "error_budget")}


def report_figures(a: Analysis, lang: str = "en") -> dict[str, Any]:
    e = a.engagement
    return charts.report_figures(a.metrics, e.branding.primary_color, e.branding.accent_color, lang)


def report_svgs(a: Analysis, lang: str = "en") -> dict[str, str]:
    """The report's charts as SVG in the report's language (charts.to_svg: cached, one browser)."""
    return charts.to_svg(report_figures(a, lang), sizes=CHART_SIZES)


def chart_size(name: str) -> tuple[int, int]:
    return CHART_SIZES.get(name, (720, 300))  # charts.to_svg's default size


def placeholder_svg(name: str) -> str:
    """An empty SVG of a chart's size: the layout needs only the size of an image, so the page is
    laid out around it while the chart is drawn, and the chart is put in its place after."""
    w, h = chart_size(name)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}"></svg>')


def put_charts_in_place(images: dict[str, Any], svgs: dict[str, str]) -> bool:
    """Replace each placeholder the layout loaded (placeholder_svg) by its chart, keeping the
    layout. False, changing nothing, when that cannot be done exactly (a chart whose intrinsic
    size differs from its placeholder's, or a WeasyPrint whose images are built differently):
    the caller then lays the page out again with the charts themselves."""
    from xml.etree import ElementTree

    from weasyprint.images import SVGImage
    from weasyprint.svg import SVG

    swaps = []
    for url, image in images.items():
        parts = urlsplit(url)
        if parts.scheme != CHART_SCHEME:
            continue
        if parts.path not in svgs or not isinstance(image, SVGImage) or not all(
                hasattr(image, a) for a in ("_svg", "_context", "_base_url", "_url_fetcher")):
            return False
        context = image._context
        try:
            real = SVG(ElementTree.fromstring(svgs[parts.path].encode("utf-8")), image._base_url,
                       context.font_config if context is not None else None, image._url_fetcher)
            same = real.get_intrinsic_size(16) == image._svg.get_intrinsic_size(16)
        except Exception:  # noqa: BLE001 - the page is laid out again with the charts
            return False
        if not same:
            return False
        swaps.append((image, real))
    for image, real in swaps:
        image._svg = real
    return True


class _ChartsInBackground:
    """The report's charts drawn in a thread while the page is built and laid out; each is
    waited for when the layout reaches its image (SafeFetcher)."""

    def __init__(self, build: Any, names: tuple[str, ...] = charts.REPORT_CHARTS):
        self.names = list(names)
        self.svgs: dict[str, str] = {}
        self.error: BaseException | None = None
        self.seconds = 0.0
        self.thread = threading.Thread(target=self._run, args=(build,), daemon=True,
                                       name="assess-charts")
        self.thread.start()

    def _run(self, build: Any) -> None:
        clock = time.perf_counter()
        try:  # the figures are built here too: plotly's first figure costs a tenth of a second
            self.svgs = charts.to_svg(build(), sizes=CHART_SIZES)
        except BaseException as exc:  # noqa: BLE001 - raised again in the thread that waits
            self.error = exc
        self.seconds = time.perf_counter() - clock

    def wait(self) -> dict[str, str]:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.svgs

    def getter(self, name: str):
        return lambda: self.wait()[name]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def render(a: Analysis, out_dir: Path, report: str = "assessment", lang: str | None = None,
           svgs: dict[str, str] | None = None, judgement: dict[str, Any] | None = None,
           archival: bool = True, limit_seconds: float | None = 120,
           progress: Any = None) -> Rendered:
    """Write one report's PDF (PDF/A-3b by default) with its source data attached. `progress`,
    when given, is called with each step's name as it starts (charts, data, layout, pdf)."""
    if report not in REPORTS:
        raise ValueError(f"unknown report {report!r} (expected one of {', '.join(REPORTS)})")
    e = a.engagement
    lang = lang or e.language
    timings: dict[str, float] = {}
    step = progress or (lambda name: None)
    clock = time.perf_counter()
    with time_limit(limit_seconds, f"the {report} report of {e.client}"):
        background = None
        if svgs is None and report == "assessment":
            step("charts")
            background = _ChartsInBackground(lambda: report_figures(a, lang))
        step("data")
        j = judgement or analysis_.judgement(a, lang)
        timings["data"] = time.perf_counter() - clock
        clock = time.perf_counter()
        srcs = None
        fetched: dict[str, Any] = {}
        if background is not None:
            srcs = {name: f"{CHART_SCHEME}:{name}" for name in background.names}
            fetched = {name: functools.partial(placeholder_svg, name) for name in background.names}
        context = build_context(a, lang, svgs or {}, j, chart_srcs=srcs)
        html = render_html(f"{report}.html", context)
        roots = [TEMPLATES] + ([e.path("branding")] if e.path("branding").is_dir() else [])
        fetcher = SafeFetcher(roots, fetched)
        step("layout")
        images: dict[str, Any] = {}
        doc = layout(html, fetcher, images)
        timings["layout"] = time.perf_counter() - clock
        if background is not None:
            # laid out around placeholders while the charts were drawn: put them in place, or
            # (never silently with a wrong size) lay the page out again with the charts
            clock = time.perf_counter()
            drawn = background.wait()
            if not put_charts_in_place(images, drawn):
                fetcher = SafeFetcher(roots, {n: functools.partial(drawn.get, n) for n in drawn})
                doc = layout(html, fetcher)
                timings["layout_again"] = time.perf_counter() - clock
            timings["charts_wait"] = time.perf_counter() - clock
        # drawn concurrently with the data and the layout: not part of the sum
        timings["charts"] = background.seconds if background is not None else 0.0
        clock = time.perf_counter()
        step("pdf")
        t, _ = translator(lang)
        title = f"{t('kicker' if report == 'assessment' else 'dd_title')}{context['colon']}{e.client}"
        pdf = write_pdf(
            doc,
            metadata={"title": title, "authors": [e.consultant],
                      "description": f"{e.client}, {m_window(a.metrics)}, "
                                     f"{context['generated']}, version {context['version']}",
                      "keywords": ["reliability", report.replace("_", " "), e.client,
                                   context["generated"], f"version {context['version']}"],
                      "lang": lang, "generator": f"assess {context['version']}",
                      "custom": {"Client": e.client, "Consultant": e.consultant_firm,
                                 "Window": m_window(a.metrics), "Date": context["generated"],
                                 "Version": context["version"], "Report": report}},
            attachments=[
                ("incidents.csv", safe_csv(a.data.incidents).encode("utf-8"),  # no live formulas
                 "Canonical incidents behind every figure"),
                ("metrics.json", json.dumps(a.metrics, indent=2, default=str).encode("utf-8"),
                 "Baseline metrics as computed"),
                ("risks.json", json.dumps(j["risks"], indent=2, default=str,
                                          ensure_ascii=False).encode("utf-8"),
                 "Every risk assessed, with its evidence"),
                ("plan.json", json.dumps(j["plan"], indent=2, default=str,
                                         ensure_ascii=False).encode("utf-8"),
                 "The reset plan and roadmap"),
            ],
            variant="pdf/a-3b" if archival else None,
        )
        timings["pdf"] = time.perf_counter() - clock
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{_slug(e.client)}-{report.replace('_', '-')}-{lang}.pdf"
    path.write_bytes(pdf)
    return Rendered(path=path, pages=len(doc.pages), refused=fetcher.refused, timings=timings)


def render_all(a: Analysis, out_dir: Path, lang: str | None = None,
               judgement: dict[str, Any] | None = None, **kw: Any) -> list[Rendered]:
    """The assessment report and the due-diligence summary, sharing the analysis and the ranking."""
    lang = lang or a.engagement.language
    j = judgement or analysis_.judgement(a, lang)
    return [render(a, out_dir, report, lang, judgement=j, **kw) for report in REPORTS]


def m_window(m: dict[str, Any]) -> str:
    return f"{m['window']['first_day']} to {m['window']['last_day']}"
