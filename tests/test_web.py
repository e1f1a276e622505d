"""The web app through Flask's test client: every route, the access rules, CSRF, autosave, links,
imports, plan edits written to overrides.yaml, export/import of the folder, migrations, backup."""

from __future__ import annotations

import datetime as dt
import io
import re
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from assess import analysis, questionnaires
from assess.analysis import analyse
from assess.web.db import Answer, Respondent, head_revision
from assess.web.service import sync_answers

from .conftest import SAMPLE
from .webutil import (
    PASSWORD,
    Web,
    link_token,
    make_app,
    running_worker,
    zip_folder,
)


@pytest.fixture
def bob(app) -> Web:
    w = Web(app)
    assert w.login("bob@other.io").status_code == 302
    return w


def ws(app):
    return app.extensions["assess"]


def engagement_root(app, eid: int) -> Path:
    from assess.web.db import EngagementRow

    with ws(app).db.session() as s:
        return ws(app).folder(s.get(EngagementRow, eid))


# --- sign-in, headers, CSRF -------------------------------------------------------------------


def test_pages_need_a_signed_in_consultant(app):
    w = Web(app)
    for url in ("/engagements", "/e/1", "/e/1/interview/0", "/e/1/plan", "/e/1/reports"):
        r = w.get(url)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), url
    r = w.get("/e/1/interview/answers.json", headers={"Accept": "application/json"})
    assert r.status_code == 401 and r.get_json()["error"] == "signed_out"


def test_wrong_password_is_refused_and_limited(app):
    w = Web(app)
    assert w.login(password="wrong password!").status_code == 401
    for _ in range(4):
        w.login(password="wrong password!")
    r = w.login()  # the right password, after 5 failures within the window: still refused
    assert r.status_code == 429 and b"Too many failed sign-ins" in r.data
    # another account from the same address is not locked by alice's failures
    assert Web(app).login("bob@other.io").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_and_never_off_site(app):
    w = Web(app)
    r = w.post("/login?next=/engagements%3Fx%3D1", {"email": "alice@firm.io", "password": PASSWORD})
    assert r.headers["Location"] == "/engagements?x=1"
    for evil in ("//evil.example", "/\\evil.example", "https://evil.example"):
        w = Web(app)
        r = w.post(f"/login?next={evil}", {"email": "alice@firm.io", "password": PASSWORD})
        assert r.headers["Location"] == "/engagements", evil


def test_passwords_are_hashed(app):
    from assess.web.db import User

    with ws(app).db.session() as s:
        user = s.scalar(select(User).where(User.email == "alice@firm.io"))
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("scrypt:")


def test_security_headers_and_cookie_flags(home):
    app = make_app(home, SESSION_COOKIE_SECURE=True)
    r = Web(app).post("/login", {"email": "alice@firm.io", "password": PASSWORD})
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["Referrer-Policy"] == "no-referrer"
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_every_form_needs_a_csrf_token(alice):
    eid = alice.create()
    assert alice.post("/engagements", {"client": "X"}, csrf=False).status_code == 400
    assert alice.post(f"/e/{eid}/links", {"name": "Z", "role": "cto", "language": "en", "days": 3},
                      csrf=False).status_code == 400
    r = alice.post_json(f"/e/{eid}/interview/answers.json",
                        {"answers": [{"question": "oncall.load", "value": 3}]}, csrf=False)
    assert r.status_code == 400 and r.get_json()["error"] == "csrf"


# --- scoping ------------------------------------------------------------------------------------


def test_another_consultants_engagement_is_404_everywhere(alice, bob):
    eid = alice.create()
    gets = ["", "/interview", "/interview/0", "/interview/answers.json", "/links", "/imports", "/practices",
            "/incidents", "/risks", "/plan", "/reports", "/settings", "/export.zip", "/reports/1.json"]
    for suffix in gets:
        assert bob.get(f"/e/{eid}{suffix}").status_code == 404, suffix
        assert alice.get(f"/e/{eid}{suffix}").status_code in (200, 302, 404), suffix
    posts = ["/interview/0", "/links", "/imports", "/plan/owners", "/plan/actions/status-page",
             "/risks/unsafe-deploys", "/reports", "/settings", "/links/1/revoke"]
    for suffix in posts:
        assert bob.post(f"/e/{eid}{suffix}", {"role": "cto"}).status_code == 404, suffix
    r = bob.post_json(f"/e/{eid}/interview/answers.json", {"answers": []})
    assert r.status_code == 404
    assert b"Acme" not in bob.get("/engagements").data


