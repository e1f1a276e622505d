"""PDF reports: `render_html(template, context) -> str` and `html_to_pdf(html, ...) -> bytes`.

Rendering fetches nothing from outside: the URL fetcher admits only data: URIs and files inside
the allowed roots (report_templates/ and the engagement's branding folder). Client text is always
escaped (autoescape on for every template).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import weasyprint
from weasyprint.urls import URLFetcher, URLFetchingError

from . import charts
from .analysis import Analysis
from .formatting import fmt_date, fmt_minutes, fmt_number, fmt_pct
from .paths import data_dir

TEMPLATES = data_dir("report_templates")


class SafeFetcher(URLFetcher):
    """Admit data: URIs and local files under `roots`; refuse and record everything else."""

    def __init__(self, roots: list[Path]):
        super().__init__(allowed_protocols=("data", "file"), timeout=2)
        self.roots = [r.resolve() for r in roots]
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None):
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            if any(path == r or r in path.parents for r in self.roots) and path.is_file():
                return super().fetch(url, headers)
        self.refused.append(url)
        raise URLFetchingError(f"refused to fetch {url!r}: reports load only their own assets")


def data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix.lower() == ".svg":
        mime = "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template: client text is never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=fmt_number, pct=fmt_pct, minutes=fmt_minutes, date=fmt_date)
    return env


def render_html(template: str, context: dict[str, Any]) -> str:
    """Render one report template to HTML."""
    return environment().get_template(template).render(**context)


def layout(html: str, fetcher: SafeFetcher) -> weasyprint.Document:
    """Lay out the HTML into pages with the safe fetcher."""
    base = str(TEMPLATES) + "/"
    return weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher).render()


def write_pdf(doc: weasyprint.Document, metadata: dict[str, Any] | None = None,
              attachments: list[tuple[str, bytes, str]] | None = None) -> bytes:
    """PDF bytes of a laid-out document; attachments are (name, bytes, description)."""
    files = [weasyprint.Attachment(string=data, name=name, description=desc)
             for name, data, desc in (attachments or [])]
    for key, value in (metadata or {}).items():
        setattr(doc.metadata, key, value)
    return doc.write_pdf(attachments=files)


def html_to_pdf(html: str, roots: list[Path], metadata: dict[str, Any] | None = None,
                attachments: list[tuple[str, bytes, str]] | None = None,
                fetcher: SafeFetcher | None = None) -> bytes:
    """HTML to PDF bytes, fetching only what the safe fetcher admits."""
    return write_pdf(layout(html, fetcher or SafeFetcher(roots)), metadata, attachments)


# --- the assessment report --------------------------------------------------------------------


@dataclass
class Rendered:
    path: Path
    pages: int
    refused: list[str]


def verdict(m: dict[str, Any], client: str) -> str:
    """One paragraph a founder reads first."""
    level = m["maturity"]["level"]
    avail = m["availability"]
    below = avail["months_below_sla"]
    parts = [f"{client} operates at the {level} level of incident maturity."]
    if below:
        parts.append(
            f"Availability was {avail['availability'] * 100:.2f}% over the window, below the "
            f"{avail['sla_target'] * 100:g}% SLA in {below} of {len(m['availability_by_month'])} "
            f"months, consuming {avail['budget_consumed']:.1f}x the error budget."
        )
    else:
        parts.append(f"Availability met the {avail['sla_target'] * 100:g}% SLA every month.")
    rec = m["recurrence"]
    if rec["rate"]:
        parts.append(f"{rec['rate']:.0%} of incidents repeat a failure seen in the previous "
                     f"{rec['window_days']} days: the same problems keep coming back.")
    return " ".join(parts)


def build_context(a: Analysis, lang: str, svgs: dict[str, str]) -> dict[str, Any]:
    e = a.engagement
    m = a.metrics
    incidents = a.data.incidents.sort_values("detected", na_position="last")
    rows = []
    for r in incidents.itertuples():
        rows.append({
            "key": r.key, "external_id": r.external_id, "title": r.title,
            "severity": r.severity if isinstance(r.severity, str) else "?",
            "service": r.service if isinstance(r.service, str) else "",
            "detected": r.detected.tz_convert(e.timezone).strftime("%Y-%m-%d %H:%M")
            if not _isna(r.detected) else "",
            "ttr": None if _isna(r.resolved) else
            ((r.resolved - (r.impact_start if not _isna(r.impact_start) else r.detected))
             .total_seconds() / 60),
            "source": r.detection_source if isinstance(r.detection_source, str) else "",
        })
    return {
        "lang": lang,
        "e": e,
        "m": m,
        "generated": dt.date.today().isoformat(),
        "logo": data_uri(e.branding.logo) if e.branding.logo else None,
        "consultant_logo": data_uri(e.branding.consultant_logo) if e.branding.consultant_logo
        else None,
        "charts": {name: "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
                   for name, svg in svgs.items()},
        "verdict": verdict(m, e.client),
        "incidents": rows,
        "import_notes": a.import_notes,
        "fonts_dir": (TEMPLATES / "fonts").as_uri(),
    }


def _isna(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def render_assessment(a: Analysis, out_dir: Path, lang: str | None = None,
                      svgs: dict[str, str] | None = None) -> Rendered:
    """Write the assessment report PDF (with the incidents CSV and metrics JSON attached)."""
    e = a.engagement
    lang = lang or e.language
    if svgs is None:
        svgs = charts.to_svg(charts.report_figures(a.metrics, e.branding.primary_color,
                                                   e.branding.accent_color),
                             sizes={name: (360, 280) for name in
                                    ("detection", "mttr_trend", "availability", "error_budget")})
    html = render_html("assessment.html", build_context(a, lang, svgs))
    roots = [TEMPLATES] + ([e.path("branding")] if e.path("branding").is_dir() else [])
    fetcher = SafeFetcher(roots)
    doc = layout(html, fetcher)
    pdf = write_pdf(
        doc,
        metadata={"title": f"Reliability assessment: {e.client}", "authors": [e.consultant],
                  "description": f"Incident baseline, {m_window(a.metrics)}",
                  "keywords": ["reliability", "assessment", e.client]},
        attachments=[
            ("incidents.csv", a.data.incidents.to_csv(index=False).encode("utf-8"),
             "Canonical incidents behind every figure"),
            ("metrics.json", json.dumps(a.metrics, indent=2, default=str).encode("utf-8"),
             "Baseline metrics as computed"),
        ],
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in e.client.lower()).strip("-")
    path = out_dir / f"{slug}-assessment-{lang}.pdf"
    path.write_bytes(pdf)
    return Rendered(path=path, pages=len(doc.pages), refused=fetcher.refused)


def m_window(m: dict[str, Any]) -> str:
    return f"{m['window']['first_day']} to {m['window']['last_day']}"
