"""Web benchmark: how long the hot pages take to render in-process, and what `assess serve`
(gunicorn, 2 workers) sustains on loopback with 8 concurrent clients.

Also renders the same questionnaire section through WTForms' own widgets (a RadioField per
question), the reason the hot pages render their fields with Jinja macros.

Run: make bench-web
"""

from __future__ import annotations

import concurrent.futures
import json
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import SAMPLE  # noqa: E402
from tests.webutil import PASSWORD, Web, make_app, make_home, running_server  # noqa: E402


def timed(fn, n: int) -> dict:
    fn()  # warm
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * n) - 1], 2)}


def wtforms_section(app, qn, section: int) -> callable:
    """The same section rendered with WTForms RadioField/TextAreaField widgets."""
    from flask import render_template_string
    from flask_wtf import FlaskForm
    from wtforms import IntegerField, RadioField, SelectMultipleField, TextAreaField

    class F(FlaskForm):
        pass

    for q in qn.sections[section][2]:
        name = q.id.replace(".", "_")
        if q.type in ("single",):
            setattr(
                F, name, RadioField(q.text["en"], choices=[(o["value"], o["label"]["en"]) for o in q.options])
            )
        elif q.type == "multiple":
            setattr(
                F,
                name,
                SelectMultipleField(
                    q.text["en"], choices=[(o["value"], o["label"]["en"]) for o in q.options]
                ),
            )
        elif q.type == "scale":
            setattr(
                F,
                name,
                RadioField(
                    q.text["en"],
                    choices=[(str(i), str(i)) for i in range(q.scale["min"], q.scale["max"] + 1)],
                ),
            )
        elif q.type in ("number", "duration"):
            setattr(F, name, IntegerField(q.text["en"]))
        else:
            setattr(F, name, TextAreaField(q.text["en"]))
        setattr(F, "note_" + name, TextAreaField("Note"))
    tpl = "{% for f in form %}<fieldset>{{ f.label() }}{{ f() }}</fieldset>{% endfor %}"

    def render():
        with app.test_request_context("/"):
            render_template_string(tpl, form=F(meta={"csrf": False}))

    return render


def macros_section(app, qn, section: int):
    """The section's fields through the app's own Jinja macros (what the page uses)."""
    from flask import render_template_string

    rows = [{"q": q, "value": None, "note": "", "applicable": True} for q in qn.sections[section][2]]
    tpl = ('{% from "_questions.html" import question with context %}'
           '{% for row in rows %}{{ question(row, "en", True, None) }}{% endfor %}')

    def render():
        with app.test_request_context("/"):
            from assess.questionnaires import RESERVED_LABELS

            render_template_string(tpl, rows=rows, reserved_labels=RESERVED_LABELS)

    return render


def in_process(home: Path) -> dict:
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)
    app = make_app(home)
    w = Web(app)
    w.login()
    eid = w.import_folder(SAMPLE)
    from assess.questionnaires import load

    qn = load("intake")
    biggest = max(range(len(qn.sections)), key=lambda i: len(qn.sections[i][2]))
    out = {"questions_on_page": len(qn.sections[biggest][2])}
    out["questionnaire_page"] = timed(lambda: w.get(f"/e/{eid}/interview/{biggest}"), 300)
    out["jinja_macros_fields_only"] = timed(macros_section(app, qn, biggest), 300)
    out["wtforms_widgets_fields_only"] = timed(wtforms_section(app, qn, biggest), 300)
    token = w.token()
    out["autosave_post"] = timed(
        lambda: w.c.post(
            f"/e/{eid}/interview/answers.json",
            headers={"X-CSRFToken": token},
            json={"answers": [{"question": "oncall.load", "value": 3}]},
        ),
        300,
    )
    out["dashboard_overview_cached"] = timed(lambda: w.get(f"/e/{eid}"), 30)
    out["incident_list"] = timed(lambda: w.get(f"/e/{eid}/incidents?severity=SEV2"), 50)
    # a plan edit as the page sends it (inline, JSON back): the decision written, no page rendered
    flip = iter(["Jonas Weber", "Priya Raman"] * 100)
    out["plan_edit_inline"] = timed(
        lambda: w.c.post(
            f"/e/{eid}/plan/actions/one-command-rollback",
            data={"csrf_token": token, "op": "edit", "owner": next(flip), "due": "", "due_was": "",
                  "horizon": "7-30", "status_was": "planned", "note": ""},
            headers={"Accept": "application/json"},
        ),
        100,
    )
    return out, eid


