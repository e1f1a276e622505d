"""Numbers, durations, percentages and dates written for a reader, in English or French."""

from __future__ import annotations

import datetime as dt
from typing import Any


def isna(value: Any) -> bool:
    """None, NaN or NaT: a value that is not there."""
    import pandas as pd

    return value is None or bool(pd.isna(value))


def fmt_number(value: Any, digits: int = 0, lang: str = "en") -> str:
    if value is None:
        return "n/a"
    text = f"{value:,.{digits}f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def fmt_pct(value: Any, digits: int = 0, lang: str = "en") -> str:
    if value is None:
        return "n/a"
    text = fmt_number(value * 100, digits, lang)
    return f"{text}\u202f%" if lang == "fr" else f"{text}%"


def fmt_minutes(value: Any, lang: str = "en") -> str:
    """A duration in minutes, read easily: 42 min, 3 h 06, 2 d 4 h."""
    if value is None:
        return "n/a"
    minutes = float(value)
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        h, m = divmod(round(minutes), 60)
        return f"{h} h {m:02d}"
    d, rest = divmod(round(minutes), 24 * 60)
    return f"{d} {'j' if lang == 'fr' else 'd'} {rest // 60} h"


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")


MONTHS_FR_SHORT = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
                   "nov.", "déc.")


def fmt_date(value: Any, lang: str = "en", short: bool = False) -> str:
    """13 November 2026, 13 novembre 2026; short (in tables): 13 Nov 2026, 13 nov. 2026."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if lang == "fr":
        return f"{value.day} {(MONTHS_FR_SHORT if short else MONTHS_FR)[value.month - 1]} {value.year}"
    return f"{value.day} {value.strftime('%b %Y' if short else '%B %Y')}"


def fmt_value(value: Any, unit: str, lang: str = "en") -> str:
    """A metric value in its unit (pct, pct1, pct2, minutes, count, number, times)."""
    if value is None:
        return "n/a"
    if unit == "pct":
        return fmt_pct(value, 0, lang)
    if unit == "pct1":
        return fmt_pct(value, 1, lang)
    if unit == "pct2":
        return fmt_pct(value, 2, lang)
    if unit == "minutes":
        return fmt_minutes(value, lang)
    if unit == "times":
        return f"{fmt_number(value, 1, lang)}\u00d7"
    if unit == "number":
        return fmt_number(value, 1, lang)
    return fmt_number(value, 0, lang)

