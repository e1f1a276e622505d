"""Security and bad-input findings (issue 20): each test failed before its fix.

Bounded work on hostile input (title clustering, YAML, XLSX), neutralised formulas in every CSV
the product writes, text that looks empty kept as text, sessions, redirects, trusted hosts, logs,
downloads, backups, logos and the dependency floors that matter for security."""

from __future__ import annotations

import html
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from assess import enrich, store
from assess.engagement import EngagementError, load_engagement

from .webutil import Web, make_app, make_home

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


# --- YAML parsed within limits; a failed folder import leaves nothing ------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    make_home(tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture
def app(home):
    return make_app(home)


@pytest.fixture
def alice(app) -> Web:
    w = Web(app)
    assert w.login().status_code == 302
    return w


def _folders(app) -> set[str]:
    root = app.extensions["assess"].engagements
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def _zip(folder: Path) -> io.BytesIO:
    """The folder as a compressed zip (a padded YAML file stays a small upload)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, Path(folder.name) / p.relative_to(folder))
    buf.seek(0)
    return buf


def _import_refused(alice: Web, folder: Path, *expected: str) -> None:
    before = _folders(alice.app)
    r = alice.post("/engagements/import", {"archive": (_zip(folder), "engagement.zip")},
                   content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:500]
    page = html.unescape(alice.get("/engagements").data.decode())
    assert "Nothing was imported" in page
    for text in expected:
        assert text in page, text
    assert _folders(alice.app) == before  # no orphan folder on disk


BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
        'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n')


def test_an_alias_bomb_in_an_answers_file_is_refused(alice, sample_copy):
    path = sample_copy / "answers" / "self" / "engineer.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(BOMB + text.replace("answers:\n", "answers:\n  oncall.load: {value: *e}\n", 1),
                    encoding="utf-8")
    _import_refused(alice, sample_copy, "engineer.yaml: line 2", "aliases that expand")


def test_an_oversized_engagement_yaml_is_refused(alice, sample_copy):
    path = sample_copy / "engagement.yaml"
    path.write_text(path.read_text(encoding="utf-8") + ("# padding\n" * 300_000), encoding="utf-8")
    _import_refused(alice, sample_copy, "engagement.yaml", "at most 2 MB")
    with pytest.raises(EngagementError, match="at most 2 MB"):
        load_engagement(sample_copy)


@pytest.mark.parametrize("name", ["overrides.yaml", "postmortems.yaml", "answers/intake.yaml"])
def test_a_python_tag_in_any_yaml_is_refused_by_name(alice, sample_copy, name):
    path = sample_copy / name
    path.write_text(path.read_text(encoding="utf-8") + "\nx: !!python/object:os.system {}\n",
                    encoding="utf-8")
    _import_refused(alice, sample_copy, name, "python/object", "is not accepted")


def test_a_python_tag_in_a_folder_on_disk_is_a_clear_error(sample_copy):
    (sample_copy / "postmortems.yaml").write_text("postmortems: !!python/object:os.system {}\n")
    with pytest.raises(EngagementError, match=r"postmortems.yaml: line 1: the tag"):
        store.load(load_engagement(sample_copy))


def test_answer_values_are_validated_on_import(alice, sample_copy):
    path = sample_copy / "answers" / "intake.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("oncall.people_in_rotation: {value: 8,",
                                 "oncall.people_in_rotation: {value: [1, 2, {x: 3}],", 1),
                    encoding="utf-8")
    _import_refused(alice, sample_copy, "answers/intake.yaml: question 'oncall.people_in_rotation'")


def test_an_unreadable_answers_file_leaves_no_orphan_folder(alice, sample_copy):
    (sample_copy / "answers" / "self" / "founder.yaml").write_text("answers: 5\n")
    _import_refused(alice, sample_copy, "founder.yaml")
