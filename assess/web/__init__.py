"""The assess web app: the consultant's workspace, the intake interview, the client's
self-assessment, imports, the dashboard and the reports.

`create_app(home)` builds it; `assess serve` runs it under gunicorn. The domain core (import,
metrics, risks, plans, reports) knows nothing of Flask: the blueprints are thin layers over it.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from pathlib import Path
from typing import Any

from flask import Flask, g, jsonify, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.routing import IntegerConverter

from .db import Database, DatabaseBusy, database_url, head_revision
from .service import Workspace

csrf = CSRFProtect()

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
MAX_UPLOAD_MB = 25


def secret_key(home: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in HOME (mode 600), so
    every worker process and every restart signs sessions with the same key."""
    if os.environ.get("ASSESS_SECRET_KEY"):
        return os.environ["ASSESS_SECRET_KEY"]
    path = home / "secret_key"
    if not path.exists():  # first start: several workers may get here at once; one key wins
        import secrets

        tmp = home / f".secret_key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic, and refuses to replace a key another worker wrote
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


class DatabaseId(IntegerConverter):
    """<int:...> in every route: a whole number a database id can be (at most 2**63 - 1)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


LOCAL_HOSTS = ["localhost", "127.0.0.1"]


def host_settings() -> dict[str, Any]:
    """PUBLIC_URL (ASSESS_PUBLIC_URL: the address links sent to clients use) and TRUSTED_HOSTS
    (ASSESS_TRUSTED_HOSTS, comma-separated, plus the public URL's host; this machine's loopback
    names when neither is set): a request whose Host header is not one of them gets a 400, so a
    forged Host never reaches a link, a redirect or a page."""
    from urllib.parse import urlsplit

    public = os.environ.get("ASSESS_PUBLIC_URL", "").strip().rstrip("/") or None
    if public and not urlsplit(public).scheme.startswith("http"):
        raise RuntimeError(f"ASSESS_PUBLIC_URL={public!r}: expected an http(s) URL, e.g. "
                           "https://assess.example.com")
    hosts = [h.strip() for h in os.environ.get("ASSESS_TRUSTED_HOSTS", "").split(",") if h.strip()]
    if public:
        hosts.append(urlsplit(public).hostname)
    return {"PUBLIC_URL": public, "TRUSTED_HOSTS": hosts or list(LOCAL_HOSTS)}


@functools.cache
def plotly_stylesheet() -> str:
    from ..charts import _plotlyjs

    text = _plotlyjs().read_text(encoding="utf-8")
    rules = re.findall(r'"([XY][^"]*)":"([^"]*)"', text)
    out = []
    for selector, body in rules:
        full = selector.replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        out.append(f"{full}{{{body}}}")
    return "\n".join(out) + "\n"


@functools.cache
def plotly_style_guards() -> tuple[str, ...]:
    """The ids plotly.min.js checks before injecting a bundled stylesheet (maplibre's, for map
    charts we never draw): an element with that id on the page makes it skip the injection, so
    the strict CSP logs no violation. Read from the installed plotly.min.js."""
    from ..charts import _plotlyjs

    text = _plotlyjs().read_text(encoding="utf-8")
    return tuple(dict.fromkeys(re.findall(
        r'getElementById\("([0-9a-f]{32,64})"\)\)\{var \w+=document\.createElement\("style"\)', text)))


def create_app(home: str | Path | None = None, db_url: str | None = None,
               config: dict[str, Any] | None = None) -> Flask:
    home = Path(home or os.environ.get("ASSESS_HOME") or "assess-home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseId  # an id past 64 bits is a 404, not a 500
    app.config.update(
        SECRET_KEY=secret_key(home),
        MAX_CONTENT_LENGTH=MAX_UPLOAD_MB * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ASSESS_INSECURE_COOKIES") != "1",
        SESSION_COOKIE_NAME="assess_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=3600,
        LOGIN_LIMIT=5,            # failures per e-mail address within LOGIN_WINDOW
        LOGIN_IP_LIMIT=30,        # failures per client address within LOGIN_WINDOW
        LOGIN_WINDOW=dt.timedelta(minutes=15),
        LINK_DAYS=14,             # a self-assessment link's default lifetime
        TRUST_PROXY=os.environ.get("ASSESS_TRUST_PROXY") == "1",
        **host_settings(),
    )
    app.config.update(config or {})
    if app.config["TRUST_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    db = Database(db_url or database_url(home, os.environ.get("DATABASE_URL")))
    if db.revision() != head_revision():
        raise RuntimeError(f"the database at {db.url} is not at the current schema: "
                           "run `assess db upgrade` (assess serve does it for you)")
    app.extensions["assess"] = Workspace(home=home, db=db)
    csrf.init_app(app)

    from . import auth, checkins, dashboard, engagements, imports, interview, reports

    for bp in (auth.bp, engagements.bp, interview.bp, imports.bp, dashboard.bp, reports.bp,
               checkins.bp):
        app.register_blueprint(bp)
    app.jinja_env.globals["plotly_style_guards"] = plotly_style_guards
    from . import labels

    labels.init_app(app)
    app.jinja_env.globals["progress_pct"] = lambda done, total: round(100 * done / total) if total else 0
    from ..formatting import fmt_minutes, fmt_number, fmt_pct, isna

    def _known(v):
        return None if isna(v) else v  # None and NaN read "n/a"

    app.jinja_env.filters.update(minutes=lambda v: fmt_minutes(_known(v)),
                                 num=lambda v, d=0: fmt_number(_known(v), d),
                                 pct=lambda v, d=0: fmt_pct(_known(v), d))

    @app.teardown_appcontext
    def close_session(_exc):
        s = g.pop("db", None)
        if s is not None:
            s.close()

    @app.after_request
    def security_headers(resp):
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "no-referrer"  # a self-assessment link never leaks in a Referer
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config["SESSION_COOKIE_SECURE"]:
            h["Strict-Transport-Security"] = "max-age=31536000"
        if request.endpoint not in ("static", "plotly_js", "plotly_css"):
            h["Cache-Control"] = "no-store"  # downloads too (send_file says no-cache)
        return resp

    def wants_json() -> bool:
        return request.is_json or request.accept_mimetypes.best == "application/json"

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        if wants_json():
            return jsonify(error="csrf", message="The page's security token expired; a new one is "
                           "fetched and your answers are sent again."), 400
        handler = interview.csrf_recovery()
        if handler is not None:
            return handler
        return render_template("error.html", code=400, title="This form has expired",
                               message="For your security the form expired. Go back, reload the page "
                               "and submit it again."), 400

    @app.errorhandler(413)
    def too_large(_exc):
        msg = (f"That file is larger than {MAX_UPLOAD_MB} MB, the most this server accepts. "
               "Export a shorter period (90 days is enough), or split the file.")
        if wants_json():
            return jsonify(error="too_large", message=msg), 413
        return render_template("error.html", code=413, title="File too large", message=msg), 413

    @app.errorhandler(DatabaseBusy)
    def busy(_exc):
        """The write lock stayed taken (retried with backoff for WRITE_WAIT s): a 503 that says
        nothing was saved and keeps what was sent, ready to send again."""
        from . import db as db_module

        seconds = int(db_module.WRITE_WAIT)
        message = (f"The database stayed busy for {seconds} seconds: nothing was saved. "
                   "Send it again in a moment.")
        if wants_json():
            return jsonify(error="busy", message=message), 503, {"Retry-After": "5"}
        if request.method != "POST":
            return render_template("error.html", code=503, title="Busy, try again",
                                   message=message), 503, {"Retry-After": "5"}
        fields = [(k, v) for k, v in request.form.items(multi=True)
                  if k != "csrf_token" and "password" not in k]  # a password is never echoed
        files = [f.filename for f in request.files.values() if f.filename]
        return render_template("busy.html", fields=fields, files=files, seconds=seconds,
                               action=request.full_path.rstrip("?")), 503, {"Retry-After": "5"}

    from ..errors import AssessError
    from ..risks import CatalogError  # a ValueError of risks.py's own, not yet an AssessError

    @app.errorhandler(AssessError)
    @app.errorhandler(CatalogError)
    def user_fixable(exc):
        """One page for every error the user can fix: what is wrong and where (the message
        names the file, the key or the row), and where to fix it; never a bare 500."""
        message = str(exc)
        if wants_json():
            return jsonify(error="invalid_input", message=message), 422
        from flask import has_request_context

        row = None
        if has_request_context() and (request.view_args or {}).get("eid") is not None:
            from .engagements import engagement_or_404

            try:
                row = engagement_or_404(request.view_args["eid"])
            except Exception:  # noqa: BLE001 - a 404 here: show the error without the engagement
                row = None
        return render_template("broken.html", row=row, error=message), 422

    @app.errorhandler(404)
    def not_found(_exc):
        if wants_json():
            return jsonify(error="not_found"), 404
        return render_template("error.html", code=404, title="Not found",
                               message="There is nothing here, or it is not yours to see."), 404

    @app.errorhandler(429)
    def too_many(exc):
        return render_template("error.html", code=429, title="Too many attempts",
                               message=exc.description), 429

    from . import assets

    assets.init_app(app)

    @app.get("/static/vendor/plotly.min.js")
    def plotly_js():
        """plotly.js from the installed plotly package: served by the app, never from a CDN,
        gzipped and cached (assets)."""
        from ..charts import _plotlyjs

        return assets.send_asset(_plotlyjs(), "text/javascript")

    @app.get("/static/vendor/plotly.css")
    def plotly_css():
        """plotly.js's own style rules as a stylesheet, so that it never needs an inline <style>
        (the strict CSP forbids those); read from the installed plotly.min.js, not copied."""
        return assets.send_text(plotly_stylesheet(), "text/css")

    def plotly_url(name: str = "plotly_js") -> str:
        from ..charts import _plotlyjs

        return url_for(name, v=assets.version(_plotlyjs()))

    app.jinja_env.globals["plotly_url"] = plotly_url

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    return app
