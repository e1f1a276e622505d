"""Shared fixtures: a small engagement folder, the sample engagement, the shared real data."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_engagement"
REALDATA = ROOT.parent / "shared" / "realdata"

MINIMAL = textwrap.dedent("""\
    client: {name: Acme}
    consultant: {name: Ana Silva}
    window: {end: 2026-03-31, days: 90}
    timezone: Europe/Paris
    sla: {target: 99.9}
""")


def write_engagement(root: Path, text: str = MINIMAL) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "engagement.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def engagement_dir(tmp_path: Path) -> Path:
    return write_engagement(tmp_path / "acme")


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of the sample engagement, safe to modify."""
    dest = tmp_path / "sample"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("reports"))
    return dest


def realdata(name: str) -> Path:
    path = REALDATA / name
    if not path.is_file():
        pytest.skip(f"shared real data not available here ({path} is absent: ../shared is not "
                    "checked out beside the project)")
    return path


# --- the web app: a home with a migrated database and one consultant ------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    from .webutil import make_home

    make_home(tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture
def app(home):
    from .webutil import make_app

    return make_app(home)


@pytest.fixture
def alice(app):
    """The first consultant, signed in."""
    from .webutil import Web

    w = Web(app)
    assert w.login().status_code == 302
    return w


@pytest.fixture(autouse=True, scope="session")
def private_cache_folder(tmp_path_factory):
    """The suite's caches (tables, charts, results) in a folder of its own, never the user's;
    a test or module that needs its own sets ASSESS_CACHE_DIR again."""
    import os

    from assess.caches import CACHE_ENV

    old = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("assess-cache"))
    yield
    if old is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = old
