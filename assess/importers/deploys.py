"""Deploy logs: a deploy CSV, the format documented in docs/import-formats.md.

Columns (header names are matched case-insensitively): `timestamp` (ISO 8601; naive values are read
in the engagement's time zone), `service`, `version`, `outcome` (success, failed, rolled_back; also
"rolled back", "rollback"), and optionally `author` and `id`. Without an `id`, a deploy's identity is
its timestamp, service and version, so re-importing an overlapping log adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .base import (
    ImportError_,
    Problem,
    ReadContext,
    ReadResult,
    csv_records,
    header_cells,
    parse_iso,
    read_text,
)
from .rows import csv_rows, finish

NAME = "deploy-csv"
OUTCOMES = {
    "success": "success", "succeeded": "success", "ok": "success", "deployed": "success",
    "failed": "failed", "failure": "failed", "error": "failed",
    "rolled_back": "rolled_back", "rolled back": "rolled_back", "rollback": "rolled_back",
    "reverted": "rolled_back",
}
ISO = "ISO 8601 such as 2026-09-04T17:42:00+02:00"


class DeployCsv:
    name = NAME
    kind = "deploys"
    description = "Deploy log CSV (timestamp, service, version, outcome)"

    def detect(self, head: str, path: Path) -> bool:
        cols = {c.lower() for c in header_cells(head)}
        return {"timestamp", "service", "version"} <= cols

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        text, encoding = read_text(path)
        header, records = csv_records(text, path.name)
        header = [h.lower() for h in header]
        for col in ("timestamp", "service"):
            if col not in header:
                raise ImportError_(f"{path.name}: not a deploy CSV: no column '{col}'")
        problems, rows = [], []
        for line, rec in csv_rows(path, header, records, ctx, problems):
            at = rec.time("timestamp", parse_iso, ISO, required=True)
            service = rec.text("service", required=True)
            version = rec.text("version")
            outcome_raw = rec.raw("outcome")
            outcome = OUTCOMES.get(outcome_raw.lower()) if outcome_raw else "success"
            if outcome is None:
                rec.fail("outcome", "success, failed or rolled_back", outcome_raw)
            if rec.problems:
                problems.extend(rec.problems)
                continue
            ident = rec.raw("id") or f"{at.isoformat()}|{service}|{version or ''}"
            rows.append({
                "key": f"deploy:{ident}",
                "source": "deploy-csv",
                "deployed_at": at,
                "service": service,
                "version": version,
                "outcome": outcome,
                "author": rec.raw("author"),
                "provenance": f"{path.name}:{line}",
            })
        return finish(NAME, "deploys", path, rows, problems, [], encoding, len(records))


_TAB_LINE = re.compile(r"^([0-9a-f]{7,40})\t([^\t]+)\t([^\t]*)\t(.*)$")
_MEDIUM_DATE = "%a %b %d %H:%M:%S %Y %z"  # git's default date format: Thu Sep 4 17:42:00 2026 +0200


class GitLog:
    """Deploys from `git log` of the deployed branch: each commit on it is one deploy.

    Two shapes are read. The documented one, one commit per line, tab-separated:
        git log --first-parent --date=iso-strict --pretty=format:'%H%x09%ad%x09%an%x09%s' main
    and git's default output (`commit <hash>`, `Author:`, `Date:`, then the indented message).
    The service is the one given with --service, else the file name (api.gitlog -> api). A commit
    whose subject is `Revert "<subject>"` marks the reverted commit as rolled back.
    """

    name = "git-log"
    kind = "deploys"
    description = "git log of the deployed branch (one commit = one deploy)"

    def detect(self, head: str, path: Path) -> bool:
        first = head.lstrip().split("\n", 1)[0]
        return bool(re.match(r"commit [0-9a-f]{40}\b", first) or _TAB_LINE.match(first))

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        text, encoding = read_text(path)
        service = ctx.service or path.stem
        commits, problems = [], []  # (line, hash, when_text, author, subject)
        lines = text.splitlines()
        if lines and lines[0].startswith("commit "):
            current: dict | None = None
            for n, line in enumerate(lines, start=1):
                if line.startswith("commit "):
                    if current:
                        commits.append(current)
                    current = {"line": n, "hash": line.split()[1], "date": None, "author": None,
                               "subject": None}
                elif current is None:
                    continue
                elif line.startswith("Author:"):
                    current["author"] = line[7:].strip().split(" <")[0]
                elif line.startswith("Date:"):
                    current["date"] = line[5:].strip()
                elif line.startswith("    ") and current["subject"] is None and line.strip():
                    current["subject"] = line.strip()
            if current:
                commits.append(current)
        else:
            for n, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                m = _TAB_LINE.match(line)
                if not m:
                    problems.append(Problem(path.name, n, None,
                                            "hash<TAB>date<TAB>author<TAB>subject", line[:60]))
                    continue
                commits.append({"line": n, "hash": m.group(1), "date": m.group(2),
                                "author": m.group(3), "subject": m.group(4)})
        reverted = set()
        for c in commits:
            m = re.match(r'Revert "(.*)"$', c["subject"] or "")
            if m:
                reverted.add(m.group(1))
        rows = []
        for c in commits:
            when = None
            if c["date"]:
                try:
                    when = parse_iso(c["date"], ctx.tz)
                except ValueError:
                    try:
                        when = dt.datetime.strptime(c["date"], _MEDIUM_DATE).astimezone(dt.UTC)
                    except ValueError:
                        when = None
            if when is None:
                problems.append(Problem(path.name, c["line"], "date",
                                        "an ISO 8601 date (--date=iso-strict) or git's default date",
                                        c["date"]))
                continue
            rows.append({
                "key": f"deploy:git:{service}:{c['hash']}", "source": "git-log",
                "deployed_at": when, "service": service, "version": c["hash"][:12],
                "outcome": "rolled_back" if c["subject"] in reverted else "success",
                "author": c["author"] or None, "provenance": f"{path.name}:{c['line']}",
            })
        notes = [f"Each commit is one deploy of service '{service}'"
                 + (" (from the file name; set it with --service)." if not ctx.service else ".")]
        return finish(self.name, "deploys", path, rows, problems, notes, encoding, len(commits)
                      + sum(1 for p in problems if p.column is None))
