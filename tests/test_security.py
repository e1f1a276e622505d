"""Security and bad-input findings (issue 20): each test failed before its fix.

Bounded work on hostile input (title clustering, YAML, XLSX), neutralised formulas in every CSV
the product writes, text that looks empty kept as text, sessions, redirects, trusted hosts, logs,
downloads, backups, logos and the dependency floors that matter for security."""

from __future__ import annotations

import pandas as pd

from assess import enrich

# --- title clustering is bounded ----------------------------------------------------------------


def _incidents(titles: list[str]) -> pd.DataFrame:
    n = len(titles)
    return pd.DataFrame({"title": titles, "root_cause": [None] * n, "service": ["api"] * n})


def _count_compared(monkeypatch) -> dict:
    """Record what incident_classes hands the scorer; refuse texts longer than its bound."""
    from rapidfuzz import process

    seen = {"calls": 0, "choices": 0, "longest": 0}
    real = process.extractOne

    def counting(query, choices, **kw):
        longest = max([len(query), *map(len, choices)])
        seen["longest"] = max(seen["longest"], longest)
        if longest > enrich.TITLE_COMPARE_CHARS:
            raise AssertionError(f"a {longest}-character text was compared")
        seen["calls"] += 1
        seen["choices"] += len(choices)
        return real(query, choices, **kw)

    monkeypatch.setattr(process, "extractOne", counting)
    return seen


def test_title_clustering_compares_bounded_text(monkeypatch):
    """50 distinct 100 kB titles among 10,000 incidents took 135 s: each title is now compared
    on its first TITLE_COMPARE_CHARS normalised characters."""
    import random

    rnd = random.Random(7)
    words = ["disk", "queue", "latency", "payments", "login", "timeout", "cache", "replica"]
    long_titles = [" ".join(rnd.choice(words) for _ in range(15_000))[:100_000] for _ in range(50)]
    titles = [f"Checkout latency high on node {i % 7}" for i in range(9950)] + long_titles
    seen = _count_compared(monkeypatch)
    classes = enrich.incident_classes(_incidents(titles))
    assert seen["longest"] <= enrich.TITLE_COMPARE_CHARS
    # the short family is one class (numbers are noise), whatever the long ones do
    assert classes.iloc[:9950].nunique() == 1
    assert classes.notna().all()


def test_title_clustering_compares_with_a_bounded_number_of_clusters(monkeypatch):
    """Distinct unrelated titles are compared with at most TITLE_CLUSTERS_MAX clusters each, so
    the work grows linearly with their count; past the cap a title is a class of its own."""
    monkeypatch.setattr(enrich, "TITLE_CLUSTERS_MAX", 10)
    seen = _count_compared(monkeypatch)
    letters = "abcdefghijklmnopqrstuvwxyz"
    # 40 titles with nothing in common (distinct letter pairs), then a near-copy of the 35th
    titles = [" ".join(letters[i % 26] + letters[(i * 7 + 3) % 26] * 6 for _ in range(3))
              + f" {letters[i % 26] * 5}" for i in range(40)]
    titles = list(dict.fromkeys(titles))
    n = len(titles)
    classes = enrich.incident_classes(_incidents(titles + [titles[2] + " x"]))
    assert seen["choices"] <= (n + 1) * 10
    assert classes.nunique() == n  # the near-copy of an early title joined its class
    assert classes.iloc[-1] == classes.iloc[2]


def test_title_clustering_long_titles_equal_on_their_compared_part_are_one_class():
    head = "database primary failover stalled writes " * 6  # > 200 characters once normalised
    a, b = head + "in region one", head + "after the storage vendor patch went out"
    classes = enrich.incident_classes(_incidents([a, b, "login page blank"]))
    assert classes.iloc[0] == classes.iloc[1] != classes.iloc[2]