def first_load(base: str, cookie: str, eid: int) -> dict:
    """The overview as a browser's first visit fetches it over loopback: the page, then its
    stylesheets and scripts (gzip accepted), bytes on the wire; then a second visit, which
    revalidates nothing (versioned URLs are cached for a year)."""
    import re

    def get(path: str, gz: bool = True) -> tuple[bytes, dict]:
        headers = {"Cookie": cookie, **({"Accept-Encoding": "gzip"} if gz else {})}
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=60) as r:
            return r.read(), dict(r.headers)

    t = time.perf_counter()
    page, _ = get(f"/e/{eid}")
    assets = [a.replace("&amp;", "&") for a in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.decode())]
    wire = len(page) + sum(len(get(a)[0]) for a in assets)
    elapsed = (time.perf_counter() - t) * 1000
    raw = sum(len(get(a, gz=False)[0]) for a in assets)
    return {"assets": len(assets), "wire_kb": round(wire / 1024), "uncompressed_assets_kb": round(raw / 1024),
            "page_and_assets_ms": round(elapsed, 1),
            "note": "a second visit fetches the page alone: the assets' URLs carry their version and "
                    "are cached for a year (immutable)"}


def under_load(home: Path, eid: int, seconds: float = 10.0, clients: int = 8) -> dict:
    with running_server(home, workers=2) as base:
        import http.cookiejar

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        token = json.loads(opener.open(base + "/csrf-token").read())["token"]
        opener.open(
            base + "/login",
            urllib.parse.urlencode(
                {"csrf_token": token, "email": "alice@firm.io", "password": PASSWORD}
            ).encode(),
        ).read()
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        token = json.loads(opener.open(base + "/csrf-token").read())["token"]

        def run(kind: str) -> dict:
            stop = time.time() + seconds
            lat: list[float] = []

            def client() -> None:
                while time.time() < stop:
                    if kind == "page":
                        req = urllib.request.Request(
                            f"{base}/e/{eid}/interview/3", headers={"Cookie": cookie}
                        )
                    else:
                        req = urllib.request.Request(
                            f"{base}/e/{eid}/interview/answers.json",
                            method="POST",
                            data=json.dumps({"answers": [{"question": "oncall.load", "value": 2}]}).encode(),
                            headers={
                                "Cookie": cookie,
                                "X-CSRFToken": token,
                                "Content-Type": "application/json",
                            },
                        )
                    t = time.perf_counter()
                    with urllib.request.urlopen(req, timeout=30) as r:
                        r.read()
                    lat.append((time.perf_counter() - t) * 1000)

            with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                for f in [pool.submit(client) for _ in range(clients)]:
                    f.result()
            lat.sort()
            return {
                "requests": len(lat),
                "per_second": round(len(lat) / seconds, 1),
                "p50_ms": round(lat[len(lat) // 2], 1),
                "p95_ms": round(lat[int(len(lat) * 0.95)], 1),
            }

        return {
            "clients": clients,
            "seconds": seconds,
            "overview_first_load": first_load(base, cookie, eid),
            "questionnaire_page": run("page"),
            "autosave_post": run("save"),
        }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        make_home(home).dispose()
        result, eid = in_process(home)
        result["gunicorn_2_workers"] = under_load(home, eid)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
