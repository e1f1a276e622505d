"""The web app for real: `assess serve` (gunicorn, two workers) on loopback, driven by Debian's
chromium through Playwright and by parallel HTTP clients."""

from __future__ import annotations

import concurrent.futures
import http.cookiejar
import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assess import questionnaires

from .conftest import SAMPLE
from .webutil import PASSWORD, make_home, running_server, zip_folder

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("live") / "home"
    make_home(home).dispose()
    with running_server(home) as base:
        yield {"base": base, "home": home}


class Http:
    """A plain HTTP client with cookies (one per simulated browser)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def request(self, method: str, path: str, data: bytes | None = None, headers=None):
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
            exc.close()
            return exc.code, body

    def token(self) -> str:
        return json.loads(self.request("GET", "/csrf-token")[1])["token"]

    def form(self, path: str, fields: dict) -> int:
        fields = {"csrf_token": self.token(), **fields}
        body = urllib.parse.urlencode(fields).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})[0]

    def json(self, path: str, doc: dict, token: str):
        return self.request(
            "POST",
            path,
            json.dumps(doc).encode(),
            {"Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json"},
        )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_login_rate_limit_holds_across_workers(server):
    statuses = []
    for _ in range(7):  # a new connection each time: gunicorn hands them to either worker
        client = Http(server["base"])
        statuses.append(client.form("/login", {"email": "bob@other.io", "password": "guess-guess"}))
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]


def test_parallel_saves_of_one_questionnaire_lose_nothing(server):
    import urllib.parse  # noqa: F401  (used by Http.form)

    client = Http(server["base"])
    assert client.form("/login", {"email": "alice@firm.io", "password": PASSWORD}) == 302
    status = client.form(
        "/engagements",
        {
            "client": "Parallel",
            "consultant": "Alice",
            "timezone": "UTC",
            "window_end": "2026-10-31",
            "language": "en",
            "sla": "99.9",
        },
    )
    assert status == 302
    eid = 1
    from assess.questionnaires import load

    questions = [q for q in load("intake").questions.values() if q.type in ("single", "text", "number")]
    token = client.token()

    def answer(q):
        value = q.options[0]["value"] if q.type == "single" else (7 if q.type == "number" else f"text {q.id}")
        status, body = client.json(
            f"/e/{eid}/interview/answers.json",
            {"answers": [{"question": q.id, "value": value, "note": f"note {q.id}"}]},
            token,
        )
        return status, q.id, value

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(answer, questions))
    assert all(status == 200 for status, _, _ in results), results
    status, body = client.request(
        "GET", f"/e/{eid}/interview/answers.json", headers={"Accept": "application/json"}
    )
    saved = json.loads(body)["answers"]
    assert len(questions) > 30
    assert {qid: saved[qid]["value"] for _, qid, _ in results} == {qid: v for _, qid, v in results}
    assert all(saved[q.id]["note"] == f"note {q.id}" for q in questions)


# --- in a browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (make setup installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def signed_in(browser, server):
    ctx = browser.new_context(accept_downloads=True)
    page = ctx.new_page()
    errors = []
    # plotly.min.js bundles map libraries whose stylesheet it injects on load: the CSP blocks that
    # (map charts are not used); every other CSP violation fails the test
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/plotly.min.js")
            else None
        ),
    )
    page.goto(server["base"] + "/login")
    page.fill("input[name=email]", "alice@firm.io")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/engagements")
    return ctx, page, errors


def sample_engagement(page, server, tmp_path: Path) -> str:
    if "Brightloop" not in page.content():
        zpath = tmp_path / "sample.zip"
        zpath.write_bytes(zip_folder(SAMPLE).getvalue())
        page.set_input_files("input[name=archive]", str(zpath))
        page.click("text=Import folder")
        page.wait_for_url(re.compile(r".*/e/\d+$"))
    else:
        page.click("text=Brightloop")
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def test_interview_is_saved_as_typed_and_resumed(browser, server, tmp_path):
    ctx, page, errors = signed_in(browser, server)
    eid = sample_engagement(page, server, tmp_path)
    page.goto(f"{server['base']}/e/{eid}/interview/10")  # runbooks: the section left incomplete
    fieldset = page.locator("fieldset.question").first
    qid = fieldset.get_attribute("data-qid")
    fieldset.locator("input[type=radio]").last.check()
    fieldset.locator("textarea[name^=note]").fill("Said in the interview: no runbooks at all")
    page.locator("[data-save-state]", has_text="saved at").wait_for()
    ctx.close()  # the tab is closed without pressing Save
    ctx, page, _ = signed_in(browser, server)
    page.goto(f"{server['base']}/e/{eid}/interview/10")
    again = page.locator(f"fieldset[data-qid='{qid}']")
    assert again.locator("input[type=radio]").last.is_checked()
    assert again.locator("textarea[name^=note]").input_value() == "Said in the interview: no runbooks at all"
    # offline: the answer waits in the browser, then reaches the server when the page comes back
    ctx.set_offline(True)
    again.locator("input[type=radio]").first.check()
    page.locator("[data-save-state]", has_text="Offline").wait_for()
    page.close()
    ctx.set_offline(False)
    page = ctx.new_page()
    page.goto(f"{server['base']}/e/{eid}/interview/10")
    page.locator("[data-save-state]", has_text="saved at").wait_for()
    page.reload()
    assert page.locator(f"fieldset[data-qid='{qid}'] input[type=radio]").first.is_checked()
    assert not [e for e in errors if "Content Security Policy" in e], errors
    ctx.close()


def server_answer(browser, server, eid: str, qid: str):
    ctx, page, _ = signed_in(browser, server)
    answers = page.request.get(f"{server['base']}/e/{eid}/interview/answers.json").json()["answers"]
    ctx.close()
    return answers.get(qid)


def test_an_expired_token_or_session_loses_no_answer(browser, server, tmp_path):
    ctx, page, _ = signed_in(browser, server)
    eid = sample_engagement(page, server, tmp_path)
    page.goto(f"{server['base']}/e/{eid}/interview/2")
    fs = page.locator("fieldset.question").first
    qid = fs.get_attribute("data-qid")
    # the page's CSRF token expired (an hour-old tab): a fresh one is fetched, the answer sent
    page.locator('meta[name="csrf-token"]').evaluate("m => m.setAttribute('content', 'expired')")
    radios = fs.locator("input[type=radio]")

    def pick_another() -> str:
        i = next(i for i in range(radios.count()) if not radios.nth(i).is_checked())
        radios.nth(i).check()
        return radios.nth(i).get_attribute("value")

    value = pick_another()
    page.locator("[data-save-state]", has_text="saved at").wait_for()
    assert server_answer(browser, server, eid, qid)["value"] == value
    # the session ended: the answer waits in this browser, and is sent after signing in again
    ctx.clear_cookies()
    first = pick_another()
    page.locator("[data-save-banner]", has_text="unsaved answer").wait_for()
    assert server_answer(browser, server, eid, qid)["value"] == value  # not yet
    page.goto(server["base"] + "/login")
    page.fill("input[name=email]", "alice@firm.io")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.goto(f"{server['base']}/e/{eid}/interview/2")
    page.locator("[data-save-state]", has_text="saved at").wait_for()
    assert server_answer(browser, server, eid, qid)["value"] == first
    page.screenshot(path=str(tmp_path / "interview.png"), full_page=True)
    ctx.close()


def test_self_assessment_through_a_link(browser, server, tmp_path):
    ctx, page, _ = signed_in(browser, server)
    eid = sample_engagement(page, server, tmp_path)
    page.goto(f"{server['base']}/e/{eid}/links")
    page.fill("input[name=name]", "Lea Fischer")
    page.select_option("select[name=role]", "engineer")
    page.select_option("select[name=language]", "fr")
    page.click("text=Create link")
    link = page.locator("input[data-copy]").input_value()
    assert "/s/" in link
    ctx.close()
    staff = browser.new_context()
    p = staff.new_page()
    p.goto(link)
    assert "Commencer" in p.content()
    p.click("text=Commencer")
    p.wait_for_url(re.compile(r".*/r/\d+$"))
    assert "/s/" not in p.url  # the token left the address bar
    for fs in p.locator("fieldset[data-type=scale]").all():
        fs.locator(".dot").nth(2).click()
    p.locator("fieldset[data-type=text] textarea").fill("Les déploiements du vendredi")
    total = len(questionnaires.load("self_assessment").questions)
    # the server counted every answer
    p.locator("[data-progress-text]", has_text=f"{total} / {total}").wait_for()
    p.click("text=Enregistrer et terminer")
    p.click("text=Envoyer mes réponses")
    assert "Merci" in p.content()
    staff.close()


def test_upload_with_a_rejected_row_then_download_a_report(browser, server, tmp_path):
    ctx, page, errors = signed_in(browser, server)
    page.fill("input[name=client]", "Upload Co")
    page.fill("input[name=window_end]", "2026-10-31")
    page.click("text=Create engagement")
    page.wait_for_url(re.compile(r".*/e/\d+$"))
    eid = page.url.rsplit("/", 1)[-1]
    lines = (SAMPLE / "incidents" / "pagerduty_incidents_2026-08-03_2026-10-31.csv").read_text().splitlines()
    bad = lines[2].split(",")
    bad[8] = "yesterday"  # resolved_on
    export = tmp_path / "pagerduty.csv"
    export.write_text("\n".join([lines[0], lines[1], ",".join(bad), *lines[3:20]]) + "\n")
    page.goto(f"{server['base']}/e/{eid}/imports")
    page.set_input_files("input[name=file]", str(export))
    page.click("text=Upload and preview")
    assert "1 rejected row" in page.content()
    assert "row 3, column 'resolved_on'" in page.locator("ul.rejected").inner_text()
    page.click("text=Import 18 valid rows")
    assert "18 incidents imported" in page.content()
    page.goto(f"{server['base']}/e/{eid}")
    page.wait_for_selector(".js-plotly-plot")  # the charts drew, with plotly.js from this server
    page.goto(f"{server['base']}/e/{eid}/reports")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("a.download", timeout=180_000)
    with page.expect_download() as dl:
        page.locator("a.download").first.click()
    path = dl.value.path()
    assert Path(path).read_bytes()[:5] == b"%PDF-"
    assert not [e for e in errors if "Content Security Policy" in e], errors
    ctx.close()


def test_two_tabs_on_one_interview(browser, server, tmp_path):
    ctx, first, _ = signed_in(browser, server)
    eid = sample_engagement(first, server, tmp_path)
    second = ctx.new_page()
    for page in (first, second):
        page.goto(f"{server['base']}/e/{eid}/interview/5")  # change management: four questions
    q1, q2 = (first.locator("fieldset.question").nth(i) for i in (0, 1))
    id1, id2 = q1.get_attribute("data-qid"), q2.get_attribute("data-qid")
    q1.locator("textarea[name^=note]").fill("written in the first tab")
    first.locator("[data-save-state]", has_text="saved at").wait_for()
    second.locator(f"fieldset[data-qid='{id2}'] textarea[name^=note]").fill("written in the second tab")
    second.locator("[data-save-state]", has_text="saved at").wait_for()
    # each tab's answer kept: the second tab's save did not overwrite the first tab's
    answers = second.request.get(f"{server['base']}/e/{eid}/interview/answers.json").json()["answers"]
    assert answers[id1]["note"] == "written in the first tab"
    assert answers[id2]["note"] == "written in the second tab"
    # coming back to the first tab shows what the second one wrote
    first.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    note = first.locator(f"fieldset[data-qid='{id2}'] textarea[name^=note]")
    for _ in range(50):
        if note.input_value() == "written in the second tab":
            break
        first.wait_for_timeout(100)
    assert note.input_value() == "written in the second tab"
    ctx.close()


# --- accessibility (axe-core from the npm registry), keyboard, inline plan edits ------------------

AXE_VERSION = "4"


@pytest.fixture(scope="module")
def axe_source(tmp_path_factory) -> str:
    """axe-core's axe.min.js, fetched once with `npm pack` from the npm registry into the user's
    cache (never a CDN at page time); ASSESS_AXE_JS names a copy to use instead."""
    import os
    import subprocess
    import tarfile

    given = os.environ.get("ASSESS_AXE_JS")
    if given:
        return Path(given).read_text(encoding="utf-8")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assess" / "axe-core"
    found = sorted(cache.glob(f"axe-core-{AXE_VERSION}.*/axe.min.js"))
    if not found:
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: axe-core comes from the npm registry (apt install npm)")
        cache.mkdir(parents=True, exist_ok=True)
        tmp = tmp_path_factory.mktemp("axe")
        run = subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(tmp)],
                             capture_output=True, text=True, timeout=180)
        tgz = next(tmp.glob("axe-core-*.tgz"), None)
        if run.returncode != 0 or tgz is None:
            pytest.skip(f"npm pack axe-core failed (registry unreachable?): {run.stderr.strip()[:300]}")
        target = cache / tgz.name.removesuffix(".tgz")
        target.mkdir(exist_ok=True)
        with tarfile.open(tgz) as tf:
            member = tf.extractfile("package/axe.min.js")
            (target / "axe.min.js").write_bytes(member.read())
        found = [target / "axe.min.js"]
    return found[-1].read_text(encoding="utf-8")


def serious_violations(page, axe_source: str) -> list:
    page.add_script_tag(content=axe_source)
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .filter(v => ['serious', 'critical'].includes(v.impact))
             .map(v => ({id: v.id, impact: v.impact,
                         nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")


def test_every_page_passes_axe_without_serious_violations(browser, server, tmp_path, axe_source):
    ctx, page, _ = signed_in(browser, server)
    eid = sample_engagement(page, server, tmp_path)
    page.goto(server["base"] + "/engagements")
    page.fill("input[name=client]", "Axe Empty")
    page.fill("input[name=window_end]", "2026-10-31")
    page.click("text=Create engagement")
    page.wait_for_url(re.compile(r".*/e/\d+$"))
    empty = page.url.rsplit("/", 1)[-1]
    page.goto(f"{server['base']}/e/{eid}/links")
    page.fill("input[name=name]", "Axe Person")
    page.click("text=Create link")
    link = page.locator("input[data-copy]").input_value()
    ctx.close()
    checker = browser.new_context(bypass_csp=True)  # axe is injected as a script: a test-only CSP bypass
    page = checker.new_page()
    page.goto(server["base"] + "/login")
    found = {"/login": serious_violations(page, axe_source)}
    page.fill("input[name=email]", "alice@firm.io")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/engagements")
    pages = ["/engagements"]
    for e in (eid, empty):
        pages += [f"/e/{e}{p}" for p in ("", "/interview", "/interview/2", "/links", "/practices", "/imports",
                                          "/incidents", "/risks", "/plan", "/plan?view=board", "/reports",
                                          "/checkin", "/settings")]
    for path in pages:
        page.goto(server["base"] + path)
        found[path] = serious_violations(page, axe_source)
    staff = browser.new_context(bypass_csp=True).new_page()
    staff.goto(link)
    found["/s/<token>"] = serious_violations(staff, axe_source)
    staff.click("button.primary")
    staff.wait_for_url(re.compile(r".*/r/\d+$"))
    found["/r/<n>"] = serious_violations(staff, axe_source)
    assert {p: v for p, v in found.items() if v} == {}
    checker.close()


def test_the_interview_works_with_the_keyboard_alone(browser, server, tmp_path):
    ctx, page, _ = signed_in(browser, server)
    eid = sample_engagement(page, server, tmp_path)
    page.goto(f"{server['base']}/e/{eid}/interview/3")
    first = page.locator("fieldset.question").first
    qid = first.get_attribute("data-qid")
    radios = first.locator("input[type=radio]")
    page.locator("body").focus()
    for _ in range(60):  # Tab through the page until the first question's radios have focus
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.name === 'q:{qid}'"):
            break
    else:
        raise AssertionError("the first question's options are never reached with Tab")
    page.keyboard.press("ArrowDown")  # moves and ticks the next option, as radios do
    page.keyboard.press("Space")
    checked = next(i for i in range(radios.count()) if radios.nth(i).is_checked())
    value = radios.nth(checked).get_attribute("value")
    page.locator("[data-save-state]", has_text="saved at").wait_for()
    saved = server_answer(browser, server, eid, qid)["value"]
    assert str(saved) == value
    # the note is reached with Tab and typed into
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.name === 'note:{qid}'"):
            break
    page.keyboard.press("Control+A")
    page.keyboard.type("typed with the keyboard")
    for _ in range(50):
        if server_answer(browser, server, eid, qid)["note"] == "typed with the keyboard":
            break
        page.wait_for_timeout(200)
    assert server_answer(browser, server, eid, qid)["note"] == "typed with the keyboard"
    ctx.close()


def test_plan_status_saves_inline_and_the_row_stays(browser, server, tmp_path):
    ctx, page, errors = signed_in(browser, server)
    eid = sample_engagement(page, server, tmp_path)
    page.goto(f"{server['base']}/e/{eid}/plan")
    page.evaluate("window.__stayed = true")  # gone if the page reloads
    row = page.locator("tr[id^='a-']").nth(1)
    rid = row.get_attribute("id")
    box = row.bounding_box()
    select = row.locator("select[name=status]")
    current = select.input_value()
    other = next(s for s in ("blocked", "in progress") if s != current)
    select.select_option(other)
    row.locator("[data-inline-state]", has_text="Saved").last.wait_for()
    assert page.evaluate("window.__stayed") is True
    assert page.locator(f"#{rid}").bounding_box()["y"] == box["y"]  # the row stayed where it was
    assert row.locator("[data-status]").inner_text().startswith(other)
    owner = row.locator("input[name=owner]")
    owner.fill("Keyboard Person")
    owner.press("Enter")
    row.locator("form.action-edit [data-inline-state]", has_text="Saved").wait_for()
    assert row.locator("[data-owner]").inner_text() == "Keyboard Person"
    assert page.evaluate("window.__stayed") is True
    page.reload()
    again = page.locator(f"#{rid}")
    assert again.locator("select[name=status]").input_value() == other
    assert again.locator("[data-owner]").inner_text() == "Keyboard Person"
    assert not errors, errors
    ctx.close()


def test_the_overview_logs_no_csp_violation_and_fits_a_phone(browser, server, tmp_path):
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    messages = []
    page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
    page.goto(server["base"] + "/login")
    page.fill("input[name=email]", "alice@firm.io")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/engagements")
    eid = sample_engagement(page, server, tmp_path)
    for path in ("", "/incidents", "/imports", "/links", "/plan", "/practices", "/risks", "/reports"):
        page.goto(f"{server['base']}/e/{eid}{path}")
        if not path:
            page.wait_for_selector(".js-plotly-plot")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"/e/{eid}{path} is {width} px wide at 390 px"
    page.goto(server["base"] + "/engagements")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not messages, messages  # plotly's own stylesheet injection included
    ctx.close()
