"""Charts as pure functions of the metrics document -> plotly Figure. Embedding is elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from .files import atomic_write

SEVERITY_COLORS = {"SEV1": "#B42318", "SEV2": "#E07A1F", "SEV3": "#E9C46A", "SEV4": "#8DA9C4",
                   "unclassified": "#BBBBBB"}
FONT = "Inter, DejaVu Sans, sans-serif"
# Every word a chart shows, in each report language.
TEXT = {
    "en": {"per_week": "Incidents per week, by severity", "availability": "Availability",
           "availability_title": "Availability per month vs SLA", "consumed": "Budget consumed",
           "budget_title": "Error budget used per month (× budget)",
           "all": "All severities", "minutes": "minutes",
           "resolve_title": "Median time to resolve per month, from detection",
           "detection_title": "Detection source", "alert": "alert", "customer": "customer",
           "internal": "staff", "unknown": "unknown", "unclassified": "unclassified"},
    "fr": {"per_week": "Incidents par semaine, par sévérité", "availability": "Disponibilité",
           "availability_title": "Disponibilité mensuelle face au SLA",
           "consumed": "Budget consommé",
           "budget_title": "Budget d'erreur consommé par mois (× budget)",
           "all": "Toutes sévérités", "minutes": "minutes",
           "resolve_title": "Temps médian de résolution par mois, depuis la détection",
           "detection_title": "Source de détection", "alert": "alerte", "customer": "client",
           "internal": "équipe", "unknown": "inconnue", "unclassified": "non classé"},
}


def _pct(value: float, digits: int, lang: str) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") + "\u202f%" if lang == "fr" else text + "%"


def _layout(fig: go.Figure, title: str, primary: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15, "color": primary}},
        font={"family": FONT, "size": 11, "color": "#2B2B2B"},
        paper_bgcolor="white", plot_bgcolor="white",
        margin={"l": 50, "r": 20, "t": 44, "b": 40},
        legend={"orientation": "h", "y": -0.18, "x": 0},
    )
    # month labels such as "2026-08" must stay categories: plotly would read them as dates
    fig.update_xaxes(showgrid=False, linecolor="#999999", type="category")
    fig.update_yaxes(gridcolor="#E6E6E6", zeroline=False)
    return fig


def incidents_per_week(m: dict[str, Any], primary: str = "#1F3A5F", lang: str = "en") -> go.Figure:
    """Stacked bars: incidents per week by severity."""
    weeks = sorted({r["week"] for r in m["by_week_severity"]})
    fig = go.Figure()
    for sev, color in SEVERITY_COLORS.items():
        counts = {r["week"]: r["count"] for r in m["by_week_severity"] if r["severity"] == sev}
        if counts:
            fig.add_bar(name=TEXT[lang].get(sev, sev), x=weeks, y=[counts.get(w, 0) for w in weeks],
                        marker_color=color)
    fig.update_xaxes(tickangle=-45)
    fig = _layout(fig, TEXT[lang]["per_week"], primary)
    # legend above the plot, SEV1 first: under it, it would collide with the tilted week labels
    fig.update_layout(barmode="stack", legend={"orientation": "h", "y": 1.1, "x": 1,
                                               "xanchor": "right", "traceorder": "normal"})
    return fig


def availability_by_month(m: dict[str, Any], primary: str = "#1F3A5F",
                          accent: str = "#E07A1F", lang: str = "en") -> go.Figure:
    """Monthly availability (%) against the SLA line."""
    rows = m["availability_by_month"]
    months = [r["month"] + (" *" if r["partial"] else "") for r in rows]
    values = [round(r["availability"] * 100, 3) for r in rows]
    target = m["availability"]["sla_target"] * 100
    colors = [primary if r["sla_met"] else "#B42318" for r in rows]
    fig = go.Figure(go.Bar(x=months, y=values, marker_color=colors, name=TEXT[lang]["availability"],
                           text=[_pct(v, 2, lang) for v in values], textposition="outside"))
    fig.add_scatter(x=months, y=[target] * len(months), mode="lines",
                    name=f"SLA {_pct(target, 1, lang)}",
                    line={"color": accent, "dash": "dash", "width": 2})
    low = min([*values, target])
    fig.update_yaxes(range=[max(0, low - (100 - low) * 0.6), 100.05], ticksuffix="%")
    return _layout(fig, TEXT[lang]["availability_title"], primary)


def error_budget(m: dict[str, Any], primary: str = "#1F3A5F", lang: str = "en") -> go.Figure:
    """Error budget consumed per month, in times the month's budget (1x = all of it), as the
    overall figure is stated."""
    rows = m["availability_by_month"]
    months = [r["month"] + (" *" if r["partial"] else "") for r in rows]
    consumed = [round(r["budget_consumed"] or 0, 1) for r in rows]
    colors = ["#B42318" if c > 1 else primary for c in consumed]
    shown = [f"{c:.1f}\u00d7".replace(".", "," if lang == "fr" else ".") for c in consumed]
    fig = go.Figure(go.Bar(x=months, y=consumed, marker_color=colors, name=TEXT[lang]["consumed"],
                           text=shown, textposition="outside"))
    fig.add_hline(y=1, line_dash="dash", line_color="#666666")
    fig.update_yaxes(ticksuffix="\u00d7", rangemode="tozero")
    return _layout(fig, TEXT[lang]["budget_title"], primary)


def mttr_trend(m: dict[str, Any], primary: str = "#1F3A5F", accent: str = "#E07A1F",
               lang: str = "en") -> go.Figure:
    """Median time to resolve per month, from detection: SEV1-SEV2 (the headline) and all."""
    months = list(m["mttr_by_month"])
    major = (m.get("trends", {}).get("major_mttr_minutes") or {}).get("by_month", {})
    series = [(TEXT[lang]["all"], [m["mttr_by_month"][k] for k in months], primary),
              ("SEV1-SEV2", [major.get(k) for k in months], accent)]
    fig = go.Figure()
    for name, values, color in series:
        fig.add_trace(go.Scatter(x=months, y=values, mode="lines+markers+text", name=name,
                                 line={"color": color, "width": 3},
                                 text=["" if v is None else f"{v:.0f}" for v in values],
                                 textposition="top center"))
    top = max([v for _, vs, _ in series for v in vs if v is not None], default=0)
    fig.update_yaxes(title_text=TEXT[lang]["minutes"], range=[0, top * 1.25 or 1])  # room for labels
    return _layout(fig, TEXT[lang]["resolve_title"], primary)


def detection_sources(m: dict[str, Any], primary: str = "#1F3A5F", lang: str = "en") -> go.Figure:
    """How incidents were detected."""
    data = m["by_detection_source"]
    palette = {"alert": primary, "customer": "#B42318", "internal": "#8DA9C4", "unknown": "#BBBBBB"}
    fig = go.Figure(go.Pie(labels=[TEXT[lang].get(k, k) for k in data], values=list(data.values()),
                           hole=0.55,
                           marker={"colors": [palette.get(k, "#999999") for k in data]},
                           sort=False, textinfo="label+percent"))
    return _layout(fig, TEXT[lang]["detection_title"], primary)


REPORT_CHARTS = ("incidents_per_week", "availability", "error_budget", "mttr_trend", "detection")


def report_figures(m: dict[str, Any], primary: str, accent: str,
                   lang: str = "en") -> dict[str, go.Figure]:
    """The figures of the assessment report, by name (REPORT_CHARTS), in the report's language."""
    return {
        "incidents_per_week": incidents_per_week(m, primary, lang),
        "availability": availability_by_month(m, primary, accent, lang),
        "error_budget": error_budget(m, primary, lang),
        "mttr_trend": mttr_trend(m, primary, accent, lang),
        "detection": detection_sources(m, primary, lang),
    }


