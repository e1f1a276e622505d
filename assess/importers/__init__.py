"""Readers for every export format, registered in one place and chosen by content sniffing."""

from __future__ import annotations

from pathlib import Path

from .base import ImportError_, Problem, ReadContext, Reader, ReadResult, head_text
from .deploys import DeployCsv
from .jira import JiraCsv
from .pagerduty import PagerDutyCsv

READERS: dict[str, Reader] = {r.name: r for r in (PagerDutyCsv(), JiraCsv(), DeployCsv())}

__all__ = ["READERS", "ImportError_", "Problem", "ReadContext", "ReadResult", "choose", "detect",
           "read"]


def detect(path: Path) -> Reader:
    """The reader whose format the file's content matches; a clear error when none does."""
    head = head_text(path)
    if not head.strip():
        raise ImportError_(f"{path.name}: not a text export (empty or binary content)")
    matches = [r for r in READERS.values() if r.detect(head, path)]
    if not matches:
        raise ImportError_(
            f"{path.name}: format not recognised; name it with --format "
            f"(one of: {', '.join(READERS)})"
        )
    return matches[0]


def choose(path: Path, fmt: str | None = None) -> Reader:
    """The named reader, or the one the file's content matches."""
    if fmt is None:
        return detect(path)
    if fmt not in READERS:
        raise ImportError_(f"unknown format '{fmt}'; known formats: {', '.join(READERS)}")
    return READERS[fmt]


def read(path: Path, ctx: ReadContext, fmt: str | None = None) -> ReadResult:
    """Read one export with the named reader, or the detected one."""
    return choose(path, fmt).read(path, ctx)
