"""What `assess serve` adds to gunicorn: an access log without self-assessment tokens, and the
app's security headers on the error responses gunicorn writes itself (a malformed request, a
request line over the limit), which never reach the app."""

from __future__ import annotations

import re
import textwrap
from html import escape

from gunicorn.glogging import Logger

# /s/<token>: a self-assessment link's secret, never written to a log
_TOKEN = re.compile(r"(/s/)[A-Za-z0-9_\-]+")
REDACTED = r"\1[token]"
# the headers create_app's after_request sets, for the responses gunicorn writes on its own
ERROR_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)


def redact(text: str | None) -> str | None:
    """A request line, path or referrer with every self-assessment token replaced."""
    return _TOKEN.sub(REDACTED, text) if isinstance(text, str) else text


class RedactingLogger(Logger):
    """gunicorn's logger, with self-assessment tokens taken out of every access-log atom that
    can carry a URL (request line, path, query, referrer)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "{referer}i"):
            if key in atoms:
                atoms[key] = redact(atoms[key])
        return atoms


def write_error(sock, status_int, reason, mesg):
    """gunicorn.util.write_error with the app's security headers (same body)."""
    from gunicorn import util

    body = textwrap.dedent("""\
    <html>
      <head>
        <title>%(reason)s</title>
      </head>
      <body>
        <h1><p>%(reason)s</p></h1>
        %(mesg)s
      </body>
    </html>
    """) % {"reason": reason, "mesg": escape(redact(mesg) or "")}
    head = [f"HTTP/1.1 {status_int} {reason}", "Connection: close",
            "Content-Type: text/html; charset=utf-8", f"Content-Length: {len(body.encode('utf-8'))}"]
    head += [f"{k}: {v}" for k, v in ERROR_HEADERS]
    util.write_nonblock(sock, ("\r\n".join(head) + "\r\n\r\n").encode("latin1") + body.encode("utf-8"))


def install_error_headers() -> None:
    """Make gunicorn's own error responses carry the security headers (its workers call
    gunicorn.util.write_error; set in the master before the workers are forked)."""
    from gunicorn import util

    util.write_error = write_error
