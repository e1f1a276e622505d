"""Benchmarks: import and metrics over generated incidents, and the sample report's render time.

Run: make bench   (figures go to stdout; nothing here is a pass/fail test)
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pagerduty_csv(path: Path, n: int) -> None:
    rng = random.Random(1)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "incident_number", "description", "service_name", "created_on",
                    "resolved_on", "seconds_to_first_ack", "seconds_to_resolve", "urgency",
                    "priority"])
        for i in range(n):
            t = start + dt.timedelta(seconds=rng.randint(0, 80 * 86400))
            dur = rng.randint(60, 20000)
            w.writerow([f"Q{i:012d}", i, f"[svc{i % 20}] alert {i % 300}", f"svc{i % 20}",
                        t.isoformat(), (t + dt.timedelta(seconds=dur)).isoformat(),
                        rng.randint(10, 900), dur, "high", f"P{rng.randint(1, 4)}"])


def main() -> None:
    import pandas as pd

    from assess import importers, metrics
    from assess.importers.base import ReadContext
    from assess.incidents import ACTION_COLUMNS, DEPLOY_COLUMNS, empty
    from assess.mappings import severity_map

    with tempfile.TemporaryDirectory() as d:
        for n in (10_000, 100_000):
            path = Path(d) / f"pd{n}.csv"
            pagerduty_csv(path, n)
            t = time.perf_counter()
            result = importers.read(path, ReadContext("UTC", severity_map("pagerduty-csv", None)))
            secs = time.perf_counter() - t
            print(f"import pagerduty-csv {n:>7} rows: {secs:6.2f} s, {n / secs:>9,.0f} rows/s, "
                  f"peak RSS {peak_mb():.0f} MB")
            t = time.perf_counter()
            rows = sum(1 for _ in csv.reader(path.open()))
            print(f"  plain csv module parse: {time.perf_counter() - t:.2f} s ({rows} lines)")
            s = metrics.Settings(start=pd.Timestamp("2026-01-01T00:00Z"),
                                 end=pd.Timestamp("2026-04-01T00:00Z"))
            t = time.perf_counter()
            metrics.compute(result.frame, empty(DEPLOY_COLUMNS), empty(ACTION_COLUMNS), s)
            print(f"  metrics over {n} incidents: {time.perf_counter() - t:.2f} s")

    from assess.analysis import analyse
    from assess.report import render

    t = time.perf_counter()
    a = analyse(ROOT / "sample_engagement")
    t_data = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        r = render(a, Path(d), "assessment")
        print(f"sample report: data {t_data:.2f} s, charts+layout+PDF "
              f"{time.perf_counter() - t:.2f} s, {r.pages} pages, peak RSS {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
