"""The result cache (assess/caches.py): `assess metrics` and `assess risks` answer an unchanged
engagement from it, without pandas, and never answer a changed one from it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assess import caches
from assess.cli import main

from .conftest import ROOT

COMMANDS = (["metrics", "--json"], ["risks", "--json"], ["risks"])


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(caches.CACHE_ENV, str(folder))
    return folder


def run(args: list[str], off: bool = False) -> str:
    env = {caches.CACHE_ENV: caches.CACHE_OFF} if off else {}
    result = CliRunner(env=env).invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def fresh(command: list[str], folder: Path) -> str:
    """The command's output computed from scratch (no cache at all)."""
    return run([command[0], str(folder), *command[1:]], off=True)


def test_a_second_run_answers_from_the_cache_without_pandas(sample_copy: Path, cache_dir: Path):
    code = ("import sys\nfrom assess.cli import main\n"
            "try:\n    main(args=sys.argv[1:])\nexcept SystemExit as exc:\n    code = exc.code\n"
            "print('pandas' in sys.modules, file=sys.stderr)\nsys.exit(code)\n")
    env = {**os.environ, caches.CACHE_ENV: str(cache_dir)}
    for command in COMMANDS:
        args = [command[0], str(sample_copy), *command[1:]]
        outs = [subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                               cwd=ROOT, env=env, timeout=300) for _ in range(2)]
        assert all(o.returncode == 0 for o in outs), outs[0].stderr[-2000:]
        assert outs[0].stderr.strip().endswith("True")  # the first run computed
        assert outs[1].stderr.strip().endswith("False"), command  # the second did not
        assert outs[0].stdout == outs[1].stdout
        assert outs[1].stdout == fresh(command, sample_copy)
    assert len(list((cache_dir / "results").glob("*.txt"))) == len(COMMANDS)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _edit_sla(folder: Path) -> None:  # same size, same second: only the content tells
    stat = (folder / "engagement.yaml").stat()
    text = (folder / "engagement.yaml").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.strip().startswith("target:"))
    digit = "8" if line.rstrip()[-1] != "8" else "7"
    _replace(folder / "engagement.yaml", line, line.rstrip()[:-1] + digit)
    os.utime(folder / "engagement.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _edit_answer(folder: Path) -> None:
    _replace(folder / "answers" / "intake.yaml", "roles.incident_commander: {value: never",
             "roles.incident_commander: {value: always")


def _remove_import(folder: Path) -> None:
    from assess import store
    from assess.engagement import load_engagement

    e = load_engagement(folder)
    entry = next(x for x in store.read_manifest(e) if x["kind"] == "incidents")
    store.remove_import(e, entry["file"])


@pytest.mark.parametrize("change", [_edit_sla, _edit_answer, _remove_import])
def test_a_changed_engagement_is_never_answered_from_the_cache(sample_copy: Path, cache_dir: Path,
                                                               change):
    before = {tuple(c): run([c[0], str(sample_copy), *c[1:]]) for c in COMMANDS}
    change(sample_copy)
    after = {tuple(c): run([c[0], str(sample_copy), *c[1:]]) for c in COMMANDS}
    for command in COMMANDS:
        assert after[tuple(command)] == fresh(command, sample_copy), (change.__name__, command)
    assert after != before, change.__name__  # each change moves at least one figure


def test_a_risk_edit_is_seen_at_once(sample_copy: Path, cache_dir: Path):
    run(["risks", str(sample_copy)])
    ranked = run(["risks", str(sample_copy), "--json"])
    risk = ranked.split('"top": [')[1].split('"')[1]
    edited = run(["risks", str(sample_copy), "--edit-risk", risk, "--finding", "Edited finding."])
    assert "Edited finding." in edited
    assert "Edited finding." in run(["risks", str(sample_copy)])


def test_the_key_reads_content_and_times(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("x: 1\n", encoding="utf-8")
    (tmp_path / "big.csv").write_text("id\n" + "1\n" * 100, encoding="utf-8")
    first = caches.tree_digest(tmp_path, content_bytes=50)
    stat = (tmp_path / "a.yaml").stat()
    (tmp_path / "a.yaml").write_text("x: 2\n", encoding="utf-8")  # same size, same time
    os.utime(tmp_path / "a.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = caches.tree_digest(tmp_path, content_bytes=50)
    assert second != first
    os.utime(tmp_path / "big.csv", ns=(1, 1))  # a large file: its time is its identity
    assert caches.tree_digest(tmp_path, content_bytes=50) != second
    (tmp_path / ".assess.lock").write_text("", encoding="utf-8")  # a lock is not an input
    assert caches.tree_digest(tmp_path, content_bytes=50) == caches.tree_digest(tmp_path, 50)


def test_no_cache_when_turned_off(sample_copy: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv(caches.CACHE_ENV, caches.CACHE_OFF)
    run(["metrics", str(sample_copy), "--json"])
    assert caches.cache_root() is None


def test_a_cache_folder_keeps_its_most_recently_used_files(tmp_path: Path):
    for i in range(5):
        (tmp_path / f"r{i}.txt").write_text("x" * 10, encoding="utf-8")
        os.utime(tmp_path / f"r{i}.txt", (1000 + i, 1000 + i))
    (tmp_path / "other.parquet").write_text("y", encoding="utf-8")
    caches.prune(tmp_path, "*.txt", keep_files=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.parquet", "r2.txt", "r3.txt",
                                                          "r4.txt"]
    caches.prune(tmp_path, "*.txt", keep_bytes=15)  # 10 bytes each: one is left
    assert sorted(p.name for p in tmp_path.glob("*.txt")) == ["r4.txt"]
