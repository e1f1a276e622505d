"""Security and bad-input findings (issue 20): each test failed before its fix.

Bounded work on hostile input (title clustering, YAML, XLSX), neutralised formulas in every CSV
the product writes, text that looks empty kept as text, sessions, redirects, trusted hosts, logs,
downloads, backups, logos and the dependency floors that matter for security."""

from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from assess import enrich, store
from assess.engagement import EngagementError, load_engagement
from assess.importers.base import ImportError_
from assess.web.db import Respondent

from .webutil import PASSWORD, Web, make_app

# --- title clustering is bounded ----------------------------------------------------------------


def _incidents(titles: list[str]) -> pd.DataFrame:
    n = len(titles)
    return pd.DataFrame({"title": titles, "root_cause": [None] * n, "service": ["api"] * n})


def _count_compared(monkeypatch) -> dict:
    """Record what incident_classes hands the scorer; refuse texts longer than its bound."""
    from rapidfuzz import process

    seen = {"calls": 0, "choices": 0, "longest": 0}
    real = process.extractOne

    def counting(query, choices, **kw):
        longest = max([len(query), *map(len, choices)])
        seen["longest"] = max(seen["longest"], longest)
        if longest > enrich.TITLE_COMPARE_CHARS:
            raise AssertionError(f"a {longest}-character text was compared")
        seen["calls"] += 1
        seen["choices"] += len(choices)
        return real(query, choices, **kw)

    monkeypatch.setattr(process, "extractOne", counting)
    return seen


def test_title_clustering_compares_bounded_text(monkeypatch):
    """50 distinct 100 kB titles among 10,000 incidents took 135 s: each title is now compared
    on its first TITLE_COMPARE_CHARS normalised characters."""
    import random

    rnd = random.Random(7)
    words = ["disk", "queue", "latency", "payments", "login", "timeout", "cache", "replica"]
    long_titles = [" ".join(rnd.choice(words) for _ in range(15_000))[:100_000] for _ in range(50)]
    titles = [f"Checkout latency high on node {i % 7}" for i in range(9950)] + long_titles
    seen = _count_compared(monkeypatch)
    classes = enrich.incident_classes(_incidents(titles))
    assert seen["longest"] <= enrich.TITLE_COMPARE_CHARS
    # the short family is one class (numbers are noise), whatever the long ones do
    assert classes.iloc[:9950].nunique() == 1
    assert classes.notna().all()


def test_title_clustering_compares_with_a_bounded_number_of_clusters(monkeypatch):
    """Distinct unrelated titles are compared with at most TITLE_CLUSTERS_MAX clusters each, so
    the work grows linearly with their count; past the cap a title is a class of its own."""
    monkeypatch.setattr(enrich, "TITLE_CLUSTERS_MAX", 10)
    seen = _count_compared(monkeypatch)
    letters = "abcdefghijklmnopqrstuvwxyz"
    # 40 titles with nothing in common (distinct letter pairs), then a near-copy of the 35th
    titles = [" ".join(letters[i % 26] + letters[(i * 7 + 3) % 26] * 6 for _ in range(3))
              + f" {letters[i % 26] * 5}" for i in range(40)]
    titles = list(dict.fromkeys(titles))
    n = len(titles)
    classes = enrich.incident_classes(_incidents(titles + [titles[2] + " x"]))
    assert seen["choices"] <= (n + 1) * 10
    assert classes.nunique() == n  # the near-copy of an early title joined its class
    assert classes.iloc[-1] == classes.iloc[2]


def test_title_clustering_long_titles_equal_on_their_compared_part_are_one_class():
    head = "database primary failover stalled writes " * 6  # > 200 characters once normalised
    a, b = head + "in region one", head + "after the storage vendor patch went out"
    classes = enrich.incident_classes(_incidents([a, b, "login page blank"]))
    assert classes.iloc[0] == classes.iloc[1] != classes.iloc[2]


# --- YAML parsed within limits; a failed folder import leaves nothing ------------------------------


