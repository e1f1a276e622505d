"""GitHub issues JSON (REST API `GET /repos/{owner}/{repo}/issues?labels=incident&state=all`, or
`gh issue list --json ...`): a list of issues with `number`, `title`, `state`, `created_at`,
`closed_at`, `labels[]` (`name`), `html_url`, `repository_url`.

Only issues labelled as incidents (a label containing "incident") are incidents; the others, and
pull requests, are skipped and counted. Severity from a label such as `sev1`, `severity:2` or
`P1`; service from a `service:<name>` or `component:<name>` label; a `customer-reported` label sets
the detection source. created_at -> detected, closed_at -> resolved.
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import ReadContext, ReadResult
from .jsonapi import JsonRecord, has_keys, load_json, read_records
from .rows import incident, map_severity

_SEV = re.compile(r"^(sev(?:erity)?[\s:_-]*[0-4]|p[0-5]|priority[\s:_-]*[0-5])$", re.I)


class GitHubIssuesJson:
    name = "github-issues-json"
    kind = "incidents"
    description = "GitHub issues JSON (issues labelled as incidents)"

    def detect(self, head: str, path: Path) -> bool:
        return has_keys(head, "number", "labels", "state") and (
            "github.com" in head or has_keys(head, "createdAt", "closedAt"))

    def read(self, path: Path, ctx: ReadContext) -> ReadResult:
        loaded = load_json(path)

        def to_row(rec: JsonRecord):
            if rec.get("pull_request") is not None:
                return None
            labels = rec.names("labels")
            if not any("incident" in lab.lower() for lab in labels):
                return None
            number = rec.text("number", required=True)
            created = rec.when("created_at", "createdAt", required=True)
            closed = rec.when("closed_at", "closedAt")
            if rec.problems:
                return None
            repo = (rec.raw("repository_url") or rec.raw("url") or "").split("/repos/")[-1]
            repo = "/".join(repo.split("/")[:2]) if "/" in repo else ""
            sev = next((lab for lab in labels if _SEV.match(lab.strip())), None)
            service = next((lab.split(":", 1)[1].strip() for lab in labels
                            if lab.lower().startswith(("service:", "component:"))), None)
            customer = any(lab.lower() in ("customer-reported", "customer reported")
                           for lab in labels)
            return incident(
                "github", f"{repo}#{number}" if repo else number,
                title=rec.first("title") or f"Issue {number}",
                severity=map_severity(sev, ctx.severity_map) if sev else None,
                severity_original=sev, service=service, detected=created, resolved=closed,
                detection_source="customer" if customer else "internal",
                postmortem_url=None, status="resolved" if closed else (rec.raw("state") or "open").lower(),
            )

        notes = ["GitHub issues: only issues with an 'incident' label are imported."]
        what = "a GitHub issues list"
        return read_records(self.name, path, ctx, loaded.records("items", what=what), to_row,
                            loaded.notes + notes, loaded.encoding, what)
