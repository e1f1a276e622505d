"""The web app as shown to a client: imports you can trust and undo, the plan edited inline,
labels not codes, honest empty states, deletion with confirmation, one error page."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
import yaml

from assess import analysis

from .conftest import SAMPLE
from .webutil import Web, make_app

PD = SAMPLE / "incidents" / "pagerduty_incidents_2026-08-03_2026-10-31.csv"


def root_of(app, eid: int) -> Path:
    from assess.web.db import EngagementRow

    ws = app.extensions["assess"]
    with ws.db.session() as s:
        return ws.folder(s.get(EngagementRow, eid))


def upload(web: Web, eid: int, content: bytes, name: str) -> int:
    r = web.post(f"/e/{eid}/imports", {"file": (io.BytesIO(content), name), "format": ""},
                  content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:500]
    return int(r.headers["Location"].rsplit("/", 1)[-1])


def text(web: Web, url: str) -> str:
    return html.unescape(web.get(url).data.decode())


def visible(page: str) -> str:
    """The words a reader sees in <main>: no tags, no attribute values, no JSON blocks."""
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|textarea)\b.*?</\1>", " ", main, flags=re.S)  # not read: edited
    return re.sub(r"<[^>]+>", " ", main)


def pagerduty(rows: int) -> bytes:
    lines = PD.read_text().splitlines()
    return ("\n".join(lines[: rows + 1]) + "\n").encode()


# --- imports --------------------------------------------------------------------------------------


def test_preview_counts_the_window_in_the_engagements_time_zone(alice):
    eid = alice.create()  # Europe/Paris, window 3 Aug - 31 Oct 2026
    lines = PD.read_text().splitlines()
    header = lines[0].split(",")
    created = header.index("created_on")
    early = lines[1].split(",")
    early[created] = "2026-05-02T08:00:00Z"  # before the window
    uid = upload(alice, eid, ("\n".join([lines[0], ",".join(early), lines[2], lines[3]]) + "\n").encode(),
                 "pd.csv")
    page = text(alice, f"/e/{eid}/imports/{uid}")
    assert "2 of 3 incidents fall in the window, 3 Aug 2026 - 31 Oct 2026 (1 before it)." in page
    assert "+00:00" not in page and "times in Europe/Paris" in page
    # 08:00 UTC on 2 May is 10:00 in Paris (summer time)
    assert "2026-05-02 10:00" in page


def test_a_file_outside_the_window_says_check_the_window(alice):
    eid = alice.create(window_end="2025-01-31")
    uid = upload(alice, eid, pagerduty(5), "pd.csv")
    page = text(alice, f"/e/{eid}/imports/{uid}")
    assert "0 of 5 incidents fall in the window" in page and "check the window in the settings" in page


def test_the_mapper_preselects_shows_samples_and_plain_names(alice):
    eid = alice.create()
    csv = (b"Ref,What happened,Opened,Closed,Prio\n"
           b"A-1,Checkout down,2026-10-01 10:00,2026-10-01 11:00,P1\n"
           b"A-2,Slow search,2026-10-02 09:00,2026-10-02 09:30,P3\n"
           b"A-3,Login errors,2026-10-03 09:00,2026-10-03 09:30,P2\n"
           b"A-4,Queue stuck,2026-10-04 09:00,2026-10-04 09:30,P2\n")
    uid = upload(alice, eid, csv, "ours.csv")
    page = text(alice, f"/e/{eid}/imports/{uid}")
    assert "Map the columns" in page
    words = visible(page)
    assert "--" not in words and "When it was resolved or closed" in words
    assert "mitigation_started" not in words and "external_id" not in words
    # recognised by name: Ref (id), Opened (detected), Closed (resolved); not "What happened"
    assert '<option value="Opened" selected>' in page and '<option value="Closed" selected>' in page
    assert '<option value="Ref" selected>' in page
    assert "A-1 · A-2 · A-3" in page  # three samples, not four
    assert "A-4" not in page.split('id="samples-external_id"')[1].split("</td>")[0]


def test_a_reupload_that_changes_nothing_says_so_once(app, alice):
    eid = alice.create()
    uid = upload(alice, eid, pagerduty(4), "pd.csv")
    alice.post(f"/e/{eid}/imports/{uid}/confirm")
    uid2 = upload(alice, eid, pagerduty(4), "pd again.csv")
    page = text(alice, f"/e/{eid}/imports/{uid2}")
    assert page.count("Nothing new in this file") == 1 and "already imported on" in page
    assert "/confirm" not in page  # nothing to import is offered
    # the same rows in another file: said too
    uid3 = upload(alice, eid, pagerduty(4).replace(b"\n", b"\r\n"), "pd crlf.csv")
    page = text(alice, f"/e/{eid}/imports/{uid3}")
    assert "Nothing new in this file" in page and "/confirm" not in page


def test_remove_an_imported_file_recomputes_the_figures(app, alice):
    eid = alice.create()
    uid = upload(alice, eid, pagerduty(6), "pd.csv")
    alice.post(f"/e/{eid}/imports/{uid}/confirm")
    root = root_of(app, eid)
    assert "No incidents imported yet" not in text(alice, f"/e/{eid}")
    assert len(analysis.analyse(root).data.incidents) == 6
    page = text(alice, f"/e/{eid}/imports")
    assert 'data-confirm="Remove pd.csv?' in page
    r = alice.post(f"/e/{eid}/imports/remove", {"file": "incidents/pd.csv"})
    assert r.status_code == 302
    assert "pd.csv was removed: its 6 incidents no longer count" in text(alice, f"/e/{eid}/imports")
    assert not (root / "incidents" / "pd.csv").exists()
    assert yaml.safe_load((root / "imports.yaml").read_text())["imports"][0]["removed"]
    assert len(analysis.analyse(root).data.incidents) == 0
    assert "No incidents imported yet" in text(alice, f"/e/{eid}")
    r = alice.post(f"/e/{eid}/imports/remove", {"file": "incidents/pd.csv"})
    assert "Nothing was removed" in text(alice, f"/e/{eid}/imports")


# --- respondents and engagements -----------------------------------------------------------------


def make_link(web: Web, eid: int, name: str, lang: str = "fr") -> str:
    from .webutil import link_token

    r = web.post(f"/e/{eid}/links", {"name": name, "role": "other", "language": lang, "days": 14})
    assert r.status_code == 302
    page = web.get(f"/e/{eid}/links").data.decode()
    assert 'data-copy-from="new-link-url"' in page  # the new link, with its copy button
    return link_token(page)


def badge_of(page: str, name: str) -> str:
    row = page.split(f"<td>{name}</td>", 1)[1].split("</tr>", 1)[0]
    return re.search(r'<span class="badge[^"]*"[^>]*>([^<]+)</span>', row).group(1)


def test_link_statuses_are_true_and_a_submitted_respondent_sees_their_thanks(app, alice):
    eid = alice.create()
    token = make_link(alice, eid, "Élodie Roux")
    page = text(alice, f"/e/{eid}/links")
    assert badge_of(page, "Élodie Roux") == "created" and "Other" in page and "French" in page
    staff = Web(app)
    staff.get(f"/s/{token}")  # a mail scanner's GET changes nothing
    assert badge_of(text(alice, f"/e/{eid}/links"), "Élodie Roux") == "created"
    staff.post(f"/s/{token}")
    assert badge_of(text(alice, f"/e/{eid}/links"), "Élodie Roux") == "opened"
    from assess import questionnaires

    q = next(q for q in questionnaires.load("self_assessment").questions.values() if q.type == "scale")
    saved = staff.post_json("/r/answers.json", {"answers": [{"question": q.id, "value": 2}]})
    assert saved.status_code == 200
    assert badge_of(text(alice, f"/e/{eid}/links"), "Élodie Roux") == "started"
    staff.post("/r/done")
    assert badge_of(text(alice, f"/e/{eid}/links"), "Élodie Roux") == "submitted"
    # the file keeps the accents
    alice.get(f"/e/{eid}")  # syncs the answers into the folder
    assert (root_of(app, eid) / "answers" / "self" / "other-élodie-roux.yaml").is_file()
    # opening the link again: the thanks page, in French, a 24-hour time, not the start page
    again = Web(app)
    page = text(again, f"/s/{token}")
    assert "Merci" in page and "Commencer" not in page
    assert re.search(r"transmises le \d{1,2} [a-zéû]+ 20\d\d à [0-2]\d:[0-5]\d\.", page), page


def test_withdraw_and_delete_a_respondent_with_confirmation(app, alice):
    eid = alice.create()
    make_link(alice, eid, "Sam Lee", "en")
    page = text(alice, f"/e/{eid}/links")
    assert 'data-confirm="Withdraw the link for Sam Lee?' in page
    assert 'data-confirm="Delete Sam Lee and their 0 answers?' in page
    rid = int(re.search(r"/links/(\d+)/delete", page).group(1))
    alice.post(f"/e/{eid}/links/{rid}/revoke")
    assert badge_of(text(alice, f"/e/{eid}/links"), "Sam Lee") == "withdrawn"
    alice.post(f"/e/{eid}/links/{rid}/delete")
    page = text(alice, f"/e/{eid}/links")
    assert "Sam Lee was deleted" in page and "<td>Sam Lee</td>" not in page


def test_engagements_list_archive_and_delete(app, alice):
    eid = alice.create("Keep Co")
    gone = alice.create("Gone Co")
    uid = upload(alice, eid, pagerduty(3), "pd.csv")
    alice.post(f"/e/{eid}/imports/{uid}/confirm")
    page = text(alice, "/engagements")
    row = page.split("Keep Co", 1)[1].split("</tr>", 1)[0]
    assert "0/" in row and "1 file" in row and "no link yet" in row
    alice.post(f"/e/{eid}/archive")
    page = text(alice, "/engagements")
    assert "<strong>Keep Co</strong>" not in page and "Archived (1)" in page
    assert "<strong>Keep Co</strong>" in text(alice, "/engagements?archived=1")
    folder = root_of(app, gone)
    r = alice.post(f"/e/{gone}/delete", {"confirm": "Gone"})  # not the name: nothing deleted
    assert folder.is_dir() and alice.get(f"/e/{gone}").status_code == 200
    assert 'data-confirm="Delete Gone Co for good' in text(alice, f"/e/{gone}/settings")
    r = alice.post(f"/e/{gone}/delete", {"confirm": "Gone Co"})
    assert r.status_code == 302 and not folder.exists()
    assert "Gone Co was deleted" in text(alice, "/engagements")
    assert alice.get(f"/e/{gone}").status_code == 404


def test_settings_edit_targets_hours_and_the_consultants_logo(app, alice):
    eid = alice.create()
    page = text(alice, f"/e/{eid}/settings")
    assert re.search(r'name="target_sev1"[^>]*value="5"', page)  # the default, in minutes
    assert re.search(r'name="hours_start"[^>]*value="09:00"', page)
    logo = SAMPLE / "branding" / "northbeam.svg"
    data = {"client": "Acme", "consultant": "Alice Martin", "timezone": "Europe/Paris",
            "window_end": "2026-10-31", "window_days": 90, "language": "en", "sla": "99.9",
            "target_sev1": "10", "target_sev2": "30", "hours_start": "08:30", "hours_end": "17:00",
            "hours_days": ["mon", "tue", "wed", "thu"]}
    if logo.is_file():
        data["consultant_logo"] = (io.BytesIO(logo.read_bytes()), logo.name)
    r = alice.post(f"/e/{eid}/settings", data, content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:3000]
    saved = yaml.safe_load((root_of(app, eid) / "engagement.yaml").read_text())
    assert saved["mitigation_targets"]["SEV1"] == 10 and saved["mitigation_targets"]["SEV2"] == 30
    assert saved["business_hours"] == {"start": "08:30", "end": "17:00", "days": ["mon", "tue", "wed", "thu"]}
    page = text(alice, f"/e/{eid}/settings")  # the days as ticked boxes, as saved
    assert '<input type="checkbox" name="hours_days" value="thu" checked>' in page
    assert '<input type="checkbox" name="hours_days" value="fri">' in page
    if logo.is_file():
        assert saved["branding"]["consultant_logo"].startswith("branding/logo-")
        got = alice.get(f"/e/{eid}/logo?whose=consultant")
        assert got.status_code == 200 and got.data[:4] == b"\x89PNG"
        got.close()
    bad = {**data, "hours_start": "18:00", "hours_end": "09:00"}
    bad.pop("consultant_logo", None)
    r = alice.post(f"/e/{eid}/settings", bad, content_type="multipart/form-data")
    assert r.status_code == 400 and "business_hours.end" in html.unescape(r.data.decode())


def test_user_create_reads_the_password_from_stdin(tmp_path):
    from click.testing import CliRunner

    from assess.cli import main

    home = tmp_path / "h"
    r = CliRunner().invoke(main, ["user", "create", "dana@firm.io", "--name", "Dana", "--home", str(home),
                                  "--password-stdin"], input="a long enough secret\n")
    assert r.exit_code == 0 and "Account created for dana@firm.io" in r.output
    assert "Warning" not in r.output and "secret" not in r.output
    w = Web(make_app(home))
    assert w.login("dana@firm.io", "a long enough secret").status_code == 302
    r = CliRunner().invoke(main, ["user", "create", "eve@firm.io", "--name", "Eve", "--home", str(home),
                                  "--password-stdin"], input="")
    assert r.exit_code == 1 and "standard input is empty" in r.output


# --- plan and risks ---------------------------------------------------------------------------------


@pytest.fixture
def sample(alice) -> int:
    from .webutil import zip_folder

    r = alice.post("/engagements/import", {"archive": (zip_folder(SAMPLE), "engagement.zip")},
                   content_type="multipart/form-data")
    assert r.status_code == 302
    return int(r.headers["Location"].rsplit("/", 1)[-1])


def post_inline(web: Web, url: str, data: dict):
    data = {"csrf_token": web.token(), **data}
    return web.c.post(url, data=data, headers={"Accept": "application/json"})


def test_inline_plan_edits_answer_json_and_flag_the_due_date(app, alice, sample):
    import datetime as dt

    from assess.engagement import save_settings

    root = root_of(app, sample)
    start = dt.date.today()
    save_settings(root, {"start_date": start.isoformat()})  # the plan starts today
    inside = (start + dt.timedelta(days=3)).isoformat()
    r = post_inline(alice, f"/e/{sample}/plan/actions/one-command-rollback",
                    {"op": "edit", "owner": "Jonas Weber", "due": inside, "due_was": "x",
                     "horizon": "0-7", "status_was": "planned", "note": "", "title": "", "title_was": ""})
    assert r.status_code == 200 and r.get_json() == {"ok": True, "message": "Saved", "flags": []}
    edit = yaml.safe_load((root / "overrides.yaml").read_text())["actions"]["edit"]["one-command-rollback"]
    assert edit["owner"] == "Jonas Weber" and edit["due"] == inside
    # day 40 is outside 0-7 days; a due date before today while not done is in the past
    late = (start + dt.timedelta(days=39)).isoformat()
    r = post_inline(alice, f"/e/{sample}/plan/actions/one-command-rollback",
                    {"op": "edit", "due": late, "due_was": inside, "horizon": "0-7", "status_was": "planned"})
    flags = r.get_json()["flags"]
    assert any("outside its horizon, 0–7 days" in f for f in flags), flags
    r = post_inline(alice, f"/e/{sample}/plan/actions/one-command-rollback",
                    {"op": "edit", "due": "2020-01-06", "due_was": late, "horizon": "0-7",
                     "status_was": "planned"})
    assert any("is in the past" in f for f in r.get_json()["flags"])
    page = text(alice, f"/e/{sample}/plan")
    row = page.split('id="a-one-command-rollback"')[1].split("</tr>")[0]
    assert "outside its horizon" in row and "overdue" in row and "data-inline" in row
    # a status set inline; a refused one says why, as JSON
    r = post_inline(alice, f"/e/{sample}/plan/actions/one-command-rollback",
                    {"op": "status", "status": "blocked", "status_date": ""})
    assert r.get_json()["ok"] is True
    status = yaml.safe_load((root / "overrides.yaml").read_text())["actions"]["status"]
    assert status["one-command-rollback"]["status"] == "blocked"
    r = post_inline(alice, f"/e/{sample}/plan/actions/one-command-rollback",
                    {"op": "status", "status": "finished"})
    assert r.status_code == 400 and "not a status" in r.get_json()["message"]


def test_plan_board_by_horizon_with_owners(alice, sample):
    page = text(alice, f"/e/{sample}/plan?view=board")
    cols = re.findall(r'<section class="board-col" aria-label="([^"]+)"', page)
    assert cols == ["0–7 days", "7–30 days", "30–90 days"]
    first = page.split('<section class="board-col"')[1]
    assert "board-card" in first and " · " in first  # owner · role on each card


def test_dropping_a_risk_whose_actions_carry_edits_asks_first(app, alice, sample):
    root = root_of(app, sample)
    from assess import analysis as an

    plan = an.judgement(an.analyse(root))["plan"]
    action = next(a for a in plan["actions"] if a.get("risks") and not a.get("pinned"))
    rid = action["risks"][0]
    alice.post(f"/e/{sample}/plan/actions/{action['id']}",
               {"op": "edit", "owner": "Jonas Weber", "due": "", "due_was": "", "note": "agreed"})
    r = alice.post(f"/e/{sample}/risks/{rid}", {"op": "drop"})
    page = html.unescape(r.data.decode())
    assert r.status_code == 200 and "What should happen to" in page and action["title"] in page
    ranking = an.judgement(an.analyse(root))["risks"]
    assert not next(x for x in ranking if x["id"] == rid).get("dropped")  # nothing yet
    alice.post(f"/e/{sample}/risks/{rid}", {"op": "drop", "then": "keep"})
    j = an.judgement(an.analyse(root))
    assert next(x for x in j["risks"] if x["id"] == rid)["dropped"]
    kept = next(a for a in j["plan"]["actions"] if a["id"] == action["id"])
    assert kept["pinned"] and kept["owner_display"] == "Jonas Weber"


# --- errors ---------------------------------------------------------------------------------------


def test_user_fixable_errors_share_one_base():
    from assess.engagement import EngagementError
    from assess.errors import AssessError
    from assess.importers.base import ImportError_
    from assess.questionnaires import QuestionnaireError

    assert all(issubclass(e, AssessError) and issubclass(e, ValueError)
               for e in (EngagementError, ImportError_, QuestionnaireError))


@pytest.mark.parametrize("page", ["", "/plan", "/risks", "/incidents", "/practices"])
def test_a_malformed_overrides_file_is_a_page_that_says_what_and_where(app, alice, sample, page):
    (root_of(app, sample) / "overrides.yaml").write_text("actions:\n  drop: [oops\n")
    r = alice.get(f"/e/{sample}{page}")
    body = html.unescape(r.data.decode())
    assert r.status_code == 422
    assert "overrides.yaml: line 3" in body and "not valid YAML" in body
    assert "What is wrong, and where" in body and "Export the engagement folder" in body
    r = alice.c.get(f"/e/{sample}{page}", headers={"Accept": "application/json"})
    assert r.status_code == 422 and "overrides.yaml" in r.get_json()["message"]


# --- static files -----------------------------------------------------------------------------------


def test_static_files_are_gzipped_and_cached_by_version(app, alice, sample):
    import gzip

    from assess.charts import _plotlyjs

    page = alice.get(f"/e/{sample}").data.decode()
    url = re.search(r'<script src="(/static/vendor/plotly\.min\.js\?v=[0-9a-f]+)"', page).group(1)
    r = alice.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    raw = _plotlyjs().read_bytes()
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.data) == raw and len(r.data) < len(raw) / 2
    assert "immutable" in r.headers["Cache-Control"] and "max-age=31536000" in r.headers["Cache-Control"]
    assert "Accept-Encoding" in r.headers["Vary"]
    again = alice.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]+)"', page).group(1)
    plain = alice.get(css)  # no Accept-Encoding: the bytes as they are
    assert "Content-Encoding" not in plain.headers and b".topbar" in plain.data
    assert alice.get("/static/../secret_key").status_code == 404
    assert alice.get(f"/e/{sample}").headers["Cache-Control"] == "no-store"  # pages never cached


# --- safe to show the client ------------------------------------------------------------------------


def test_before_any_data_the_pages_say_what_is_missing(alice):
    eid = alice.create()
    words = visible(text(alice, f"/e/{eid}"))
    assert "No incidents imported yet" in words and "Import exports" in words
    assert "100.000%" not in words and "Availability" not in words
    assert "Not assessed yet" in words and "Reactive" not in words
    risks = visible(text(alice, f"/e/{eid}/risks"))
    assert "No risk can be scored yet" in risks and "score 0.00" not in risks and "score 0" not in risks


def test_labels_not_codes(app, alice, sample):
    import itertools

    from assess import questionnaires

    codes = {o["value"] for q in itertools.chain(questionnaires.load("intake").questions.values(),
                                                 questionnaires.load("self_assessment").questions.values())
             for o in q.options if "_" in str(o["value"])}
    qids = set(questionnaires.load("intake").questions)
    for page in ("", "/risks", "/practices", "/links", "/plan"):
        words = visible(text(alice, f"/e/{sample}{page}"))
        shown = {c for c in codes if re.search(rf"\b{re.escape(c)}\b", words)}
        assert not shown, (page, shown)
        assert not {q for q in qids if q in words}, page
        assert not re.search(r"\b1 incidents\b|\b1 answers\b|\(s\)\s", words), page
    risks = visible(text(alice, f"/e/{sample}/risks"))
    assert "answered “No”" in risks and "(a risk above 30 min)" in risks
    assert "answered “35 min”" in risks  # a duration with its unit
    overview = visible(text(alice, f"/e/{sample}"))
    assert "Founder / CEO" in overview and "founder" not in overview
    assert overview.count("Why this maturity") == 1 and "Maturity:" not in overview


def test_charts_speak_in_words_and_explain_the_partial_month(alice, sample):
    import json

    page = alice.get(f"/e/{sample}").data.decode()
    charts = {m.group(1): json.loads(m.group(2).replace("<\\/", "</")) for m in re.finditer(
        r'<script type="application/json" id="chart-([a-z_]+)">(.*?)</script>', page, re.S)}
    week = charts["incidents_per_week"]["data"][0]
    assert week["hovertemplate"].startswith(f"{week['name']} incidents in the week of %{{x}}")
    assert "times the month's error budget used" in charts["error_budget"]["data"][0]["hovertemplate"]
    assert "Detected by %{label}" in charts["detection"]["data"][0]["hovertemplate"]
    assert any(str(x).endswith("*") for x in charts["availability"]["data"][0]["x"])
    assert "A month marked with an asterisk is only partly inside the window" in page