def _folders(app) -> set[str]:
    root = app.extensions["assess"].engagements
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def _zip(folder: Path) -> io.BytesIO:
    """The folder as a compressed zip (a padded YAML file stays a small upload)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, Path(folder.name) / p.relative_to(folder))
    buf.seek(0)
    return buf


def _import_refused(alice: Web, folder: Path, *expected: str) -> None:
    before = _folders(alice.app)
    r = alice.post("/engagements/import", {"archive": (_zip(folder), "engagement.zip")},
                   content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:500]
    page = html.unescape(alice.get("/engagements").data.decode())
    assert "Nothing was imported" in page
    for text in expected:
        assert text in page, text
    assert _folders(alice.app) == before  # no orphan folder on disk


BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
        'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n')


def test_an_alias_bomb_in_an_answers_file_is_refused(alice, sample_copy):
    path = sample_copy / "answers" / "self" / "engineer.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(BOMB + text.replace("answers:\n", "answers:\n  oncall.load: {value: *e}\n", 1),
                    encoding="utf-8")
    _import_refused(alice, sample_copy, "engineer.yaml: line 2", "aliases that expand")


def test_an_oversized_engagement_yaml_is_refused(alice, sample_copy):
    path = sample_copy / "engagement.yaml"
    path.write_text(path.read_text(encoding="utf-8") + ("# padding\n" * 300_000), encoding="utf-8")
    _import_refused(alice, sample_copy, "engagement.yaml", "at most 2 MB")
    with pytest.raises(EngagementError, match="at most 2 MB"):
        load_engagement(sample_copy)


@pytest.mark.parametrize("name", ["overrides.yaml", "postmortems.yaml", "answers/intake.yaml"])
def test_a_python_tag_in_any_yaml_is_refused_by_name(alice, sample_copy, name):
    path = sample_copy / name
    path.write_text(path.read_text(encoding="utf-8") + "\nx: !!python/object:os.system {}\n",
                    encoding="utf-8")
    _import_refused(alice, sample_copy, name, "python/object", "is not accepted")


def test_a_python_tag_in_a_folder_on_disk_is_a_clear_error(sample_copy):
    (sample_copy / "postmortems.yaml").write_text("postmortems: !!python/object:os.system {}\n")
    with pytest.raises(EngagementError, match=r"postmortems.yaml: line 1: the tag"):
        store.load(load_engagement(sample_copy))


def test_answer_values_are_validated_on_import(alice, sample_copy):
    path = sample_copy / "answers" / "intake.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("oncall.people_in_rotation: {value: 8,",
                                 "oncall.people_in_rotation: {value: [1, 2, {x: 3}],", 1),
                    encoding="utf-8")
    _import_refused(alice, sample_copy, "answers/intake.yaml: question 'oncall.people_in_rotation'")


def test_an_unreadable_answers_file_leaves_no_orphan_folder(alice, sample_copy):
    (sample_copy / "answers" / "self" / "founder.yaml").write_text("answers: 5\n")
    _import_refused(alice, sample_copy, "founder.yaml")


# --- imports: bad files are clear errors, never 500s ---------------------------------------------


@pytest.fixture
def acme(engagement_dir):
    return load_engagement(engagement_dir)


def _workbook(path: Path, rows: int = 2) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["title", "detected"])
    for i in range(rows):
        sheet.append([f"Outage {i}", f"2026-03-{1 + i % 28:02d}T10:00:00Z"])
    wb.save(path)
    return path


def _rewrite_sheet(path: Path, transform) -> Path:
    """The workbook with its first sheet's XML passed through transform(text)."""
    out = path.with_name("hostile-" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = transform(data.decode("utf-8")).encode("utf-8")
            dst.writestr(info, data)
    return out


def _with_doctype(doctype: str, entity: str):
    """Declare entities before the sheet's root and use one as cell A2's text."""
    def transform(text: str) -> str:
        assert "<t>Outage 0</t>" in text
        text = text.replace("<t>Outage 0</t>", f"<t>{entity}</t>", 1)
        if text.startswith("<?xml"):
            head, rest = text.split("?>", 1)
            return f"{head}?>{doctype}{rest}"
        return doctype + text
    return transform


XXE = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY a "lollollollollollollollollollol">'
          + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi",
                                                                           strict=True))
          + "]>")


