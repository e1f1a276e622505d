"""The progress report: the check-in (assess/checkin.py) as a short branded PDF for the founders
and the data room, PDF/A-3b with the check-in's data attached, in English or French."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from .engagement import Engagement
from .report import (
    TEMPLATES,
    Rendered,
    SafeFetcher,
    _slug,
    data_uri,
    layout,
    render_html,
    translator,
    version,
    write_pdf,
)


def render_progress(e: Engagement, c: dict[str, Any], out_dir: Path, lang: str | None = None,
                    archival: bool = True) -> Rendered:
    """Write <client>-progress-day<N>-<lang>.pdf from a check-in document."""
    lang = lang or c.get("language") or e.language
    t, tl = translator(lang)
    context = {
        "lang": lang, "t": t, "tl": tl, "e": e, "c": c,
        "generated": dt.date.today().isoformat(), "version": version(),
        "logo": data_uri(e.branding.logo) if e.branding.logo else None,
        "consultant_logo": data_uri(e.branding.consultant_logo) if e.branding.consultant_logo
        else None,
        "colon": " : " if lang == "fr" else ": ",
        "fonts_dir": (TEMPLATES / "fonts").as_uri(),
    }
    html = render_html("progress.html", context)
    roots = [TEMPLATES] + ([e.path("branding")] if e.path("branding").is_dir() else [])
    fetcher = SafeFetcher(roots)
    doc = layout(html, fetcher)
    title = f"{t('pr_title', day=c['day'])}{context['colon']}{e.client}"
    pdf = write_pdf(
        doc,
        metadata={"title": str(title), "authors": [e.consultant],
                  "description": f"{e.client}, check-in of {c['as_of']}",
                  "keywords": ["reliability", "progress", e.client, c["as_of"]],
                  "lang": lang, "generator": f"assess {context['version']}",
                  "custom": {"Client": e.client, "Consultant": e.consultant_firm,
                             "AsOf": c["as_of"], "Report": "progress",
                             "Version": context["version"]}},
        attachments=[("checkin.json", json.dumps(c, indent=2, default=str,
                                                 ensure_ascii=False).encode("utf-8"),
                      "The check-in: baseline against the weeks since the plan started")],
        variant="pdf/a-3b" if archival else None,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{_slug(e.client)}-progress-day{c['day']}-{lang}.pdf"
    path.write_bytes(pdf)
    return Rendered(path=path, pages=len(doc.pages), refused=fetcher.refused, timings={})
