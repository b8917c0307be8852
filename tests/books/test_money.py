"""Money on the books pages (issue 16): every amount in every table is written by one rule, and every
page that shows money names the organisation's base currency."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.books.test_books import _login_member
from tests.books.test_fpa import FPA_SCOPES, _sync
from wizard.money import format_money, money_cell

BOOKS_PAGES = ("", "/accounts", "/profit-and-loss", "/reconciliation", "/by-tracking", "/budget", "/scheduled-revenue")
# Anything a reader would take for an amount: digits with two decimals, with any sign or brackets.
AMOUNT_LIKE = re.compile(r"^[-−(]?\s*[\d,]*\d\.\d\d\)?$")
# The one rule: thousands separators, two decimals, U+2212 for a negative.
RULE = re.compile(r"^−?\d{1,3}(,\d{3})*\.\d\d$")


class Cells(HTMLParser):
    """Table cells with their classes and text, and each table's column headers."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: dict | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"heads": [], "rows": []})
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self.tables and not self._in_head:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = {"tag": tag, "classes": (dict(attrs).get("class") or "").split(), "text": ""}

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            cell, self._cell = self._cell, None
            cell["text"] = " ".join(cell["text"].split())
            table = self.tables[-1]
            (table["heads"] if self._in_head else table["rows"][-1]).append(cell)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


@pytest.fixture
def books(app, sandbox, worker):
    return _sync(app, sandbox, 300, FPA_SCOPES + " accounting.journals.read")


def test_every_amount_on_every_books_page_follows_one_rule_with_the_base_currency(app, client, auth, books):
    _login_member(app, auth, books)
    amounts, negatives, pages_with_money = 0, 0, []
    for path in BOOKS_PAGES:
        html = client.get(f"/books/{books.connection_id}{path}").get_data(as_text=True)
        reader = Cells()
        reader.feed(html)
        page_amounts = 0
        for table in reader.tables:
            heads = table["heads"]
            for row in table["rows"]:
                for column, cell in enumerate(row):
                    if "money" not in cell["classes"] and not AMOUNT_LIKE.match(cell["text"]):
                        continue
                    where = f"{path or '/'} {heads[column]['text'] if column < len(heads) else '?'}: {cell}"
                    assert "money" in cell["classes"] and "num" in cell["classes"], where
                    if "empty" in cell["classes"]:
                        continue
                    assert RULE.match(cell["text"]), where
                    assert "(NZD)" in heads[column]["text"], where  # the column says the currency
                    assert ("negative" in cell["classes"]) == cell["text"].startswith("−"), where
                    page_amounts += 1
                    negatives += cell["text"].startswith("−")
        if page_amounts:
            pages_with_money.append(path)
            assert "Amounts in NZD, the organisation's base currency in Xero." in html, path
        amounts += page_amounts
    assert pages_with_money == ["/profit-and-loss", "/reconciliation", "/by-tracking", "/budget", "/scheduled-revenue"]
    assert amounts > 200 and negatives > 0, (amounts, negatives)


def test_chart_labels_use_the_same_minus_sign(app, client, auth, books):
    _login_member(app, auth, books)
    html = client.get(f"/books/{books.connection_id}/profit-and-loss").get_data(as_text=True)
    titles = re.findall(r"<title>\d{4}-\d\d [a-z ]+: ([^<]+)</title>", html)
    assert titles and all(RULE.match(t) for t in titles), titles[:5]
    assert not re.search(r">-\d", html)  # no hyphen-minus before a figure anywhere on the page


def test_the_money_rule():
    assert format_money(-123456789) == "−1,234,567.89"
    assert format_money(100000) == "1,000.00"
    assert format_money(-0.4) == "0.00"  # never "−0.00"
    assert format_money(5) == "0.05"
    assert money_cell(-5) == '<td class="num money negative">−0.05</td>'
    assert money_cell(None, "no data") == '<td class="num money empty">no data</td>'
    assert money_cell(0, strong=True) == '<td class="num money"><strong>0.00</strong></td>'
