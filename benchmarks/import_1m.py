"""Import benchmark: 1,000,000 PagerDuty incident rows, against a plain csv-module parse and
pyarrow's own typed read of the same file; and a 10,000-row `assess import`, whole process.

Run: make bench-import   (each measure runs in its own process, so peak memory is its own)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEAT = 3
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def measure(kind: str, path: str) -> dict:
    """One measurement, in this process: seconds (libraries already imported) and peak RSS."""
    import csv
    import datetime as dt

    import pyarrow.csv as pacsv

    from assess.importers.base import ReadContext
    from assess.importers.pagerduty import PagerDutyCsv
    from assess.mappings import severity_map

    ctx = ReadContext("Europe/Paris", severity_map("pagerduty-csv", None))
    best = None
    for _ in range(REPEAT):  # best of REPEAT: this machine's disk and CPU are noisy
        t = time.perf_counter()
        rows = once(kind, path, ctx, csv, dt, pacsv, PagerDutyCsv)
        secs = time.perf_counter() - t
        best = secs if best is None else min(best, secs)
    return {"measure": kind, "rows": rows, "seconds": round(best, 3),
            "rows_per_second": round(rows / best),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def once(kind, path, ctx, csv, dt, pacsv, PagerDutyCsv) -> int:
    if kind == "csv-module":  # the same typed work in a plain Python loop
        rows = 0
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            next(reader)
            for cells in reader:
                dt.datetime.fromisoformat(cells[4])
                if cells[5]:
                    dt.datetime.fromisoformat(cells[5])
                float(cells[6] or 0)
                float(cells[7] or 0)
                rows += 1
    elif kind == "pyarrow-typed":
        rows = pacsv.read_csv(path).num_rows  # type inference parses the timestamps
    elif kind in ("assess-fast", "assess-rows"):
        reader = PagerDutyCsv()
        result = reader.read_fast(Path(path), ctx) if kind == "assess-fast" else reader.read_rows(
            Path(path), ctx)
        rows = len(result.frame)
    else:
        raise SystemExit(f"unknown measure {kind}")
    return rows


def run(kind: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", kind, str(path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    from run import pagerduty_csv

    rows_path = Path(tempfile.gettempdir()) / "assess-bench-pd-1m.csv"
    if not rows_path.is_file():
        pagerduty_csv(rows_path, 1_000_000)
    print(f"file: {rows_path} ({rows_path.stat().st_size / 1e6:.0f} MB, 1,000,000 rows)")
    results = {}
    for kind in ("csv-module", "pyarrow-typed", "assess-fast", "assess-rows"):
        results[kind] = r = run(kind, rows_path)
        print(f"  {kind:14} {r['seconds']:7.2f} s  {r['rows_per_second']:>10,} rows/s  "
              f"peak RSS {r['peak_rss_mb']:>5} MB")
    ratio = results["assess-fast"]["seconds"] / results["pyarrow-typed"]["seconds"]
    print(f"  assess import / pyarrow typed read: {ratio:.2f}x (target: within 1.5x)")
    print(f"  csv module loop / pyarrow typed read: "
          f"{results['csv-module']['seconds'] / results['pyarrow-typed']['seconds']:.1f}x")
    print(f"  row-by-row reader / columnar path: "
          f"{results['assess-rows']['seconds'] / results['assess-fast']['seconds']:.1f}x")

    with tempfile.TemporaryDirectory() as d:
        small = Path(d) / "pagerduty_10k.csv"
        pagerduty_csv(small, 10_000)
        eng = Path(d) / "eng"
        assess = [sys.executable, "-m", "assess"]
        subprocess.run([*assess, "init", str(eng), "--end", "2026-03-31"], check=True,
                       capture_output=True)
        t = time.perf_counter()
        subprocess.run([*assess, "import", str(eng), str(small)], check=True, capture_output=True)
        print(f"assess import of 10,000 rows, whole process: {time.perf_counter() - t:.2f} s "
              "(target: under 1 s)")
        t = time.perf_counter()
        subprocess.run([*assess, "--help"], check=True, capture_output=True)
        print(f"assess --help, whole process (start-up cost): {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        print(json.dumps(measure(sys.argv[2], sys.argv[3])))
    else:
        main()
