"""The engagement folder shared by several processes (web workers, the CLI): no write is lost."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import shutil
from pathlib import Path

import yaml

from assess import plans, store
from assess.engagement import load_engagement
from assess.files import atomic_write

from .conftest import SAMPLE

ROLES = ("founder", "cto", "eng-lead", "platform", "support-lead", "product")


def _set_owner(root: str, role: str) -> None:
    catalog, library = plans.load_catalogs(Path(root))
    plans.edit_overrides(Path(root), catalog, library, owner=(role, f"Person {role}"))


def _import(root: str, path: str) -> None:
    store.import_file(load_engagement(root), Path(path))


def test_concurrent_writers_of_one_file_never_fail(tmp_path):
    target = tmp_path / "f.yaml"
    texts = [f"writer: {i}\n" * 200 for i in range(16)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda t: atomic_write(target, t), texts))
    assert target.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]  # no temporary file left behind


def test_overrides_edited_by_several_processes_keep_every_decision(sample_copy):
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(len(ROLES), mp_context=ctx) as pool:
        list(pool.map(_set_owner, [str(sample_copy)] * len(ROLES), ROLES))
    owners = yaml.safe_load((sample_copy / "overrides.yaml").read_text())["owners"]
    assert all(owners[r] == f"Person {r}" for r in ROLES)


def test_two_imports_at_once_are_both_recorded(tmp_path, engagement_dir):
    files = []
    for name in ("pagerduty_incidents_2026-08-03_2026-10-31.csv", "jira_INC_incidents_export.csv"):
        files.append(shutil.copy(SAMPLE / "incidents" / name, tmp_path / name))
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        list(pool.map(_import, [str(engagement_dir)] * 2, map(str, files)))
    entries = store.read_manifest(load_engagement(engagement_dir))
    assert sorted(Path(e["file"]).name for e in entries) == sorted(Path(f).name for f in files)
