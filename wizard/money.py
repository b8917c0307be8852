"""Money for people: one rule for every amount we show (thousands separators, two decimals,
a true minus sign U+2212 for negatives, as typeset accounts do), used by templates and charts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup

MINUS = "\u2212"
CENT = Decimal("0.01")


def format_money(cents: int | float | Decimal) -> str:
    """Minor units (cents) as "1,234.56" or "−1,234.56"; never "-0.00"."""
    amount = (Decimal(str(cents)) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    text = f"{abs(amount):,.2f}"
    return f"{MINUS}{text}" if amount < 0 else text


def money_cell(cents: int | float | Decimal | None, empty: str = "—", strong: bool = False) -> Markup:
    """A right-aligned table cell holding one amount; the only way the books pages show money."""
    if cents is None:
        return Markup('<td class="num money empty">{}</td>').format(empty)
    text = format_money(cents)
    classes = "num money negative" if text.startswith(MINUS) else "num money"
    body = Markup("<strong>{}</strong>").format(text) if strong else text
    return Markup('<td class="{}">{}</td>').format(classes, body)