# --- engagements and settings -------------------------------------------------------------------


def test_create_engagement_and_edit_settings(app, alice):
    eid = alice.create("Brightloop SAS")
    root = engagement_root(app, eid)
    data = yaml.safe_load((root / "engagement.yaml").read_text())
    assert data["client"]["name"] == "Brightloop SAS" and data["timezone"] == "Europe/Paris"
    assert 'value="99.9"' in alice.get(f"/e/{eid}/settings").data.decode()  # a percentage, as typed
    form = {"client": "Brightloop", "consultant": "Alice Martin", "firm": "Northbeam",
            "timezone": "Europe/Paris", "window_end": "2026-10-31", "window_days": "60", "language": "fr",
            "sla": "99.95", "start_date": "2026-11-09", "primary_color": "#123456",
            "accent_color": "#ABCDEF"}
    r = alice.post(f"/e/{eid}/settings", form)
    assert r.status_code == 302
    data = yaml.safe_load((root / "engagement.yaml").read_text())
    assert data["sla"]["target"] == 99.95 and data["window"]["days"] == 60 and data["language"] == "fr"
    assert data["branding"]["primary_color"] == "#123456"
    before = (root / "engagement.yaml").read_text()
    r = alice.post(f"/e/{eid}/settings", {**form, "primary_color": "blue"})
    assert r.status_code == 400 and b"#RRGGBB" in r.data
    assert (root / "engagement.yaml").read_text() == before
    # the people who carry the plan, one a line
    r = alice.post(f"/e/{eid}/settings", {**form, "team_size": "12",
                                          "people": "Priya Raman, platform, 2, 4\nMarc Olsen, eng-lead, 1.5"})
    assert r.status_code == 302
    data = yaml.safe_load((root / "engagement.yaml").read_text())
    assert data["team"] == {"default_days_per_week": 1, "size": 12, "people": [
        {"name": "Priya Raman", "role": "platform", "days_per_week": 2, "days_per_week_budget_spent": 4},
        {"name": "Marc Olsen", "role": "eng-lead", "days_per_week": 1.5}]}
    assert "Priya Raman, platform, 2, 4" in alice.get(f"/e/{eid}/settings").data.decode()
    before = (root / "engagement.yaml").read_text()
    r = alice.post(f"/e/{eid}/settings", {**form, "people": "Priya Raman, platform, lots"})
    assert r.status_code == 400 and b"people, line 1: &#39;lots&#39; is not a number of days" in r.data
    assert (root / "engagement.yaml").read_text() == before


def test_logo_upload_is_stored_under_a_generated_name(app, alice):
    eid = alice.create()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    form = {"client": "Acme", "consultant": "A", "timezone": "UTC", "window_end": "2026-10-31",
            "window_days": "90", "language": "en", "sla": "99.9", "logo": (io.BytesIO(svg), "../../evil.svg")}
    assert alice.post(f"/e/{eid}/settings", form, content_type="multipart/form-data").status_code == 302
    logos = list((engagement_root(app, eid) / "branding").glob("logo-*"))
    assert len(logos) == 1 and logos[0].suffix == ".png"  # an SVG is kept drawn as a PNG
    assert logos[0].read_bytes().startswith(b"\x89PNG")
    r = alice.get(f"/e/{eid}/logo")
    assert r.status_code == 200 and "sandbox" in r.headers["Content-Security-Policy"]
    r.close()


# --- the interview --------------------------------------------------------------------------------


