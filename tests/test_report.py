"""PDF reports: text, metadata, attachments, escaping, and no fetch outside the allowed assets."""

from __future__ import annotations

import io
import subprocess

import pytest

from assess.analysis import analyse
from assess.report import SafeFetcher, html_to_pdf, render_assessment, render_html

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory):
    from .conftest import SAMPLE

    out = tmp_path_factory.mktemp("reports")
    rendered = render_assessment(analyse(SAMPLE), out)
    return rendered


def text_of(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_assessment_report_text_and_figures(sample_pdf):
    assert sample_pdf.pages >= 8 and sample_pdf.refused == []
    text = text_of(sample_pdf.path)
    for phrase in ("Brightloop", "Executive summary", "Reactive", "Availability and error budget",
                   "Appendix A: incident list", "Northbeam Reliability", "CONFIDENTIAL",
                   "db-connection-pool @ api"):
        assert phrase in text, phrase


def test_report_numbers_match_the_metrics(sample_pdf):
    from .conftest import SAMPLE

    m = analyse(SAMPLE).metrics
    text = text_of(sample_pdf.path)
    assert f"{m['availability']['availability'] * 100:.2f}%" in text
    assert f"{m['incident_count']}" in text


def test_metadata_attachments_and_fonts(sample_pdf):
    reader = pypdf.PdfReader(str(sample_pdf.path))
    assert reader.metadata.title == "Reliability assessment: Brightloop"
    assert reader.metadata.author == "Camille Laurent"
    assert set(reader.attachments) == {"incidents.csv", "metrics.json"}
    csv = reader.attachments["incidents.csv"][0].decode()
    assert csv.startswith("key,source,external_id")
    fonts = subprocess.run(["pdffonts", str(sample_pdf.path)], capture_output=True, text=True).stdout
    assert "Inter" in fonts


def test_hostile_text_is_escaped_and_fetches_nothing(tmp_path):
    from assess.paths import data_dir

    hostile = ('<img src="file:///etc/passwd"><link rel="attachment" href="file:///etc/hostname">'
               '<img src="http://example.com/x.png">')
    html = render_html("assessment.html", _context_with_title(hostile))
    assert "<img src=\"file:///etc/passwd\">" not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    # and even raw markup handed to the PDF step cannot fetch outside the allowed roots
    fetcher = SafeFetcher([data_dir("report_templates")])
    pdf = html_to_pdf("<p>x</p>" + hostile, [data_dir("report_templates")], fetcher=fetcher)
    assert pdf.startswith(b"%PDF")
    assert any("/etc/passwd" in u for u in fetcher.refused)
    assert any("example.com" in u for u in fetcher.refused)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert not reader.attachments


def _context_with_title(title: str) -> dict:
    from assess.report import build_context

    from .conftest import SAMPLE

    a = analyse(SAMPLE)
    a.data.incidents.loc[0, "title"] = title
    ctx = build_context(a, "en", {k: "<svg xmlns='http://www.w3.org/2000/svg'/>" for k in
                                  ("incidents_per_week", "availability", "error_budget",
                                   "mttr_trend", "detection")})
    return ctx
