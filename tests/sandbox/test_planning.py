"""The books planners use: tracking on lines and journals, budgets, repeating invoices, quotes and
purchase orders, and reports that stay computed from the same data."""

from __future__ import annotations

import calendar
from datetime import date

import pytest

from .conftest import ADVISER, KOWHAI
from .test_conformance import ALL_READ_SCOPES

PL_TYPES = {"REVENUE", "DIRECTCOSTS", "EXPENSE"}


@pytest.fixture
def api(xero):
    token = xero.connect(ADVISER, [KOWHAI], scope=ALL_READ_SCOPES)["access_token"]
    tenant = xero.tenant(KOWHAI)

    def get(path, **params):
        xero.state.advance(1.1)  # frozen clock: stay under 60 calls a minute
        return xero.api(path, token, tenant, **params)

    get.tenant, get.xero = tenant, xero
    return get


def ms_day(text: str) -> date:
    return date.fromtimestamp(int(text[6:].split("+")[0]) // 1000)


def all_journals(api) -> list[dict]:
    out, offset = [], 0
    while batch := api("Journals", offset=offset).get_json()["Journals"]:
        out.extend(batch)
        offset = batch[-1]["JournalNumber"]
    return out


def net_profit(report: dict) -> float:
    rows = [r for s in report["Reports"][0]["Rows"] for r in s.get("Rows", [])]
    return float(next(r for r in rows if r["Cells"][0]["Value"] == "Net Profit")["Cells"][1]["Value"])


@pytest.mark.parametrize("size", [200, 3000])
def test_profit_and_loss_by_tracking_option_equals_the_tagged_journal_lines(api, size):
    api.xero.state.resize_org(api.tenant, size)
    types = {a["AccountID"]: a["Type"] for a in api("Accounts").get_json()["Accounts"]}
    journals = all_journals(api)
    today = api.xero.state.clock.now().date()
    start, end = date(today.year - 1, today.month, 1), today
    categories = api("TrackingCategories").get_json()["TrackingCategories"]
    checked = 0
    for category in categories:
        for option in category["Options"]:
            tagged = sum(
                -line["NetAmount"]
                for j in journals
                if start <= ms_day(j["JournalDate"]) <= end
                for line in j["JournalLines"]
                if types[line["AccountID"]] in PL_TYPES
                and any(t["TrackingOptionID"] == option["TrackingOptionID"] for t in line["TrackingCategories"])
            )
            report = api(
                "Reports/ProfitAndLoss",
                fromDate=start.isoformat(),
                toDate=end.isoformat(),
                trackingCategoryID=category["TrackingCategoryID"],
                trackingOptionID=option["TrackingOptionID"],
            ).get_json()
            assert report["Reports"][0]["ReportTitles"][-1] == f"{category['Name']}: {option['Name']}"
            assert net_profit(report) == pytest.approx(tagged, abs=0.005), option["Name"]
            checked += tagged != 0
    assert checked >= 6  # Region and Department options both carry amounts


def _month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def _net_row(report: dict) -> list[float]:
    rows = [r for s in report["Reports"][0]["Rows"] for r in s.get("Rows", [])]
    return [float(c["Value"]) for c in next(r for r in rows if r["Cells"][0]["Value"] == "Net Profit")["Cells"][1:]]


def test_profit_and_loss_with_two_tracking_categories_equals_the_lines_tagged_with_both(api):
    """trackingCategoryID + trackingOptionID with trackingCategoryID2 + trackingOptionID2: the
    lines carrying both options; with an option left out, a column per combination of options."""
    api.xero.state.resize_org(api.tenant, 600)
    types = {a["AccountID"]: a["Type"] for a in api("Accounts").get_json()["Accounts"]}
    journals = all_journals(api)
    today = api.xero.state.clock.now().date()
    start, end = date(today.year - 1, today.month, 1), today
    region, department = api("TrackingCategories", includeArchived="true").get_json()["TrackingCategories"]
    assert (region["Name"], department["Name"]) == ("Region", "Department")
    span = {"fromDate": start.isoformat(), "toDate": end.isoformat()}

    def tagged(*option_ids: str) -> float:
        return sum(
            -line["NetAmount"]
            for j in journals
            if start <= ms_day(j["JournalDate"]) <= end
            for line in j["JournalLines"]
            if types[line["AccountID"]] in PL_TYPES
            and set(option_ids) <= {t["TrackingOptionID"] for t in line["TrackingCategories"]}
        )

    both = {}
    for first in region["Options"]:
        for second in department["Options"]:
            report = api(
                "Reports/ProfitAndLoss",
                trackingCategoryID=region["TrackingCategoryID"],
                trackingOptionID=first["TrackingOptionID"],
                trackingCategoryID2=department["TrackingCategoryID"],
                trackingOptionID2=second["TrackingOptionID"],
                **span,
            ).get_json()
            titles = report["Reports"][0]["ReportTitles"]
            assert titles[-1] == f"Region: {first['Name']}, Department: {second['Name']}"
            both[first["Name"], second["Name"]] = net_profit(report)
            assert net_profit(report) == pytest.approx(tagged(first["TrackingOptionID"], second["TrackingOptionID"]))
    assert sum(1 for v in both.values() if v) >= 6
    # both categories' columns: one per combination, then Unassigned and Total (the whole P&L)
    crossed = api(
        "Reports/ProfitAndLoss",
        trackingCategoryID=region["TrackingCategoryID"],
        trackingCategoryID2=department["TrackingCategoryID"],
        **span,
    ).get_json()
    header = [c["Value"] for c in crossed["Reports"][0]["Rows"][0]["Cells"][1:]]
    pairs = [(r["Name"], d["Name"]) for r in region["Options"] for d in department["Options"]]
    assert header == [f"{r}, {d}" for r, d in pairs] + ["Unassigned", "Total"]
    values = _net_row(crossed)
    assert values[: len(pairs)] == pytest.approx([both[p] for p in pairs])
    assert values[-1] == pytest.approx(net_profit(api("Reports/ProfitAndLoss", **span).get_json()))
    assert sum(values[:-1]) == pytest.approx(values[-1])
    # one option fixed in the first category: a column per option of the second
    north = region["Options"][0]
    fixed = api(
        "Reports/ProfitAndLoss",
        trackingOptionID=north["TrackingOptionID"],
        trackingCategoryID2=department["TrackingCategoryID"],
        **span,
    ).get_json()
    values = _net_row(fixed)
    assert values[:-2] == pytest.approx([both[north["Name"], d["Name"]] for d in department["Options"]])
    assert values[-1] == pytest.approx(tagged(north["TrackingOptionID"]))
    # monthly columns work with both options fixed; a category named twice is refused
    monthly = api(
        "Reports/ProfitAndLoss",
        trackingOptionID=north["TrackingOptionID"],
        trackingOptionID2=department["Options"][0]["TrackingOptionID"],
        fromDate=end.replace(day=1).isoformat(),
        toDate=end.isoformat(),
        periods=11,
        timeframe="MONTH",
    ).get_json()
    index = end.year * 12 + end.month - 1 - 11
    year_to_month = api(
        "Reports/ProfitAndLoss",
        trackingOptionID=north["TrackingOptionID"],
        trackingOptionID2=department["Options"][0]["TrackingOptionID"],
        fromDate=date(index // 12, index % 12 + 1, 1).isoformat(),
        toDate=_month_end(end).isoformat(),
    ).get_json()
    assert len(_net_row(monthly)) == 12 and sum(_net_row(monthly)) == pytest.approx(net_profit(year_to_month))
    twice = api(
        "Reports/ProfitAndLoss",
        trackingCategoryID=region["TrackingCategoryID"],
        trackingCategoryID2=region["TrackingCategoryID"],
    )
    assert twice.status_code == 400 and "different tracking category" in twice.get_data(as_text=True)


def test_tracking_on_invoice_and_manual_journal_lines_is_carried_into_journals(api):
    books = api.xero.state.books(api.tenant)
    invoice = next(d for d in books.invoices if d.status == "AUTHORISED" and len(d.lines) > 1)
    lines = api(f"Invoices/{books.record_id('invoices', invoice.idx)}").get_json()["Invoices"][0]["LineItems"]
    journal = next(j for j in all_journals(api) if j["SourceID"] == books.record_id("invoices", invoice.idx))
    for line, posted in zip(lines, journal["JournalLines"], strict=False):
        assert [t["Option"] for t in line["Tracking"]] == [t["Option"] for t in posted["TrackingCategories"]]
    manual = api("ManualJournals").get_json()["ManualJournals"]
    assert any(line["Tracking"] for m in manual for line in m["JournalLines"])
    assert {t["Name"] for m in manual for line in m["JournalLines"] for t in line["Tracking"]} == {
        "Region",
        "Department",
    }


def test_budget_summary_equals_the_overall_budget_lines(api):
    budget = api("Budgets").get_json()["Budgets"][0]
    assert budget["Type"] == "OVERALL" and budget["BudgetLines"]
    first = budget["BudgetLines"][0]["BudgetBalances"][0]["Period"]
    report = api("Reports/BudgetSummary", date=f"{first}-01", periods=12, timeframe=1).get_json()["Reports"][0]
    header = [c["Value"] for c in report["Rows"][0]["Cells"]]
    months = [date(int(first[:4]), int(first[5:]), 1)]
    while len(months) < 12:
        last = months[-1]
        months.append(date(last.year + last.month // 12, last.month % 12 + 1, 1))
    assert header == ["Account"] + [m.strftime("%b-%y") for m in months]
    by_account = {
        row["Cells"][0]["Attributes"][0]["Value"]: [float(c["Value"]) for c in row["Cells"][1:]]
        for section in report["Rows"][1:]
        for row in section.get("Rows", [])
        if row["RowType"] == "Row" and row["Cells"][0].get("Attributes")
    }
    for line in budget["BudgetLines"]:
        amounts = {b["Period"]: b["Amount"] for b in line["BudgetBalances"]}
        expected = [amounts.get(m.strftime("%Y-%m"), 0.0) for m in months]
        assert by_account[line["AccountID"]] == pytest.approx(expected), line["AccountCode"]
    assert len(by_account) == len(budget["BudgetLines"])


def test_budgets_per_tracking_option_and_by_date_range(api):
    budgets = api("Budgets").get_json()["Budgets"]
    tracking = [b for b in budgets if b["Type"] == "TRACKING"]
    assert [b["Tracking"][0]["Option"] for b in tracking] == ["Retail", "Wholesale", "Online"]
    one = api(f"Budgets/{tracking[0]['BudgetID']}", DateFrom="2026-04-01", DateTo="2026-06-30").get_json()
    periods = {b["Period"] for line in one["Budgets"][0]["BudgetLines"] for b in line["BudgetBalances"]}
    assert periods == {"2026-04", "2026-05", "2026-06"}
    assert api("Budgets", DateFrom="soon").status_code == 400


def test_budgets_need_the_budgets_scope(xero):
    token = xero.connect(ADVISER, [KOWHAI])["access_token"]
    response = xero.api("Budgets", token, xero.tenant(KOWHAI))
    assert response.status_code == 401 and "insufficient_scope" in response.headers["WWW-Authenticate"]


def test_repeating_invoices_generate_their_invoices_on_schedule(api):
    templates = api("RepeatingInvoices").get_json()["RepeatingInvoices"]
    invoices = api("Invoices", page=1, pageSize=1000).get_json()["Invoices"]
    today = api.xero.state.clock.now().date()
    assert templates
    for template in templates:
        schedule = template["Schedule"]
        made = [i for i in invoices if i.get("RepeatingInvoiceID") == template["RepeatingInvoiceID"]]
        start = ms_day(schedule["StartDate"])
        expected, k = [], 0
        while True:
            index = start.year * 12 + start.month - 1 + k * schedule["Period"]
            day = date(index // 12, index % 12 + 1, min(start.day, 28) if start.day > 28 else start.day)
            if day > today or ("EndDate" in schedule and day > ms_day(schedule["EndDate"])):
                break
            expected.append(day)
            k += 1
        if start.day <= 28:
            assert [ms_day(i["Date"]) for i in made] == expected
        assert len(made) == len(expected) and made
        assert {i["Contact"]["ContactID"] for i in made} == {template["Contact"]["ContactID"]}
        assert {i["Total"] for i in made} == {template["Total"]}
        if "NextScheduledDate" in schedule:
            assert ms_day(schedule["NextScheduledDate"]) > today


@pytest.mark.parametrize("size", [200, 3000])
def test_invoiced_quotes_and_billed_purchase_orders_are_linked_to_their_invoices_by_reference(api, size):
    """Each INVOICED quote (BILLED purchase order) has exactly one invoice (bill) whose Reference is
    its number, with the same contact, lines and totals, dated after it; an open one has none."""
    api.xero.state.resize_org(api.tenant, size)
    invoices = _all(api, "Invoices")
    fields = ("Description", "Quantity", "UnitAmount", "AccountCode", "LineAmount", "TaxAmount")
    for key, number_field, done, kind in (
        ("Quotes", "QuoteNumber", "INVOICED", "ACCREC"),
        ("PurchaseOrders", "PurchaseOrderNumber", "BILLED", "ACCPAY"),
    ):
        offers = _all(api, key)
        finished = [o for o in offers if o["Status"] == done]
        assert len(finished) >= size // 60 and len(finished) < len(offers)
        numbers = {o[number_field] for o in offers}
        assert len(numbers) == len(offers) and all(o["Reference"] == o[number_field] for o in offers)
        prefix = next(iter(numbers))[:3]
        linked = [i for i in invoices if i["Reference"].startswith(prefix)]
        assert {i["Type"] for i in linked} == {kind} and len(linked) == len(finished)
        for offer in offers:
            match = [i for i in linked if i["Reference"] == offer[number_field]]
            if offer["Status"] != done:
                assert match == [], offer[number_field]
                continue
            assert len(match) == 1, offer[number_field]
            invoice = match[0]
            assert invoice["Contact"]["ContactID"] == offer["Contact"]["ContactID"]
            assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (
                offer["SubTotal"],
                offer["TotalTax"],
                offer["Total"],
            )
            assert [[line.get(f) for f in fields] for line in invoice["LineItems"]] == [
                [line.get(f) for f in fields] for line in offer["LineItems"]
            ]
            assert ms_day(invoice["Date"]) > ms_day(offer["Date"])


def test_purchase_orders_by_number_and_quotes_by_status(api):
    number = api("PurchaseOrders").get_json()["PurchaseOrders"][1]["PurchaseOrderNumber"]
    assert api(f"PurchaseOrders/{number}").get_json()["PurchaseOrders"][0]["PurchaseOrderNumber"] == number
    drafts = api("Quotes", Status="DRAFT").get_json()["Quotes"]
    assert drafts and {q["Status"] for q in drafts} == {"DRAFT"}


def test_journals_by_number_and_id_and_payments_only(api):
    by_number = api("Journals/7").get_json()["Journals"][0]
    assert by_number["JournalNumber"] == 7
    assert api(f"Journals/{by_number['JournalID']}").get_json()["Journals"][0]["JournalNumber"] == 7
    assert api("Journals/999999").status_code == 404
    cash = api("Journals", paymentsOnly="true").get_json()["Journals"]
    assert cash and {j["SourceType"] for j in cash} <= {
        "ACCRECPAYMENT",
        "ACCPAYPAYMENT",
        "CASHREC",
        "CASHPAID",
        "TRANSFER",
        "AROVERPAYMENT",
        "APOVERPAYMENT",
        "ARPREPAYMENT",
        "APPREPAYMENT",
        "MANJOURNAL",
    }


def test_cash_basis_journals_recognise_paid_invoices_through_their_payments(api):
    """paymentsOnly=true rebuilds the journals on a cash basis: invoices post nothing, each payment
    posts its share of the invoice's lines (with their tracking) against the bank, every journal
    balances, and a paid invoice's payments add up to what the invoice posts on accruals."""
    from collections import Counter

    api.xero.state.resize_org(api.tenant, 400)
    accounts = {a["AccountID"]: a for a in api("Accounts").get_json()["Accounts"]}
    control = {i for i, a in accounts.items() if a.get("SystemAccount") in ("DEBTORS", "CREDITORS")}
    banks = {i for i, a in accounts.items() if a["Type"] == "BANK"}
    assert len(control) == 2 and banks
    cash, offset = [], 0
    while batch := api("Journals", offset=offset, paymentsOnly="true").get_json()["Journals"]:
        cash.extend(batch)
        offset = batch[-1]["JournalNumber"]
    accrual = all_journals(api)
    assert {j["SourceType"] for j in cash} >= {"ACCRECPAYMENT", "ACCPAYPAYMENT", "MANJOURNAL", "CASHREC"}
    assert not {j["SourceType"] for j in cash} & {"ACCREC", "ACCPAY", "ACCRECCREDIT", "ACCPAYCREDIT"}
    for j in cash:
        assert sum(line["NetAmount"] for line in j["JournalLines"]) == pytest.approx(0, abs=0.001), j["JournalNumber"]
        if j["SourceType"] in ("ACCRECPAYMENT", "ACCPAYPAYMENT"):  # (an overpayment is held on AR/AP)
            assert not any(line["AccountID"] in control for line in j["JournalLines"]), j["JournalNumber"]
    payments = {p["PaymentID"]: p["Invoice"]["InvoiceID"] for p in _all(api, "Payments")}
    by_invoice: dict[str, Counter] = {}
    for j in cash:
        if j["SourceType"] in ("ACCRECPAYMENT", "ACCPAYPAYMENT"):
            share = by_invoice.setdefault(payments[j["SourceID"]], Counter())
            for line in j["JournalLines"]:
                if line["AccountID"] not in banks:
                    share[line["AccountID"]] += line["NetAmount"]
    invoices = {i["InvoiceID"]: i for i in _all(api, "Invoices")}
    paid = [i for i in by_invoice if invoices[i]["Status"] == "PAID"]
    assert len(paid) >= 20
    for invoice_id in paid:
        posted = Counter()
        for j in accrual:
            if j["SourceID"] == invoice_id:
                for line in j["JournalLines"]:
                    if line["AccountID"] not in control:
                        posted[line["AccountID"]] += line["NetAmount"]
        assert set(by_invoice[invoice_id]) == {a for a, v in posted.items() if abs(v) > 0.001} | set(
            by_invoice[invoice_id]
        )
        for account, amount in posted.items():
            assert by_invoice[invoice_id][account] == pytest.approx(amount, abs=0.02), (invoice_id, account)
    tagged = [
        line
        for j in cash
        if j["SourceType"] == "ACCRECPAYMENT"
        for line in j["JournalLines"]
        if line["TrackingCategories"]
    ]
    assert tagged and all(accounts[line["AccountID"]]["Type"] != "BANK" for line in tagged)


def _all(api, resource: str) -> list[dict]:
    out, page = [], 1
    while batch := api(resource, page=page, pageSize=1000).get_json()[resource]:
        out.extend(batch)
        page += 1
    return out


def test_history_attachments_and_unknown_records(api):
    books = api.xero.state.books(api.tenant)
    voided = next(d for d in books.invoices if d.status == "VOIDED")
    history = api(f"Invoices/{books.record_id('invoices', voided.idx)}/History").get_json()["HistoryRecords"]
    assert [h["Changes"] for h in history] == ["Created", "Voided"]
    assert api(f"Invoices/{books.record_id('invoices', 0)}/Attachments").get_json()["Attachments"] == []
    assert api("Invoices/00000000-0000-0000-0000-000000000000/History").status_code == 404
    assert api("Quotes/00000000-0000-0000-0000-000000000000").status_code == 404


def test_aged_receivables_by_contact_totals_what_the_contact_owes(api):
    books = api.xero.state.books(api.tenant)
    contact = next(d.contact for d in books.invoices if d.type == "ACCREC" and d.status == "AUTHORISED")
    contact_id = books.record_id("contacts", contact)
    owed = sum(
        i["AmountDue"]
        for i in api("Invoices", page=1, pageSize=1000, ContactIDs=contact_id).get_json()["Invoices"]
        if i["Type"] == "ACCREC" and i["Status"] in ("AUTHORISED", "PAID")
    )
    report = api("Reports/AgedReceivablesByContact", contactId=contact_id).get_json()["Reports"][0]
    total = report["Rows"][1]["Rows"][-1]["Cells"][-1]["Value"]
    assert float(total) == pytest.approx(owed) and owed > 0
    assert api("Reports/AgedReceivablesByContact").status_code == 400


def test_where_and_order_on_the_new_collections(api):
    groups = api("ContactGroups", where='Name.StartsWith("Key")').get_json()["ContactGroups"]
    assert [g["Name"] for g in groups] == ["Key customers"]
    one = api(f"ContactGroups/{groups[0]['ContactGroupID']}").get_json()["ContactGroups"][0]
    assert one["Contacts"]
    templates = api("RepeatingInvoices", order="Total DESC").get_json()["RepeatingInvoices"]
    assert [t["Total"] for t in templates] == sorted((t["Total"] for t in templates), reverse=True)
    assert api("RepeatingInvoices", where="Colour==1").get_json()["Type"] == "QueryParseException"


def test_profit_and_loss_by_category_has_a_column_per_option_that_matches_the_option_report(api):
    category = api("TrackingCategories").get_json()["TrackingCategories"][1]
    span = {"fromDate": "2025-06-01", "toDate": "2026-05-31"}
    report = api("Reports/ProfitAndLoss", trackingCategoryID=category["TrackingCategoryID"], **span).get_json()
    rows = report["Reports"][0]["Rows"]
    header = [c["Value"] for c in rows[0]["Cells"][1:]]
    assert header == [o["Name"] for o in category["Options"]] + ["Unassigned", "Total"]
    net = next(r for s in rows for r in s.get("Rows", []) if r["Cells"][0]["Value"] == "Net Profit")
    values = [float(c["Value"]) for c in net["Cells"][1:]]
    assert sum(values[:-1]) == pytest.approx(values[-1])
    whole = api("Reports/ProfitAndLoss", **span).get_json()
    assert values[-1] == pytest.approx(net_profit(whole))
    for option, value in zip(category["Options"], values, strict=False):
        one = api(
            "Reports/ProfitAndLoss",
            trackingCategoryID=category["TrackingCategoryID"],
            trackingOptionID=option["TrackingOptionID"],
            **span,
        ).get_json()
        assert net_profit(one) == pytest.approx(value), option["Name"]
    refused = api("Reports/ProfitAndLoss", trackingCategoryID=category["TrackingCategoryID"], periods=2)
    assert refused.status_code == 400