def test_interview_autosave_resume_and_folder(app, alice):
    eid = alice.create()
    url = f"/e/{eid}/interview/answers.json"
    r = alice.post_json(url, {"answers": [
        {"question": "prep.who_gets_called", "value": "whoever_sees", "note": "Slack mostly"},
        {"question": "prep.how_we_know", "value": ["infra_alerts", "customer_reports"]},
        {"question": "oncall.load", "value": "4"},
        {"question": "detection.customer_share", "value": "abc"},       # not a number
        {"question": "no.such.question", "value": 1},
    ]})
    assert r.status_code == 422
    body = r.get_json()
    assert sorted(body["saved"]) == ["oncall.load", "prep.how_we_know", "prep.who_gets_called"]
    assert set(body["errors"]) == {"detection.customer_share", "no.such.question"}
    assert body["progress"]["answered"] == 3
    page = alice.get(f"/e/{eid}/interview/0").data.decode()
    assert 'value="whoever_sees" checked' in page and "Slack mostly" in page
    # resume: the first section still incomplete
    assert alice.get(f"/e/{eid}/interview").headers["Location"].endswith("/interview/0")
    # the same question saved again: one row, the new value
    alice.post_json(url, {"answers": [{"question": "oncall.load", "value": 2}]})
    with ws(app).db.session() as s:
        rows = s.scalars(select(Answer).where(Answer.question_id == "oncall.load")).all()
    assert [a.value for a in rows] == [2]
    # clearing an answer deletes it
    alice.post_json(url, {"answers": [{"question": "oncall.load", "value": None, "note": ""}]})
    assert "oncall.load" not in alice.get(url).get_json()["answers"]
    # the folder gets the answers in the format the CLI reads
    from assess.web.db import EngagementRow

    with ws(app).db.write() as s:
        sync_answers(ws(app), s, s.get(EngagementRow, eid))
    sets = questionnaires.engagement_answers(engagement_root(app, eid))
    assert sets[0].answers["prep.who_gets_called"] == {"value": "whoever_sees", "note": "Slack mostly"}
    assert sets[0].answers["prep.how_we_know"]["value"] == ["infra_alerts", "customer_reports"]
    # changed again within the same second: the folder follows
    alice.post_json(url, {"answers": [{"question": "prep.who_gets_called", "value": "oncall_paged"}]})
    with ws(app).db.write() as s:
        sync_answers(ws(app), s, s.get(EngagementRow, eid))
    sets = questionnaires.engagement_answers(engagement_root(app, eid))
    assert sets[0].answers["prep.who_gets_called"] == {"value": "oncall_paged"}


