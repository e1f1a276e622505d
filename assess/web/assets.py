"""Static files served compressed and cached: app.css, app.js and plotly.min.js (4.8 MB, 1.4 MB
gzipped) leave the server gzipped when the browser accepts it, with an ETag, and with a year's
`immutable` cache when the URL carries the file's version (`?v=`, which the templates add), so a
second overview load fetches no script at all. Each file is compressed once per change."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from pathlib import Path

from flask import Flask, Response, abort, request, url_for
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
COMPRESSIBLE = ("text/", "application/javascript", "image/svg+xml", "application/json")
_cache: dict[str, tuple[tuple[int, int], bytes, bytes, str]] = {}
_lock = threading.Lock()


def _entry(path: Path) -> tuple[bytes, bytes, str]:
    """(raw, gzipped, etag) of a file, recomputed only when its mtime or size changed."""
    st = path.stat()
    stamp = (st.st_mtime_ns, st.st_size)
    key = str(path)
    hit = _cache.get(key)
    if hit and hit[0] == stamp:
        return hit[1], hit[2], hit[3]
    raw = path.read_bytes()
    packed = gzip.compress(raw, compresslevel=6, mtime=0)
    etag = hashlib.sha256(raw).hexdigest()[:20]
    with _lock:
        _cache[key] = (stamp, raw, packed, etag)
    return raw, packed, etag


def version(path: Path) -> str:
    """The version put in an asset's URL: the start of its content hash."""
    return _entry(path)[2][:10]


def respond(raw: bytes, packed: bytes | None, etag: str, mimetype: str) -> Response:
    """The file's bytes, gzipped when accepted, 304 when the browser has this version."""
    if request.if_none_match.contains(etag) or request.if_none_match.contains(etag + "-gz"):
        resp = Response(status=304)
    else:
        gz = packed is not None and "gzip" in (request.headers.get("Accept-Encoding") or "")
        resp = Response(packed if gz else raw, mimetype=mimetype)
        if gz:
            resp.headers["Content-Encoding"] = "gzip"
        resp.set_etag(etag + ("-gz" if gz else ""))
    resp.headers["Vary"] = "Accept-Encoding"
    if request.args.get("v"):
        resp.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


def send_asset(path: Path, mimetype: str | None = None) -> Response:
    if not path.is_file():
        abort(404)
    mimetype = mimetype or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mimetype == "text/javascript" or path.suffix == ".js":
        mimetype = "text/javascript"
    raw, packed, etag = _entry(path)
    compress = mimetype.startswith(COMPRESSIBLE) and len(raw) > 1024
    return respond(raw, packed if compress else None, etag, mimetype)


def send_text(text: str, mimetype: str) -> Response:
    """Generated text (plotly's stylesheet) with the same compression and caching."""
    raw = text.encode()
    etag = hashlib.sha256(raw).hexdigest()[:20]
    return respond(raw, gzip.compress(raw, mtime=0) if len(raw) > 1024 else None, etag, mimetype)


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder or "")

    def static(filename: str):
        full = safe_join(str(folder), filename)
        if full is None:
            abort(404)
        return send_asset(Path(full))

    app.view_functions["static"] = static

    def asset_url(filename: str) -> str:
        """url_for('static') with the file's version, so a browser caches it for a year."""
        path = folder / filename
        return url_for("static", filename=filename, v=version(path) if path.is_file() else None)

    app.jinja_env.globals["asset_url"] = asset_url