@pytest.mark.parametrize("doctype,entity", [(XXE, "&xxe;"), (LAUGHS, "&i;")], ids=["xxe", "laughs"])
def test_xlsx_with_entities_is_refused(acme, tmp_path, doctype, entity):
    """The entity is used in the sheet's XML, which is parsed through defusedxml."""
    hostile = _rewrite_sheet(_workbook(tmp_path / "book.xlsx"), _with_doctype(doctype, entity))
    with pytest.raises(ImportError_, match="entities or a DTD"):
        store.preview_file(acme, hostile, "generic-xlsx", {})


def test_xlsx_rows_are_capped(acme, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSESS_MAX_ROWS", "30")
    report, frame = store.preview_file(acme, _workbook(tmp_path / "ok.xlsx", rows=30), "generic-xlsx", {})
    assert len(frame) == 30
    with pytest.raises(ImportError_, match=r"more than 30 rows; one import reads at most 30"):
        store.preview_file(acme, _workbook(tmp_path / "big.xlsx", rows=31), "generic-xlsx", {})
    monkeypatch.setenv("ASSESS_MAX_ROWS", "lots")
    with pytest.raises(ImportError_, match="ASSESS_MAX_ROWS"):
        store.preview_file(acme, _workbook(tmp_path / "ok.xlsx", rows=1), "generic-xlsx", {})


def test_the_default_row_cap_is_documented():
    from assess.importers.generic import MAX_ROWS

    doc = (Path(__file__).parent.parent / "docs" / "import-formats.md").read_text(encoding="utf-8")
    assert "ASSESS_MAX_ROWS" in doc and f"{MAX_ROWS:,}" in doc


@pytest.mark.parametrize("name,data,expected", [
    ("binary.csv", bytes(range(256)) * 8, "binary content"),
    ("sjis.csv", "タイトル,検出\n障害,2026-03-01T10:00:00Z\n".encode("shift_jis"), "save it as UTF-8"),
    ("utf16.csv", "title,detected\nDown,2026-03-01T10:00:00Z\n".encode("utf-16-le"),
     "UTF-16 text without a byte-order mark"),
])
def test_generic_csv_on_undecodable_files_is_a_clear_error(acme, tmp_path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ImportError_, match=expected):
        store.preview_file(acme, path, "generic-csv", {})


def test_words_that_look_empty_are_text(acme, tmp_path):
    """'None', 'null', 'N/A', '-' and '?' are titles like any other in a generic CSV; a time
    written 'N/A' is a rejected cell, never a silent blank."""
    path = tmp_path / "incidents.csv"
    rows = ["id,title,detected,resolved"]
    rows += [f"{i},{t},2026-03-0{i}T10:00:00Z,2026-03-0{i}T11:00:00Z"
             for i, t in enumerate(["None", "null", "N/A", "-", "?"], start=1)]
    rows.append("6,Disk full,2026-03-06T10:00:00Z,N/A")
    path.write_text("\n".join(rows) + "\n")
    report, frame = store.preview_file(acme, path, "generic-csv", {})
    assert sorted(frame["title"]) == sorted(["None", "null", "N/A", "-", "?"])
    assert [p.row for p in report.rejected] == [7] and "resolved" in str(report.rejected[0])


def test_servicenow_question_mark_stays_empty(acme, tmp_path):
    path = tmp_path / "sn.csv"
    path.write_text("number,short_description,opened_at,resolved_at,priority\n"
                    "INC001,?,2026-03-01 10:00:00,?,1 - Critical\n"
                    "INC002,None,2026-03-02 10:00:00,2026-03-02 11:00:00,?\n")
    _report, frame = store.preview_file(acme, path, "servicenow-csv", {})
    by_id = frame.set_index("external_id")
    assert pd.isna(by_id.loc["INC001", "resolved"])
    assert by_id.loc["INC002", "title"] == "None"


def test_deeply_nested_json_is_a_clear_error_not_a_traceback(engagement_dir, tmp_path):
    from click.testing import CliRunner

    from assess.cli import main

    path = tmp_path / "deep.json"
    path.write_text('{"incidents": ' + "[" * 200_000 + "]" * 200_000 + "}")
    result = CliRunner().invoke(main, ["import", str(engagement_dir), str(path),
                                       "--format", "pagerduty-json"])
    assert result.exit_code == 1, result.output
    assert "nested too deeply" in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, RecursionError)


