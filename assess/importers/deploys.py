"""Deploy logs: a deploy CSV, the format documented in docs/import-formats.md.

Columns (header names are matched case-insensitively): `timestamp` (ISO 8601; naive values are read
in the engagement's time zone), `service`, `version`, `outcome` (success, failed, rolled_back; also
"rolled back", "rollback"), and optionally `author` and `id`. Without an `id`, a deploy's identity is
its timestamp, service and version, so re-importing an overlapping log adds nothing twice.
"""

from __future__ import annotations

from pathlib import Path

from .base import ImportError_, ReadContext, ReadResult, csv_records, header_cells, parse_iso, read_text
from .rows import Record, finish

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
        for line, cells in records:
            rec = Record(path.name, line, dict(zip(header, cells, strict=False)), ctx)
            if len(cells) != len(header):
                rec.fail(None, f"{len(header)} cells like the header", f"{len(cells)} cells")
                problems.extend(rec.problems)
                continue
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
