"""Whole numbers typed into a query string (a page size, a page position).

``str.isdigit`` is true for "²" and for other scripts' digits, which ``int`` refuses or reads as
numbers nobody typed on purpose: a number here is ASCII digits only, within bounds, or nothing.
"""

from __future__ import annotations


def whole_number(text: str, lowest: int, highest: int) -> int | None:
    """The number ``text`` spells in ASCII digits when it lies in ``lowest..highest``; else None."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(highest)):
        return None
    number = int(text)
    return number if lowest <= number <= highest else None
