"""A server-rendered SVG bar chart (no JavaScript): income and expenses per month, net profit as a line.

The value axis starts at zero or at the lowest net loss, so a loss month sits below the baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from wizard.books.ledger import MonthlyPnl
from wizard.money import MINUS, format_money

WIDTH, HEIGHT, PAD, AXIS = 720, 260, 24, 64  # AXIS: room left of the plot for the value labels


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "income" | "expenses"
    title: str


@dataclass
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, str]]  # (x, text) under every third month
    baseline: float
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, amount) on the value axis
    net: list[tuple[float, float, str]] = field(default_factory=list)  # (x, y, title) net profit per month
    left: float = AXIS


def _nice_step(span: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about four gridlines."""
    raw, power = span / 4, 1.0
    while power * 10 <= raw:
        power *= 10
    return next(power * m for m in (1, 2, 5, 10) if power * m >= raw)


def _amount(cents: float) -> str:
    value = abs(cents) / 100
    if value >= 1000:
        text = f"{value / 1000:,.0f}k" if value >= 10000 else f"{value / 1000:,.1f}k"
    else:
        text = f"{value:,.0f}"
    # The same minus sign as the tables (wizard/money.py).
    return f"{MINUS}{text}" if cents < 0 and text.strip("0.k") else text


def pnl_chart(pnl: MonthlyPnl) -> BarChart | None:
    if not pnl.months:
        return None
    low, high = min([*pnl.net, 0]), max([*pnl.income, *pnl.expenses, *pnl.net, 1])
    step = _nice_step(high - low)
    top, bottom = step * math.ceil(high / step), step * math.floor(low / step)
    plot = HEIGHT - 2 * PAD

    def y_of(value: float) -> float:
        return round(PAD + (top - value) / (top - bottom) * plot, 1)

    zero = y_of(0)
    slot = (WIDTH - AXIS - PAD) / len(pnl.months)
    bar = slot * 0.38
    bars, labels, net = [], [], []
    for i, month in enumerate(pnl.months):
        left = AXIS + i * slot + slot * 0.12
        for offset, kind, value in ((0, "income", pnl.income[i]), (bar, "expenses", pnl.expenses[i])):
            y = y_of(max(value, 0))
            bars.append(
                Bar(
                    round(left + offset, 1),
                    y,
                    round(bar, 1),
                    round(zero - y, 1),
                    kind,
                    f"{month} {kind}: {format_money(value)}",
                )
            )
        net.append((round(left + bar, 1), y_of(pnl.net[i]), f"{month} net profit: {format_money(pnl.net[i])}"))
        if i % 3 == 0:
            labels.append((round(left + bar, 1), month))
    ticks: list[tuple[float, str]] = []
    tick: float = bottom
    while tick <= top:
        ticks.append((y_of(tick), _amount(tick)))
        tick += step
    return BarChart(WIDTH, HEIGHT, bars, labels, zero, ticks, net)