# --- what the product writes ---------------------------------------------------------------------


def test_every_text_cell_that_a_spreadsheet_would_run_is_neutralised():
    import csv

    from assess.files import safe_csv

    cells = ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rcmd", "plain", "a=b"]
    frame = pd.DataFrame({"title": cells, "n": range(len(cells)),
                          "s": pd.Series(cells, dtype="string")})
    rows = list(csv.reader(io.StringIO(safe_csv(frame), newline="")))
    assert rows[0] == ["title", "n", "s"]
    titles = [r[0] for r in rows[1:]]
    assert titles[:6] == ["'" + c for c in cells[:6]] and titles[6:] == ["plain", "a=b"]
    assert [r[2] for r in rows[1:]] == titles
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(len(cells))]  # numbers untouched


@pytest.mark.slow
def test_the_pdfs_attach_neutralised_csv_and_escape_the_client_once(sample_copy, tmp_path):
    """incidents.csv attached to both PDFs holds no live formula; the summary paragraph shows
    the client's name as typed (it was escaped twice: O&#39;Reilly &amp; Sons)."""
    import subprocess

    import pypdf

    from assess import analysis, report
    from assess.engagement import save_settings

    save_settings(sample_copy, {"client.name": "O'Reilly & Sons"})
    a = analysis.analyse(sample_copy)
    key = a.data.incidents["key"].iloc[0]
    a.data.incidents.loc[a.data.incidents["key"] == key, "title"] = "=cmd|' /C calc'!A0"
    rendered = report.render(a, tmp_path, "due_diligence", "en", archival=False)
    text = subprocess.run(["pdftotext", str(rendered.path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "O'Reilly & Sons operates at" in text.replace("\u2019", "'")
    assert "&amp;" not in text and "&#39;" not in text
    attached = pypdf.PdfReader(str(rendered.path)).attachments["incidents.csv"][0].decode()
    assert "'=cmd|' /C calc'!A0" in attached
    assert not any(line.startswith(("=", "+", "@")) or ",=" in line or ",+" in line or ",@" in line
                   for line in attached.splitlines())


def test_the_report_time_limit_covers_the_analysis(monkeypatch, tmp_path):
    """`assess report --time-limit` stops a slow analysis too (it ran outside the limit)."""
    import time

    from click.testing import CliRunner

    from assess import analysis
    from assess.cli import main

    def slow(_root):
        time.sleep(5)
        raise AssertionError("the analysis was not stopped")

    monkeypatch.setattr(analysis, "analyse", slow)
    result = CliRunner().invoke(main, ["report", str(tmp_path), "--report", "assessment",
                                       "--time-limit", "0.5"])
    assert result.exit_code == 1 and "took longer than 0.5 s" in result.output, result.output


# --- sessions, redirects, hosts -------------------------------------------------------------------


def test_signing_out_ends_every_copy_of_the_session(app, alice):
    cookie = alice.c.get_cookie("assess_session")
    assert cookie is not None
    thief = Web(app)
    thief.c.set_cookie("assess_session", cookie.value)
    assert thief.get("/engagements").status_code == 200
    assert alice.post("/logout").status_code == 302
    r = thief.get("/engagements")  # the copied cookie no longer signs anyone in
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert Web(app).login().status_code == 302  # signing in again works


@pytest.mark.parametrize("evil", ["/%09/evil.example", "/%0a/evil.example", "/%0d%0aSet-Cookie:%20x=1",
                                  "%2F%2Fevil.example", "/%5Cevil.example", "https:evil.example",
                                  "/%20/evil.example", "///evil.example"])
def test_sign_in_never_redirects_off_site_nor_fails(app, evil):
    r = Web(app).post(f"/login?next={evil}", {"email": "alice@firm.io", "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/engagements", evil


def test_a_forged_host_is_refused(app, alice):
    eid = alice.create()
    r = alice.c.get(f"/e/{eid}/links", headers={"Host": "evil.example"})
    assert r.status_code == 400
    r = alice.post(f"/e/{eid}/links", {"name": "Zoe", "role": "cto", "language": "en", "days": 3},
                   headers={"Host": "evil.example"})
    assert r.status_code == 400
    with app.extensions["assess"].db.session() as s:
        assert s.scalar(select(Respondent).where(Respondent.name == "Zoe")) is None


def test_links_use_the_configured_public_url(home, monkeypatch):
    monkeypatch.setenv("ASSESS_PUBLIC_URL", "https://assess.firm.example/")
    assert Web(make_app(home)).c.get("/login").status_code == 400  # only the public host
    monkeypatch.setenv("ASSESS_TRUSTED_HOSTS", "localhost")  # plus the test client's
    app = make_app(home)
    w = Web(app)
    assert w.login().status_code == 302
    eid = w.create()
    w.post(f"/e/{eid}/links", {"name": "Zoe", "role": "cto", "language": "en", "days": 3})
    page = w.get(f"/e/{eid}/links").data.decode()
    assert re.search(r'value="https://assess\.firm\.example/s/[A-Za-z0-9_\-]{20,}"', page)


def test_an_id_past_64_bits_is_not_found(alice):
    for url in ("/e/99999999999999999999", "/e/18446744073709551616/reports",
                "/e/1/reports/99999999999999999999.json"):
        assert alice.get(url).status_code == 404, url


def test_the_links_page_holds_a_real_csrf_token(alice):
    eid = alice.create()
    page = alice.get(f"/e/{eid}/links").data.decode()
    token = re.search(r'<meta name="csrf-token" content="([^"]*)">', page).group(1)
    assert "Macro" not in token and len(token) > 20
    r = alice.c.post(f"/e/{eid}/links", data={"name": "Zoe", "role": "cto", "language": "en",
                                              "days": 3, "csrf_token": token})
    assert r.status_code == 302


# --- uploads and downloads ----------------------------------------------------------------------


def test_a_300_character_file_name_imports(app, alice):
    eid = alice.create()
    content = (Path(__file__).parent.parent / "sample_engagement" / "incidents" /
               "pagerduty_incidents_2026-08-03_2026-10-31.csv").read_bytes()
    name = "x" * 296 + ".csv"
    r = alice.post(f"/e/{eid}/imports", {"file": (io.BytesIO(content), name), "format": ""},
                   content_type="multipart/form-data")
    uid = int(r.headers["Location"].rsplit("/", 1)[-1])
    r = alice.post(f"/e/{eid}/imports/{uid}/confirm")
    assert r.status_code == 302
    page = html.unescape(alice.get(f"/e/{eid}/imports/{uid}").data.decode())
    assert "incidents imported" in page
    stored = list((_root(app, eid) / "incidents").iterdir())
    assert len(stored) == 1 and len(stored[0].name) <= 120 and stored[0].suffix == ".csv"


def _root(app, eid: int) -> Path:
    from assess.web.db import EngagementRow

    ws = app.extensions["assess"]
    with ws.db.session() as s:
        return ws.folder(s.get(EngagementRow, eid))


def test_downloads_are_attachments_never_stored(app, alice):
    from assess.web.db import ReportJob

    eid = alice.create()
    r = alice.get(f"/e/{eid}/export.zip")
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"].startswith("attachment")
    png = _png(4, 4)
    r = alice.post(f"/e/{eid}/settings", {**_settings(), "logo": (io.BytesIO(png), "logo.png")},
                   content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:1000]
    r = alice.get(f"/e/{eid}/logo")
    r.close()
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"].startswith("attachment")
    out = _root(app, eid) / "reports" / "v1"
    out.mkdir(parents=True)
    (out / "acme-assessment-en.pdf").write_bytes(b"%PDF-1.7\n")
    with app.extensions["assess"].db.write() as s:
        s.add(ReportJob(engagement_id=eid, version=1, language="en", status="done", progress=100,
                        files=["acme-assessment-en.pdf"]))
    r = alice.get(f"/e/{eid}/reports/1/acme-assessment-en.pdf")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"].startswith("attachment")
    r.close()


def _settings(**fields) -> dict:
    return {"client": "Acme", "consultant": "Alice Martin", "timezone": "Europe/Paris",
            "window_end": "2026-10-31", "window_days": "90", "language": "en", "sla": "99.9",
            **fields}


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), "#336699").save(buf, "PNG")
    return buf.getvalue()


def test_backups_are_readable_by_their_owner_only(app, alice, tmp_path):
    import os
    import stat

    from click.testing import CliRunner

    from assess.cli import main

    alice.create()
    old = os.umask(0o022)
    try:
        out = tmp_path / "b.tar.gz"
        res = CliRunner().invoke(main, ["backup", "--home", str(app.extensions["assess"].home),
                                        "--out", str(out)])
        assert res.exit_code == 0, res.output
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        default = CliRunner().invoke(main, ["backup", "--home", str(app.extensions["assess"].home)])
        made = next((app.extensions["assess"].home / "backups").glob("*.tar.gz"))
        assert default.exit_code == 0 and stat.S_IMODE(made.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_weasyprint_floor_is_declared_and_installed():
    """WeasyPrint before 70 lacks fixes the report's safe fetching relies on."""
    import importlib.metadata
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    declared = [d for d in pyproject["project"]["dependencies"] if d.lower().startswith("weasyprint")]
    assert declared and re.search(r">=\s*(\d+)", declared[0]) and \
        int(re.search(r">=\s*(\d+)", declared[0]).group(1)) >= 70
    major = int(importlib.metadata.version("weasyprint").split(".")[0])
    assert major >= 70


# --- under gunicorn --------------------------------------------------------------------------------


def _raw(base: str, request: bytes) -> bytes:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.mark.slow
def test_gunicorn_keeps_tokens_out_of_its_log_and_headers_on_its_errors(home):
    import urllib.error
    import urllib.request

    from .webutil import running_server

    token = "Zx9" + "q" * 40
    with running_server(home, workers=1) as base:
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/s/{token}?x=1", timeout=10)
        # gunicorn's own answers: a request line over its limit, a malformed request
        too_long = _raw(base, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
        malformed = _raw(base, b"GET /s/" + token.encode()
                         + b" HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n")
        forged = _raw(base, b"GET /login HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    log = (home / "server.log").read_text()
    assert token not in log and "/s/[token]" in log
    for answer, status in ((too_long, b"414"), (malformed, b"400")):
        head = answer.split(b"\r\n\r\n", 1)[0]
        assert head.split(b" ")[1] == status, head
        assert b"X-Content-Type-Options: nosniff" in head and b"X-Frame-Options: DENY" in head
        assert b"Content-Security-Policy: default-src 'none'" in head
    assert forged.split(b" ")[1] == b"400"


# --- logos ------------------------------------------------------------------------------------------


def _use_fan_out(levels: int = 11) -> bytes:
    """1.5-3 kB of SVG whose <use> elements multiply into 10**levels shapes."""
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
             'width="100" height="100"><defs><rect id="a0" width="1" height="1"/>']
    for i in range(1, levels + 1):
        parts.append(f'<g id="a{i}">' + f'<use xlink:href="#a{i - 1}"/>' * 10 + "</g>")
    parts.append(f'</defs><use xlink:href="#a{levels}"/></svg>')
    return "".join(parts).encode()


def _upload_logo(alice: Web, eid: int, blob: bytes, name: str):
    return alice.post(f"/e/{eid}/settings", {**_settings(), "logo": (io.BytesIO(blob), name)},
                      content_type="multipart/form-data")


def test_a_hostile_svg_logo_is_refused_and_nothing_stored(app, alice):
    eid = alice.create()
    bomb = _use_fan_out()
    assert len(bomb) < 4000
    r = _upload_logo(alice, eid, bomb, "logo.svg")
    assert r.status_code == 400 and "Logo not saved" in html.unescape(r.data.decode())
    assert not list((_root(app, eid) / "branding").glob("logo-*"))
    assert alice.get(f"/e/{eid}/logo").status_code == 404


def test_an_svg_logo_is_kept_as_a_png_drawn_within_limits(app, alice):
    eid = alice.create()
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><script>alert(1)</script>'
           b'<rect width="40" height="20" fill="#1F3A5F"/></svg>')
    assert _upload_logo(alice, eid, svg, "logo.svg").status_code == 302
    (logo,) = (_root(app, eid) / "branding").glob("logo-*")
    from PIL import Image

    with Image.open(logo) as im:
        assert im.format == "PNG" and im.size == (800, 400)
    assert b"script" not in logo.read_bytes()


def test_an_oversized_raster_logo_is_refused(app, alice):
    import zlib

    eid = alice.create()
    # a valid PNG header announcing 60,000 x 60,000 pixels, a few hundred bytes on the wire
    def chunk(kind: bytes, data: bytes) -> bytes:
        import struct

        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    import struct

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
    r = _upload_logo(alice, eid, png, "huge.png")
    assert r.status_code == 400 and "pixels" in html.unescape(r.data.decode())
    r = _upload_logo(alice, eid, b"GIF89a not a png", "fake.png")
    assert r.status_code == 400 and "not a readable PNG" in html.unescape(r.data.decode())


def test_an_imported_folder_s_svg_logos_are_drawn_or_refused(app, alice, sample_copy):
    (sample_copy / "branding" / "brightloop.svg").write_bytes(_use_fan_out())
    _import_refused(alice, sample_copy, "branding/brightloop.svg", "could not be drawn")
    (sample_copy / "branding" / "brightloop.svg").write_bytes(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    eid = alice.import_folder(sample_copy)
    e = load_engagement(_root(app, eid))
    assert e.branding.logo.suffix == ".png" and e.branding.consultant_logo.suffix == ".png"
    assert not list((_root(app, eid) / "branding").glob("*.svg"))


# --- a busy database ----------------------------------------------------------------------------


def _hold_write_lock(home: Path, seconds: float):
    import sqlite3
    import threading
    import time

    taken = threading.Event()

    def hold():
        conn = sqlite3.connect(home / "assess.db", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(5)
    return thread


def test_a_held_write_lock_is_waited_for_then_a_clear_error_keeps_the_text(home, monkeypatch):
    from assess.web import db

    monkeypatch.setattr(db, "BUSY_MS", 100)
    monkeypatch.setattr(db, "WRITE_WAIT", 1.5)
    app = make_app(home)
    w = Web(app)
    assert w.login().status_code == 302
    eid = w.import_folder(Path(__file__).parent.parent / "sample_engagement")
    form = {"name": "Zoé O'Neil, head of support", "role": "support", "language": "fr", "days": "7"}
    thread = _hold_write_lock(home, 0.6)  # shorter than the wait: retried, then saved
    r = w.post(f"/e/{eid}/links", form)
    thread.join()
    assert r.status_code == 302
    thread = _hold_write_lock(home, 4.0)  # longer: a 503 that keeps what was typed
    token = w.token()
    r = w.c.post(f"/e/{eid}/links", data={**form, "csrf_token": token})
    thread.join()
    page = html.unescape(r.data.decode())
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert "nothing was saved" in page and 'value="Zoé O\'Neil, head of support"' in page
    assert f'action="/e/{eid}/links"' in page and 'value="support"' in page
    # sending it again from that page works once the lock is free
    sent = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', html.unescape(page)))
    assert w.c.post(f"/e/{eid}/links", data=sent).status_code == 302
    # a busy sign-in never echoes the password
    thread = _hold_write_lock(home, 4.0)
    r = Web(app).post("/login", {"email": "alice@firm.io", "password": PASSWORD})
    thread.join()
    assert r.status_code == 503 and PASSWORD not in r.data.decode()
