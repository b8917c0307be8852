"""A server-rendered SVG bar chart (no JavaScript): income and expenses per month."""

from __future__ import annotations

from dataclasses import dataclass

from wizard.books.ledger import MonthlyPnl

WIDTH, HEIGHT, PAD = 720, 240, 28


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


def pnl_chart(pnl: MonthlyPnl) -> BarChart | None:
    if not pnl.months:
        return None
    top = max([*pnl.income, *pnl.expenses, 1])
    slot = (WIDTH - 2 * PAD) / len(pnl.months)
    bar = slot * 0.38
    plot = HEIGHT - 2 * PAD
    bars, labels = [], []
    for i, month in enumerate(pnl.months):
        left = PAD + i * slot + slot * 0.12
        for offset, kind, value in ((0, "income", pnl.income[i]), (bar, "expenses", pnl.expenses[i])):
            height = max(value, 0) / top * plot
            bars.append(
                Bar(
                    round(left + offset, 1),
                    round(PAD + plot - height, 1),
                    round(bar, 1),
                    round(height, 1),
                    kind,
                    f"{month} {kind}: {value / 100:,.2f}",
                )
            )
        if i % 3 == 0:
            labels.append((round(left + bar, 1), month))
    return BarChart(WIDTH, HEIGHT, bars, labels, PAD + plot)
