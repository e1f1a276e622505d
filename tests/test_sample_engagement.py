"""The sample engagement tells its story: the numbers a consultant would find in it."""

from __future__ import annotations

from assess.analysis import analyse

from .conftest import SAMPLE


def test_sample_story_shows_in_the_baseline():
    a = analyse(SAMPLE)
    m = a.metrics
    assert 60 <= m["incident_count"] <= 120
    assert set(a.data.incidents["source"]) == {"pagerduty", "jira"}
    assert 200 <= m["change_failure_rate"]["deploys"] <= 400
    assert m["maturity"]["level"] == "Reactive"
    # the recurring database connection-pool saturation is the heaviest recurring family
    top = m["recurrence"]["classes"][0]
    assert top["class"] == "db-connection-pool @ api" and top["incidents"] >= 5
    # late Friday deploys, an expired certificate found by customers, a payment provider outage
    assert m["change_failure_rate"]["friday_after_16h"] >= 5
    titles = " ".join(a.data.incidents["title"])
    assert "TLS certificate expired" in titles and "Stripe" in titles
    assert m["customer_impact"]["customer_reported"] >= 5
    # postmortems late or missing, action items without owners
    assert m["postmortems"]["postmortem_rate"] < 0.6
    assert m["postmortems"]["within_48h_rate"] < 0.5
    assert m["postmortems"]["action_items_owned_rate"] < 0.6
    assert m["availability"]["months_below_sla"] >= 1


def test_sample_is_regenerated_identically(tmp_path):
    import subprocess
    import sys

    from .conftest import ROOT

    out = tmp_path / "regen"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_sample.py"), str(out)],
                   check=True, capture_output=True)
    for path in SAMPLE.rglob("*"):
        if path.is_file() and "reports" not in path.parts:
            rel = path.relative_to(SAMPLE)
            assert (out / rel).read_bytes() == path.read_bytes(), rel
