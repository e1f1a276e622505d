"""Where the data folders are: beside the package in a checkout, inside it in an installed wheel."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """questionnaires/, report_templates/ or sample_engagement/ for this installation."""
    inside = PACKAGE / name  # the wheel maps the top-level folders into the package
    if inside.is_dir():
        return inside
    return PACKAGE.parent / name
