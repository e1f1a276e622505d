"""Where the shipped data is: beside the package in a checkout, inside it in an installed wheel.

The wheel carries every data folder under `assess/data/` (pyproject.toml's package-dir), never
beside a module of the same name: `assess/questionnaires.py` and a data package
`assess.questionnaires` would shadow each other, and `importlib.resources` would find the module.
Every lookup goes through `importlib.resources.files("assess")`, so it works the same from a
checkout, an editable install and a wheel.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

# a folder of the checkout -> where the wheel puts it inside the package
SHIPPED = {
    "assess/data": ("data",),
    "questionnaires": ("data", "questionnaires"),
    "report_templates": ("data", "report_templates"),
    "sample_engagement": ("data", "sample_engagement"),
}
PACKAGE = Path(str(importlib.resources.files("assess")))


def data_dir(name: str) -> Path:
    """assess/data, questionnaires/, report_templates/ or sample_engagement/ for this installation."""
    if name not in SHIPPED:
        raise KeyError(f"{name!r} is not a shipped data folder (expected one of {', '.join(SHIPPED)})")
    inside = importlib.resources.files("assess").joinpath(*SHIPPED[name])
    if inside.is_dir():  # an installed wheel (and assess/data in a checkout)
        return Path(str(inside))
    return PACKAGE.parent / name  # a checkout: the folders a consultant edits sit at the top


def catalog_file(name: str, root: Path | None = None) -> Path:
    """A YAML catalog (risks.yaml, remediations.yaml, ...): the engagement's own copy when it has
    one, else the shipped file. The one place a catalog is looked up."""
    if root is not None and (Path(root) / name).is_file():
        return Path(root) / name
    return data_dir("assess/data") / name