def test_interview_form_post_saves_and_moves_on(alice):
    eid = alice.create()
    r = alice.post(f"/e/{eid}/interview/0", {"q:prep.who_gets_called": "oncall_paged",
                                            "note:prep.who_gets_called": "PagerDuty", "go": "next"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/interview/1")
    answers = alice.get(f"/e/{eid}/interview/answers.json").get_json()["answers"]
    assert answers["prep.who_gets_called"] == {"value": "oncall_paged", "note": "PagerDuty"}


def test_expired_csrf_on_a_section_keeps_what_was_typed(alice):
    eid = alice.create()
    r = alice.post(f"/e/{eid}/interview/0", {"csrf_token": "expired-token",
                                            "q:prep.who_gets_called": "oncall_paged",
                                            "note:prep.who_gets_called": "typed before lunch"})
    assert r.status_code == 400
    page = r.data.decode()
    assert "typed before lunch" in page and 'value="oncall_paged" checked' in page
    assert "security token expired" in page
    # nothing was saved without a valid token
    assert alice.get(f"/e/{eid}/interview/answers.json").get_json()["answers"] == {}


# --- self-assessment links ----------------------------------------------------------------------


def make_link(web: Web, eid: int, name="Nadia Haddad", role="founder", lang="en", days=14) -> str:
    r = web.post(f"/e/{eid}/links", {"name": name, "role": role, "language": lang, "days": days})
    assert r.status_code == 302
    return link_token(web.get(f"/e/{eid}/links").data.decode())


def test_self_assessment_link_flow(app, alice):
    eid = alice.create()
    token = make_link(alice, eid, lang="fr")
    # shown once only
    assert token not in alice.get(f"/e/{eid}/links").data.decode()
    staff = Web(app)
    r = staff.get(f"/s/{token}")  # a mail scanner's GET: the start page, nothing used up
    assert r.status_code == 200 and b"Commencer" in r.data
    with ws(app).db.session() as s:
        person = s.scalar(select(Respondent).where(Respondent.questionnaire == "self_assessment"))
    assert person.started_at is None
    assert staff.get("/r/").status_code == 403  # no session yet
    r = staff.post(f"/s/{token}")
    assert r.status_code == 302 and token not in r.headers["Location"]
    section = staff.get(staff.get(r.headers["Location"]).headers["Location"])
    assert section.status_code == 200 and b"Enregistrer" in section.data
    r = staff.post_json("/r/answers.json", {"answers": [{"question": "self.know_who_to_call", "value": 4}]})
    assert r.status_code == 200 and r.get_json()["saved"] == ["self.know_who_to_call"]
    # the respondent sees nothing of the consultant's workspace
    assert staff.get(f"/e/{eid}").status_code == 302
    r = staff.get(f"/e/{eid}/interview/answers.json", headers={"Accept": "application/json"})
    assert r.status_code == 401
    # the intake interview's questions are not theirs to answer
    r = staff.post_json("/r/answers.json", {"answers": [{"question": "oncall.load", "value": 1}]})
    assert r.get_json()["errors"] == {"oncall.load": "unknown question"}
    assert staff.post("/r/done").status_code == 200
    # revoked: the session stops working at once; the answers stay
    alice.post(f"/e/{eid}/links/{person.id}/revoke")
    r = staff.get("/r/0")
    assert r.status_code == 403 and "Rouvrez votre lien" in r.data.decode()  # in their language
    r = staff.get(f"/s/{token}")
    assert r.status_code == 410 and "a été retiré" in r.data.decode()
    with ws(app).db.session() as s:
        assert s.scalar(select(Answer.value).where(Answer.respondent_id == person.id)) == 4


def test_links_expire_and_renewal_replaces_the_old_one(app, alice):
    eid = alice.create()
    token = make_link(alice, eid, days=1)
    staff = Web(app)
    staff.post(f"/s/{token}")
    with ws(app).db.write() as s:
        person = s.scalar(select(Respondent).where(Respondent.questionnaire == "self_assessment"))
        person.expires_at = dt.datetime(2020, 1, 1)
        pid = person.id
    assert staff.get("/r/0").status_code == 403
    assert staff.get(f"/s/{token}").status_code == 410
    r = alice.post(f"/e/{eid}/links/{pid}/renew")
    new = link_token(alice.get(r.headers["Location"]).data.decode())
    assert new != token and staff.get(f"/s/{token}").status_code == 404
    assert Web(app).get(f"/s/{new}").status_code == 200


def test_a_respondent_never_reaches_another_respondent_or_engagement(app, alice, bob):
    e1, e2 = alice.create("One"), bob.create("Two")
    t1, t2 = make_link(alice, e1, "Ana"), make_link(bob, e2, "Ben")
    ana, ben = Web(app), Web(app)
    ana.post(f"/s/{t1}")
    ben.post(f"/s/{t2}")
    worry = {"question": "self.biggest_worry", "value": "ana's worry"}
    ana.post_json("/r/answers.json", {"answers": [worry]})
    assert "ana's worry" not in ben.get("/r/answers.json").data.decode()
    assert "ana's worry" not in ben.get("/r/9").data.decode()
    assert ben.get(f"/e/{e1}/links").status_code == 302
    assert bob.get(f"/e/{e1}/links").status_code == 404


# --- imports --------------------------------------------------------------------------------------


def pagerduty_with_a_bad_row() -> bytes:
    lines = (SAMPLE / "incidents" / "pagerduty_incidents_2026-08-03_2026-10-31.csv").read_text().splitlines()
    bad = lines[3].split(",")
    bad[7] = "not-a-date"  # created_on
    return "\n".join([lines[0], lines[1], lines[2], ",".join(bad), lines[4]]).encode() + b"\n"


def upload(web: Web, eid: int, content: bytes, name: str, fmt: str = ""):
    return web.post(f"/e/{eid}/imports", {"file": (io.BytesIO(content), name), "format": fmt},
                    content_type="multipart/form-data")


def test_upload_preview_rejected_row_then_confirm(app, alice):
    eid = alice.create()
    r = upload(alice, eid, pagerduty_with_a_bad_row(), "pd export.csv")
    assert r.status_code == 302
    page = alice.get(r.headers["Location"]).data.decode()
    assert "pagerduty" in page and "1 rejected row" in page
    assert "pd export.csv, row 4, column &#39;created_on&#39;" in page
    stored = list(ws(app).uploads.iterdir())
    assert len(stored) == 1 and stored[0].name != "pd export.csv" and len(stored[0].stem) == 32
    root = engagement_root(app, eid)
    assert not (root / "imports.yaml").exists()  # nothing imported before confirmation
    uid = int(r.headers["Location"].rsplit("/", 1)[-1])
    r = alice.post(f"/e/{eid}/imports/{uid}/confirm")
    assert r.status_code == 302
    entries = yaml.safe_load((root / "imports.yaml").read_text())["imports"]
    assert entries[0]["rows_imported"] == 3 and entries[0]["rows_rejected"] == 1
    assert entries[0]["file"] == "incidents/pd_export.csv"
    assert len(analysis.analyse(root).data.incidents) == 3
    # the same file again: nothing duplicated
    r = upload(alice, eid, pagerduty_with_a_bad_row(), "pd export.csv")
    uid2 = int(r.headers["Location"].rsplit("/", 1)[-1])
    alice.post(f"/e/{eid}/imports/{uid2}/confirm")
    assert b"already imported" in alice.get(f"/e/{eid}/imports/{uid2}").data
    assert len(yaml.safe_load((root / "imports.yaml").read_text())["imports"]) == 1
    assert len(analysis.analyse(root).data.incidents) == 3


def test_generic_csv_column_mapping(app, alice):
    eid = alice.create()
    csv = (b"Ref,What happened,Opened,Closed,Prio\n"
           b"A-1,Checkout down,2026-10-01 10:00,2026-10-01 11:00,P1\n"
           b"A-2,Slow search,2026-10-02 09:00,2026-10-02 09:30,P3\n")
    r = upload(alice, eid, csv, "ours.csv")
    page = alice.get(r.headers["Location"]).data.decode()
    assert "Map the columns" in page and "What happened" in page
    uid = int(r.headers["Location"].rsplit("/", 1)[-1])
    alice.post(f"/e/{eid}/imports/{uid}/options", {"map:title": "What happened", "map:detected": "Opened",
                                                   "map:resolved": "Closed", "map:external_id": "Ref"})
    page = alice.get(f"/e/{eid}/imports/{uid}").data.decode()
    assert "generic-csv" in page and "Checkout down" in page and "Import 2 valid rows" in page
    alice.post(f"/e/{eid}/imports/{uid}/confirm")
    assert len(analysis.analyse(engagement_root(app, eid)).data.incidents) == 2


def test_upload_limits(home):
    app = make_app(home, MAX_CONTENT_LENGTH=2048)
    w = Web(app)
    w.login()
    eid = w.create()
    r = upload(w, eid, b"x" * 5000, "big.csv")
    assert r.status_code == 413 and b"larger than" in r.data
    r = upload(w, eid, b"MZ\x90\x00", "tool.exe")
    assert r.status_code == 400 and b"not an export this tool reads" in r.data
    r = upload(w, eid, b"", "")
    assert r.status_code == 400


def test_discard_imports_nothing(app, alice):
    eid = alice.create()
    r = upload(alice, eid, pagerduty_with_a_bad_row(), "pd.csv")
    uid = int(r.headers["Location"].rsplit("/", 1)[-1])
    alice.post(f"/e/{eid}/imports/{uid}/discard")
    assert not (engagement_root(app, eid) / "imports.yaml").exists()
    assert list(ws(app).uploads.iterdir()) == []


# --- dashboard and plan ---------------------------------------------------------------------------


@pytest.fixture
def sample(alice) -> int:
    return alice.import_folder(SAMPLE)


def test_dashboard_on_the_sample(app, alice, sample):
    page = alice.get(f"/e/{sample}").data.decode()
    assert "Brightloop" in page and "Unsafe deploys without fast rollback" in page and "Reactive" in page
    assert "/static/vendor/plotly.min.js" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing loaded from another host
    assert 'type="application/json" id="chart-incidents_per_week"' in page
    js = alice.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and len(js.data) > 1_000_000
    js.close()
    css = alice.get("/static/vendor/plotly.css").data.decode()
    assert ".js-plotly-plot .plotly .main-svg" in css
    sev1 = alice.get(f"/e/{sample}/incidents?severity=SEV1").data.decode()
    assert "5 of 73" in sev1
    found = alice.get(f"/e/{sample}/incidents?q=pool").data.decode()
    assert "of 73" in found and "connection pool" in found.lower()
    by_month = page.split("Per month")[1].split("</table>")[0]
    assert all(month in by_month for month in ("2026-08", "2026-09", "2026-10"))
    practices = alice.get(f"/e/{sample}/practices").data.decode()
    assert "Perception gaps" in practices and "Elodie Roux" in practices and "Reactive" in practices
    risks = alice.get(f"/e/{sample}/risks").data.decode()
    m = analyse(SAMPLE).metrics
    related = m["change_failure_rate"]["change_related_incidents"]
    assert f"{related} incidents" in risks
    # the overview states each headline with its confidence grade, SEV1-SEV2 beside all
    assert "Figures and their confidence" in page and "SEV1-SEV2 time to resolve" in page
    assert f'grade grade-{m["headline"]["mttr_minutes"]["grade"]}' in page


def test_plan_edits_go_to_overrides(app, alice, sample):
    root = engagement_root(app, sample)
    r = alice.post(f"/e/{sample}/plan/actions/one-command-rollback",
                   {"op": "edit", "owner": "Jonas Weber", "due": "2026-11-20", "due_was": "x",
                    "note": "agreed", "title": "", "title_was": ""})
    assert r.status_code == 302
    edit = yaml.safe_load((root / "overrides.yaml").read_text())["actions"]["edit"]["one-command-rollback"]
    assert edit == {"owner": "Jonas Weber", "due": "2026-11-20", "note": "agreed"}
    plan = analysis.judgement(analysis.analyse(root))["plan"]
    action = next(a for a in plan["actions"] if a["id"] == "one-command-rollback")
    assert action["owner_display"] == "Jonas Weber" and action["due"] == "2026-11-20"
    alice.post(f"/e/{sample}/plan/actions/deploy-freeze-window", {"op": "drop"})
    plan = analysis.judgement(analysis.analyse(root))["plan"]
    assert "deploy-freeze-window" not in {a["id"] for a in plan["actions"]}
    alice.post(f"/e/{sample}/plan/owners", {"role": "support-lead", "person": "Zoé Roux"})
    assert yaml.safe_load((root / "overrides.yaml").read_text())["owners"]["support-lead"] == "Zoé Roux"
    before = (root / "overrides.yaml").read_text()
    r = alice.post(f"/e/{sample}/plan/actions/no-such-action", {"op": "pin"})
    assert "Not saved" in alice.get(r.headers["Location"]).data.decode()
    assert (root / "overrides.yaml").read_text() == before
    r = alice.post(f"/e/{sample}/risks/capacity-saturation", {"op": "drop"})
    if r.status_code == 200:  # its actions carry edits: the page asks what to do with them
        assert "What should happen to" in r.data.decode()
        alice.post(f"/e/{sample}/risks/capacity-saturation", {"op": "drop", "then": "keep"})
    ranking = analysis.judgement(analysis.analyse(root))["risks"]
    assert next(x for x in ranking if x["id"] == "capacity-saturation")["dropped"]


def test_plan_page_sets_a_status_and_shows_the_rules(app, alice, sample):
    root = engagement_root(app, sample)
    page = alice.get(f"/e/{sample}/plan").data.decode()
    assert "Error-budget rule" in page and "The error budget is spent" in page
    assert "Decisions needed" in page and "person-days it needs by" in page
    assert 'name="status"' in page and "diagnostic, done" in page
    # on the sample's report date (6 November): the plan is stated as of that day, so a status
    # recorded later is left out of it (plans' rule)
    r = alice.post(f"/e/{sample}/plan/actions/saturation-alerts",
                   {"op": "status", "status": "done", "status_date": "2026-11-06"})
    assert r.status_code == 302 and r.headers["Location"].endswith("#a-saturation-alerts")
    status = yaml.safe_load((root / "overrides.yaml").read_text())["actions"]["status"]
    assert status["saturation-alerts"] == {"status": "done", "date": "2026-11-06"}
    row = alice.get(f"/e/{sample}/plan").data.decode().split('id="a-saturation-alerts"')[1].split("</tr>")[0]
    assert '<option value="done" selected>' in row and "overdue" not in row
    before = (root / "overrides.yaml").read_text()
    for bad in ({"status": "finished"}, {"status": "done", "status_date": "soon"}):
        r = alice.post(f"/e/{sample}/plan/actions/saturation-alerts", {"op": "status", **bad})
        assert "Not saved" in alice.get(r.headers["Location"]).data.decode()
    assert (root / "overrides.yaml").read_text() == before


def test_export_and_import_round_trip(app, alice, bob, sample):
    r = alice.get(f"/e/{sample}/export.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    assert any(n.endswith("answers/intake.yaml") for n in names)
    r = bob.post("/engagements/import", {"archive": (io.BytesIO(r.data), "x.zip")},
                 content_type="multipart/form-data")
    eid = int(r.headers["Location"].rsplit("/", 1)[-1])
    a1 = analysis.analyse(engagement_root(app, sample))
    a2 = analysis.analyse(engagement_root(app, eid))
    assert a1.metrics == a2.metrics
    with ws(app).db.session() as s:
        counts = [len(s.scalars(select(Answer).join(Respondent).where(Respondent.engagement_id == e)).all())
                  for e in (sample, eid)]
    assert counts[0] == counts[1] > 60


def test_a_zip_pointing_outside_is_refused(app, alice):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../etc/evil/engagement.yaml", "client: {name: X}")
    buf.seek(0)
    r = alice.post("/engagements/import", {"archive": (buf, "evil.zip")}, content_type="multipart/form-data")
    assert "points outside the folder" in alice.get(r.headers["Location"]).data.decode()
    assert not (ws(app).home.parent / "etc").exists()


# --- reports, schema, backup -------------------------------------------------------------------


@pytest.mark.slow
def test_report_job_renders_and_keeps_versions(app, alice, bob, sample):
    import time

    r = alice.post(f"/e/{sample}/reports", {"language": "en", "archival": "0"})
    assert r.status_code == 302
    assert alice.get(f"/e/{sample}/reports/1.json").get_json()["status"] == "queued"  # no worker yet
    with running_worker(ws(app).home):  # the SQLite queue in HOME
        deadline = time.time() + 240
        while time.time() < deadline:
            job = alice.get(f"/e/{sample}/reports/1.json").get_json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(0.5)
    assert job["status"] == "done", job
    assert job["attempts"] == 1
    assert len(job["files"]) == 2 and job["progress"] == 100
    pdf = alice.get(f"/e/{sample}/reports/1/{job['files'][0]}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdf.close()
    assert bob.get(f"/e/{sample}/reports/1/{job['files'][0]}").status_code == 404
    assert alice.get(f"/e/{sample}/reports/1/..%2Fengagement.yaml").status_code == 404


def test_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from assess.web.db import Base

    db = ws(app).db
    assert db.revision() == head_revision()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_app_refuses_an_unmigrated_database(tmp_path):
    from assess.web import create_app

    with pytest.raises(RuntimeError, match="assess db upgrade"):
        create_app(tmp_path / "fresh")


def test_backup_holds_the_database_and_the_folders(app, alice, sample, tmp_path):
    from click.testing import CliRunner

    from assess.cli import main

    out = tmp_path / "b.tar.gz"
    res = CliRunner().invoke(main, ["backup", "--home", str(ws(app).home), "--out", str(out)])
    assert res.exit_code == 0, res.output
    with tarfile.open(out) as tar:
        names = tar.getnames()
        assert "assess.db" in names
        assert any(n.endswith("/engagement.yaml") for n in names)
        tar.extract("assess.db", tmp_path, filter="data")
    import sqlite3

    with sqlite3.connect(tmp_path / "assess.db") as conn:
        assert conn.execute("select count(*) from answers").fetchone()[0] > 60
    conn.close()


def test_user_create_cli(tmp_path):
    from click.testing import CliRunner

    from assess.cli import main

    home = tmp_path / "h"
    res = CliRunner().invoke(main, ["user", "create", "--home", str(home), "ana@firm.io", "--name", "Ana",
                                    "--password", "long enough pw"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["user", "create", "--home", str(home), "ana@firm.io", "--name", "Ana",
                                    "--password", "long enough pw"])
    assert res.exit_code == 1 and "already exists" in res.output
    res = CliRunner().invoke(main, ["user", "create", "--home", str(home), "b@firm.io", "--name", "B",
                                    "--password", "short"])
    assert res.exit_code == 1 and "at least 10" in res.output


def test_zip_folder_helper_excludes_reports(tmp_path):
    (tmp_path / "e" / "reports").mkdir(parents=True)
    (tmp_path / "e" / "reports" / "x.pdf").write_text("x")
    (tmp_path / "e" / "engagement.yaml").write_text("x")
    names = zipfile.ZipFile(zip_folder(tmp_path / "e")).namelist()
    assert names == ["e/engagement.yaml"]


def test_workers_starting_together_share_one_secret_key(tmp_path, monkeypatch):
    import concurrent.futures
    import multiprocessing

    from assess.web import secret_key

    monkeypatch.delenv("ASSESS_SECRET_KEY", raising=False)
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(6, mp_context=ctx) as pool:
        keys = set(pool.map(secret_key, [tmp_path] * 12))
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


def test_engagement_folders_in_and_out_through_the_cli(app, alice, tmp_path):
    from click.testing import CliRunner

    from assess.cli import main

    home = str(ws(app).home)
    run = CliRunner().invoke
    res = run(main, ["engagement", "import", "--home", home, str(SAMPLE), "--owner", "alice@firm.io"])
    assert res.exit_code == 0, res.output
    eid = int(res.output.split()[1])
    assert "Brightloop" in alice.get(f"/e/{eid}").data.decode()  # the owner sees it in the app
    alice.post_json(f"/e/{eid}/interview/answers.json",
                    {"answers": [{"question": "runbooks.coverage", "value": None, "note": "asked again"}]})
    res = run(main, ["engagement", "list", "--home", home])
    assert "alice@firm.io" in res.output and "Brightloop" in res.output
    out = tmp_path / "out"
    res = run(main, ["engagement", "export", "--home", home, str(eid), str(out)])
    assert res.exit_code == 0, res.output
    assert not (out / ".assess.lock").exists()
    assert analysis.analyse(out).metrics == analysis.analyse(SAMPLE).metrics
    intake = yaml.safe_load((out / "answers" / "intake.yaml").read_text())["answers"]
    assert intake["runbooks.coverage"] == {"note": "asked again"}
    assert run(main, ["engagement", "export", "--home", home, str(eid), str(out)]).exit_code == 1  # not empty
    res = run(main, ["engagement", "import", "--home", home, str(SAMPLE), "--owner", "nobody@x.io"])
    assert res.exit_code == 1 and "no account" in res.output


def test_the_consultant_edits_a_finding_and_adds_a_risk_of_their_own(app, alice, sample):
    root = engagement_root(app, sample)
    r = alice.post(f"/e/{sample}/risks/capacity-saturation",
                   {"op": "edit", "title": "Unmonitored capacity saturation",
                    "finding": "The API's pool runs out at the evening peak."})
    assert r.status_code == 302
    r = alice.post(f"/e/{sample}/risks", {"title": "Everything runs in one region",
                                          "finding": "A regional outage stops the company.",
                                          "likelihood": "0.9", "impact": "8.5"})
    assert r.status_code == 302
    data = yaml.safe_load((root / "overrides.yaml").read_text())["risks"]
    assert data["edit"]["capacity-saturation"]["finding"] == "The API's pool runs out at the evening peak."
    assert data["add"] == [{"id": "own-everything-runs-in-one-region",
                            "title": "Everything runs in one region",
                            "finding": "A regional outage stops the company.",
                            "likelihood": 0.9, "impact": 8.5}]
    ranked = analysis.judgement(analysis.analyse(root))["risks"]
    own = next(x for x in ranked if x["id"] == "own-everything-runs-in-one-region")
    assert own["score"] == 7.65 and own["source"] == "consultant" and own["top"]
    page = alice.get(f"/e/{sample}/risks").data.decode()
    assert "The API&#39;s pool runs out at the evening peak." in page
    assert "Everything runs in one region" in page
    # a likelihood that is not a number saves nothing and says why
    before = (root / "overrides.yaml").read_text()
    alice.post(f"/e/{sample}/risks", {"title": "X", "finding": "Y", "likelihood": "high",
                                      "impact": "5"})
    assert (root / "overrides.yaml").read_text() == before


def test_the_check_in_page_freezes_a_baseline_and_measures_progress(app, alice, sample):
    page = alice.get(f"/e/{sample}/checkin").data.decode()
    assert "No baseline frozen yet" in page
    r = alice.post(f"/e/{sample}/baseline", {})
    assert r.status_code == 302 and (engagement_root(app, sample) / "baseline.json").is_file()
    page = alice.get(f"/e/{sample}/checkin?as_of=2026-12-08").data.decode()
    assert "day 30 of the plan" in page and "Targets met" in page
    assert "Needs a staging AWS account" in page  # a late action's reason, from overrides.yaml
    assert "late" in page
    # before the plan's start: said, not a 500
    page = alice.get(f"/e/{sample}/checkin?as_of=2026-10-01").data.decode()
    assert "before the plan" in page
    bad = alice.get(f"/e/{sample}/checkin?as_of=tomorrow")
    assert bad.status_code == 200
