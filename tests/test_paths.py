"""Shipped data found from a checkout and from an installed wheel (no module/folder name clash)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

from assess import paths

from .conftest import ROOT


@pytest.mark.parametrize("name", list(paths.SHIPPED))
def test_every_data_folder_is_found_in_the_checkout(name):
    assert paths.data_dir(name).is_dir()
    assert any(paths.data_dir(name).glob("*.yaml"))


def test_an_engagement_copy_of_a_catalog_wins(tmp_path):
    assert paths.catalog_file("remediations.yaml", tmp_path) == paths.data_dir("assess/data") / \
        "remediations.yaml"
    (tmp_path / "remediations.yaml").write_text("actions: []\n")
    assert paths.catalog_file("remediations.yaml", tmp_path) == tmp_path / "remediations.yaml"


def test_an_unknown_data_folder_is_refused():
    with pytest.raises(KeyError, match="not a shipped data folder"):
        paths.data_dir("secrets")


CHECK = textwrap.dedent("""\
    import importlib.resources, sys
    import assess, assess.questionnaires
    from assess import paths, plans, questionnaires, risks
    from assess.report import TEMPLATES
    here = sys.argv[1]
    assert assess.__file__.startswith(here), assess.__file__
    # the module is the module, and the data package is its own
    assert hasattr(assess.questionnaires, "load")
    data = importlib.resources.files("assess.data.questionnaires")
    assert "questions" in data.joinpath("intake.yaml").read_text(encoding="utf-8")
    for name in paths.SHIPPED:
        assert str(paths.data_dir(name)).startswith(here), (name, paths.data_dir(name))
    assert questionnaires.load("intake").questions
    catalog, library = plans.load_catalogs()
    assert catalog.risks and library.actions
    assert (TEMPLATES / "assessment.html").is_file()
    assert (paths.data_dir("sample_engagement") / "engagement.yaml").is_file()
    print("ok", len(catalog.risks), len(library.actions))
""")


@pytest.mark.slow
def test_shipped_yaml_is_found_in_an_installed_wheel(tmp_path):
    """Build the wheel, install it alone into a fresh venv (dependencies borrowed from ours)."""
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q",
                            "-w", str(wheels)], capture_output=True, text=True)
    if build.returncode != 0 and "Could not find a version" in build.stderr + build.stdout:
        pytest.skip("no package index to fetch the build backend from")
    assert build.returncode == 0, build.stderr
    wheel = next(wheels.glob("assess-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # the dependencies come from our environment; a plain path line processes none of its .pth
    # files, so the editable install of the checkout stays out
    (site / "zz_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                    str(wheel)], check=True, capture_output=True)
    script = tmp_path / "check.py"
    script.write_text(CHECK)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([python, str(script), str(site)], capture_output=True, text=True,
                         cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok ")
    # the whole demo from the installed wheel alone: import, analysis, charts, PDFs (caches in a
    # folder of this test's own, so nothing comes from an earlier run)
    demo = subprocess.run([python, "-m", "assess", "demo", "--out", str(tmp_path / "demo")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          env={**env, "ASSESS_CACHE_DIR": str(tmp_path / "cache")})
    assert demo.returncode == 0, demo.stderr[-3000:]
    pdfs = sorted(p.name for p in (tmp_path / "demo" / "reports").glob("*.pdf"))
    assert any("assessment" in p for p in pdfs) and any("due-diligence" in p for p in pdfs), pdfs
    assert not list(site.joinpath("assess").rglob("*.pdf"))  # nothing written into the install
    # the demo replays the engagement as it happened: the exports at their recorded dates, the
    # assessment with only those the consultant had by its date, the baseline frozen that day
    import json

    import yaml

    def imports(folder: Path) -> list[tuple[str, str]]:
        manifest = yaml.safe_load((folder / "imports.yaml").read_text(encoding="utf-8"))
        return [(Path(e["file"]).name, str(e["imported_at"])) for e in manifest["imports"]]

    work = tmp_path / "demo" / "engagement"
    assert imports(work) == imports(ROOT / "sample_engagement")
    report_date = str(yaml.safe_load((work / "engagement.yaml").read_text())["report_date"])
    frozen = json.loads((work / "baseline.json").read_text(encoding="utf-8"))["frozen_at"]
    assert frozen.startswith(report_date)
    later = [name for name, when in imports(work) if when[:10] > report_date]
    text = subprocess.run(["pdftotext", str(next((tmp_path / "demo" / "reports").glob(
        "*assessment*.pdf"))), "-"], capture_output=True, text=True, check=True).stdout
    assert later and not any(name in text for name in later)
    assert all(name in text for name, when in imports(work) if when[:10] <= report_date)
