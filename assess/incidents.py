"""The canonical incident and deploy tables every importer produces and every metric reads."""

from __future__ import annotations

import pandas as pd

TIME_COLUMNS = (
    "impact_start",
    "detected",
    "acknowledged",
    "mitigation_started",
    "mitigated",
    "resolved",
    "postmortem_at",
)

# column -> pandas dtype. Timestamps are tz-aware UTC; text uses pandas' string dtype so that
# "007" stays "007"; counts are nullable integers so a missing value is <NA>, never 0.
INCIDENT_COLUMNS: dict[str, str] = {
    "key": "string",  # "<source>:<external_id>", the stable identity used for de-duplication
    "source": "string",
    "external_id": "string",
    "title": "string",
    "severity": "string",  # SEV1..SEV4, or <NA> when the source value is unmapped
    "severity_original": "string",
    "service": "string",
    **{c: "datetime64[us, UTC]" for c in TIME_COLUMNS},
    "detection_source": "string",  # alert | customer | internal
    "impact": "string",  # outage | partial | degraded | none
    "customers_affected": "Int64",
    "support_tickets": "Int64",
    "revenue_impact": "Float64",
    "root_cause": "string",
    "postmortem_url": "string",
    "status": "string",
    "provenance": "string",  # "<file>:<row>" of the source row
}

DEPLOY_COLUMNS: dict[str, str] = {
    "key": "string",
    "source": "string",
    "deployed_at": "datetime64[us, UTC]",
    "service": "string",
    "version": "string",
    "outcome": "string",  # success | failed | rolled_back
    "author": "string",
    "provenance": "string",
}

ACTION_COLUMNS: dict[str, str] = {
    "incident_key": "string",
    "title": "string",
    "owner": "string",
    "due": "datetime64[us, UTC]",
    "done": "boolean",
}

DETECTION_SOURCES = ("alert", "customer", "internal")
IMPACTS = ("outage", "partial", "degraded", "none")


def empty(columns: dict[str, str]) -> pd.DataFrame:
    """An empty, typed frame with the given schema."""
    return typed(pd.DataFrame({c: [] for c in columns}), columns)


def typed(frame: pd.DataFrame, columns: dict[str, str] = INCIDENT_COLUMNS) -> pd.DataFrame:
    """Give a frame exactly the canonical columns, in order, with their dtypes."""
    out = pd.DataFrame(index=frame.index)
    for col, dtype in columns.items():
        if col in frame.columns:
            series = frame[col]
        else:
            series = pd.Series(pd.NA, index=frame.index, dtype="object")
        if str(series.dtype) == dtype:
            out[col] = series
        elif dtype.startswith("datetime64"):
            out[col] = pd.to_datetime(series, utc=True).astype(dtype)
        else:
            out[col] = series.astype(dtype)
    return out.reset_index(drop=True)

# The order an incident's lifecycle must follow. mitigation_started sits outside it: it may
# legitimately come before or after the acknowledgement.
TIMELINE_ORDER = ("impact_start", "detected", "acknowledged", "mitigated", "resolved")


def timeline_problems(frame: pd.DataFrame) -> pd.DataFrame:
    """Incidents whose recorded times run backwards: one row per pair out of order.

    Each recorded time is compared with the latest recorded time before it in TIMELINE_ORDER
    (so a missing acknowledgement does not hide a resolve before detection). Columns: position
    (the frame's row position), key, provenance, earlier (the field that should come first),
    later (the field recorded before it), minutes (by how much, > 0).
    """
    import numpy as np

    parts = []
    # the running latest time and its field, as numpy arrays (NaT compares false either way)
    latest = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[us]")
    latest_field = np.full(len(frame), -1)
    for i, col in enumerate(TIMELINE_ORDER):
        if col not in frame.columns:
            continue
        value = frame[col].to_numpy(dtype="datetime64[us]")
        bad = value < latest
        if bad.any():
            at = np.flatnonzero(bad)
            gap = pd.Series(latest[at] - value[at]).dt.total_seconds() / 60.0
            parts.append(pd.DataFrame({
                "position": at.astype(int),
                "key": frame["key"].iloc[at].reset_index(drop=True),
                "provenance": frame["provenance"].iloc[at].reset_index(drop=True)
                if "provenance" in frame.columns else pd.NA,
                "earlier": pd.array(np.array(TIMELINE_ORDER, dtype=object)[latest_field[at]],
                                    dtype="string"),
                "later": col, "minutes": gap.round(1).to_numpy()}))
        newer = ~np.isnat(value) & ~bad
        latest = np.where(newer, value, latest)
        latest_field = np.where(newer, i, latest_field)
    columns = ["position", "key", "provenance", "earlier", "later", "minutes"]
    if not parts:
        return pd.DataFrame(columns=columns)
    # one row per pair, in the frame's order, then the lifecycle's order
    out = pd.concat(parts).reset_index(drop=True)
    return out.sort_values("position", kind="mergesort").reset_index(drop=True)[columns]