def _plotlyjs() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def ensure_browser() -> None:
    """Point kaleido at Debian's chromium when BROWSER_PATH is not set."""
    if not os.environ.get("BROWSER_PATH"):
        found = shutil.which("chromium") or shutil.which("chromium-browser")
        if found:
            os.environ["BROWSER_PATH"] = found


def figure_key(fig: go.Figure, width: int, height: int) -> str:
    """A chart's identity: its figure JSON, its size and the versions that draw it."""
    import importlib.metadata

    import plotly

    versions = f"plotly {plotly.__version__} kaleido {importlib.metadata.version('kaleido')}"
    text = f"{versions}\n{width}x{height}\n{fig.to_json(validate=False)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cache_dir() -> Path | None:
    from .caches import cache_root  # not store: it brings pandas

    root = cache_root()
    return None if root is None else root / "charts"


def _cached(folder: Path | None, key: str) -> str | None:
    if folder is None:
        return None
    try:
        return (folder / f"{key}.svg").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _keep(folder: Path | None, key: str, svg: str) -> None:
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / f"{key}.svg", svg)
    except OSError:
        pass  # a read-only cache costs time, never a chart


_session: dict[str, Any] = {}


def _start_session() -> bool:
    """kaleido's process-wide browser, started once and reused by every later export of this
    process (a report run, the web app's report worker); closed at exit. False if it fails."""
    import atexit

    import kaleido

    if _session.get("open"):
        return True
    try:
        kaleido.start_sync_server(n=1, plotlyjs=str(_plotlyjs()), mathjax=False,
                                  silence_warnings=True)
    except Exception:  # noqa: BLE001 - a per-call session still works
        return False
    _session["open"] = True
    atexit.register(stop_session)
    return True


def stop_session() -> None:
    """Close the shared browser (at exit, or when a caller wants its memory back)."""
    import kaleido

    if _session.pop("open", False):
        with contextlib.suppress(Exception):
            kaleido.stop_sync_server(silence_warnings=True)


def to_svg(figures: dict[str, go.Figure], width: int = 720, height: int = 300,
           sizes: dict[str, tuple[int, int]] | None = None,
           shared_session: bool = True) -> dict[str, str]:
    """Export every figure to SVG: from the chart cache when this exact figure was drawn before
    (keyed by figure_key), the others in one browser session (a browser per chart costs ~3 s
    each), the process's shared one unless `shared_session` is False."""
    import kaleido

    sizes = sizes or {}
    folder = _cache_dir()
    out: dict[str, str] = {}
    todo: dict[str, tuple[go.Figure, int, int, str]] = {}
    for name, fig in figures.items():
        w, h = sizes.get(name, (width, height))
        key = figure_key(fig, w, h)
        svg = _cached(folder, key)
        if svg is None:
            todo[name] = (fig, w, h, key)
        else:
            out[name] = svg
    if not todo:
        return {name: out[name] for name in figures}
    ensure_browser()
    if shared_session and _start_session():
        for name, (fig, w, h, _key) in todo.items():
            data = kaleido.calc_fig_sync(fig, opts={"format": "svg", "width": w, "height": h})
            out[name] = data.decode("utf-8")
    else:
        async def run() -> None:
            async with kaleido.Kaleido(n=1, plotlyjs=str(_plotlyjs()), mathjax=False) as k:
                for name, (fig, w, h, _key) in todo.items():
                    data = await k.calc_fig(fig, opts={"format": "svg", "width": w, "height": h})
                    out[name] = data.decode("utf-8")

        asyncio.run(run())
    for name, (_fig, _w, _h, key) in todo.items():
        _keep(folder, key, out[name])
    return {name: out[name] for name in figures}
