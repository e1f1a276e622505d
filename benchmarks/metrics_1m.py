"""Metrics benchmark: all baseline metrics over 1,000,000 incidents (and 100,000), with deploys.

Run: make bench-metrics
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assess import metrics  # noqa: E402
from assess.incidents import ACTION_COLUMNS, DEPLOY_COLUMNS, INCIDENT_COLUMNS, empty, typed  # noqa: E402

START = pd.Timestamp("2026-01-01T00:00:00Z")
DAYS = 90


def _text(*parts) -> pd.Series:
    """Element-wise concatenation as a pandas 'string' column, built in pyarrow: a million Python
    strings would make the generator, not the metrics, the process's peak memory."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = [p if isinstance(p, str) else pa.array(p).cast(pa.string()) for p in parts]
    return pd.Series(pd.arrays.ArrowStringArray(pc.binary_join_element_wise(*arrays, "")))


def incidents(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = START + pd.to_timedelta(rng.integers(0, DAYS * 86400, n), unit="s")
    detect = start + pd.to_timedelta(rng.integers(0, 1800, n), unit="s")
    service_no = rng.integers(0, 40, n)
    services = _text("svc", service_no)
    families = rng.integers(0, 400, n)
    titles = _text("[svc", service_no, "] check ", families, " failing on node-",
                   rng.integers(0, 10_000, n))
    sev = np.array(["SEV1", "SEV2", "SEV3", "SEV4"])[rng.choice(4, n, p=[0.05, 0.2, 0.5, 0.25])]
    resolved = detect + pd.to_timedelta(rng.integers(300, 20_000, n), unit="s")
    ids = np.arange(n)
    frame = pd.DataFrame({
        "key": _text("gen:", ids), "source": "gen",
        "external_id": _text(ids), "title": titles, "severity": sev,
        "service": services, "impact_start": start, "detected": detect,
        "acknowledged": detect + pd.to_timedelta(rng.integers(10, 900, n), unit="s"),
        "mitigated": resolved - pd.Timedelta(minutes=5), "resolved": resolved,
        "detection_source": np.array(["alert", "customer", "internal"])[rng.integers(0, 3, n)],
        "impact": np.where(sev == "SEV1", "outage", None),
        "root_cause": np.where(families % 3 == 0, np.char.add("cause-", (families % 50).astype(str)),
                               None),
    })
    return typed(frame, INCIDENT_COLUMNS)


def deploys(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "key": [f"d{i}" for i in range(n)], "source": "gen",
        "deployed_at": START + pd.to_timedelta(rng.integers(0, DAYS * 86400, n), unit="s"),
        "service": np.array([f"svc{i}" for i in range(40)])[rng.integers(0, 40, n)],
        "outcome": "success",
    })
    return typed(frame, DEPLOY_COLUMNS)


def main() -> None:
    settings = metrics.Settings(start=START, end=START + pd.Timedelta(days=DAYS),
                                timezone="Europe/Paris")
    for n in (100_000, 1_000_000):
        inc, dep = incidents(n), deploys(max(1000, n // 20))
        t = time.perf_counter()
        doc = metrics.compute(inc, dep, empty(ACTION_COLUMNS), settings)
        secs = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"metrics over {n:>9,} incidents, {len(dep):,} deploys: {secs:6.2f} s, "
              f"peak RSS {rss:,.0f} MB (recurrence {doc['recurrence']['rate']}, "
              f"{len(doc['recurrence']['classes'])} recurring classes)")


if __name__ == "__main__":
    main()
