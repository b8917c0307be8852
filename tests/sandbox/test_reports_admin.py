"""Reports agree with the synced transactions; admin HTTP and CLI; deterministic data."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from xero_sandbox.data import generate, make_profile, sandbox_uuid
from xero_sandbox.reports import RETAINED
from xero_sandbox.shapes import CHART

from .conftest import ADVISER, KOWHAI

PL_TYPES = {"REVENUE", "SALES", "OTHERINCOME", "DIRECTCOSTS", "EXPENSE", "OVERHEADS", "DEPRECIATN"}


def ms_to_date(text: str) -> date:
    return date.fromordinal(date(1970, 1, 1).toordinal() + int(text[6:-7]) // 86_400_000)


def sync_journals(xero, token, tenant) -> list[dict]:
    out, offset = [], 0
    while True:
        batch = xero.api("Journals", token, tenant, offset=offset).get_json()["Journals"]
        if not batch:
            return out
        out.extend(batch)
        offset = batch[-1]["JournalNumber"]


def report_rows(report: dict) -> list[dict]:
    return [row for section in report["Reports"][0]["Rows"] for row in section.get("Rows", [])]


def test_trial_balance_from_synced_journals_equals_the_report(xero, adviser_token):
    tenant = xero.tenant(KOWHAI)
    token = adviser_token["access_token"]
    xero.state.resize_org(tenant, 1500)
    xero.state.void_records(tenant, "invoices", 3)
    journals = sync_journals(xero, token, tenant)
    day = xero.state.clock.now().date()
    fy_start = xero.state.books(tenant).financial_year_start(day.toordinal())
    ytd, month = defaultdict(Decimal), defaultdict(Decimal)
    types = {a.code: a.type for a in CHART}
    retained = CHART[RETAINED].code
    for journal in journals:
        when = ms_to_date(journal["JournalDate"]).toordinal()
        for line in journal["JournalLines"]:
            code, amount = line["AccountCode"], Decimal(str(line["NetAmount"]))
            if types[code] in PL_TYPES and when < fy_start:
                ytd[retained] += amount
            else:
                ytd[code] += amount
            if when >= day.replace(day=1).toordinal():
                month[code] += amount
    report = xero.api("Reports/TrialBalance", token, tenant, date=day.isoformat()).get_json()
    rows = [r for r in report_rows(report) if r["RowType"] == "Row"]
    seen = {}
    for row in rows:
        code = row["Cells"][0]["Value"].rsplit("(", 1)[1].rstrip(")")
        debit, credit, ytd_debit, ytd_credit = (Decimal(c["Value"]) for c in row["Cells"][1:])
        seen[code] = (debit - credit, ytd_debit - ytd_credit)
    expected = {
        code: (month.get(code, Decimal(0)), amount) for code, amount in ytd.items() if amount or month.get(code)
    }
    assert seen == expected
    total = next(r for r in report_rows(report) if r["RowType"] == "SummaryRow")
    assert total["Cells"][3]["Value"] == total["Cells"][4]["Value"]


def test_balance_sheet_balances_and_bank_matches_bank_summary(xero, adviser_token):
    tenant = xero.tenant(KOWHAI)
    token = adviser_token["access_token"]
    day = xero.state.clock.now().date()
    bs = report_rows(xero.api("Reports/BalanceSheet", token, tenant, date=day.isoformat()).get_json())
    value = {r["Cells"][0]["Value"]: Decimal(r["Cells"][1]["Value"]) for r in bs}
    assert value["Net Assets"] == value["Total Equity"]
    summary = report_rows(
        xero.api("Reports/BankSummary", token, tenant, fromDate="2020-01-01", toDate=day.isoformat()).get_json()
    )
    closing = next(r for r in summary if r["Cells"][0]["Value"] == "Total")["Cells"][4]["Value"]
    assert Decimal(closing) == value["Total Bank"]


def test_profit_and_loss_net_profit_matches_journals_and_periods_add_columns(xero, adviser_token):
    tenant = xero.tenant(KOWHAI)
    token = adviser_token["access_token"]
    start, end = date(2025, 6, 1), date(2026, 4, 30)
    journals = sync_journals(xero, token, tenant)
    types = {a.code: a.type for a in CHART}
    expected = -sum(
        Decimal(str(line["NetAmount"]))
        for j in journals
        if start <= ms_to_date(j["JournalDate"]) <= end
        for line in j["JournalLines"]
        if types[line["AccountCode"]] in PL_TYPES
    )
    report = xero.api(
        "Reports/ProfitAndLoss", token, tenant, fromDate=start.isoformat(), toDate=end.isoformat()
    ).get_json()
    net = next(r for r in report_rows(report) if r["Cells"][0]["Value"] == "Net Profit")
    assert Decimal(net["Cells"][1]["Value"]) == expected
    monthly = xero.api(
        "Reports/ProfitAndLoss", token, tenant, fromDate="2026-04-01", toDate="2026-04-30", periods=3, timeframe="MONTH"
    ).get_json()
    assert len(monthly["Reports"][0]["Rows"][0]["Cells"]) == 5
    assert xero.api("Reports/ProfitAndLoss", token, tenant, timeframe="WEEK").status_code == 400


def test_admin_http_endpoints(xero, adviser_token):
    http = xero.http
    assert http.post("/sandbox/clock", json={"advance": 60}).get_json()["now"] == "2026-05-15T09:01:00.000Z"
    assert http.post("/sandbox/clock", json={"set": "2026-06-01T00:00:00Z"}).get_json()["now"].startswith("2026-06-01")
    created = http.post("/sandbox/orgs", json={"name": "Big Books Ltd", "records": 2000, "users": {ADVISER: "Adviser"}})
    assert created.status_code == 201 and created.get_json()["records"] > 1500
    tenant = created.get_json()["tenantId"]
    assert tenant == sandbox_uuid("org", "Big Books Ltd")
    resized = http.post(f"/sandbox/orgs/{tenant}/resize", json={"records": 500}).get_json()
    assert resized["records"] < 700
    ids = http.post(f"/sandbox/orgs/{tenant}/streams/invoices/modify", json={"count": 4}).get_json()["ids"]
    assert len(ids) == 4
    assert len(http.post(f"/sandbox/orgs/{tenant}/streams/payments/void", json={"count": 2}).get_json()["ids"]) == 2
    assert http.post(f"/sandbox/orgs/{tenant}/streams/invoices/explode", json={}).status_code == 404
    conn = http.get("/sandbox/connections").get_json()[0]
    assert http.delete(f"/sandbox/connections/{conn['id']}").status_code == 204
    assert http.delete(f"/sandbox/connections/{conn['id']}").status_code == 404
    assert (
        http.post(f"/sandbox/users/{ADVISER}/role", json={"tenant_id": tenant, "role": "Read only"}).status_code == 200
    )
    assert http.post(
        "/sandbox/faults", json={"latency": 0.01, "org_offline": {"tenant_id": tenant, "seconds": 5}}
    ).get_json()["offline"]
    assert http.delete("/sandbox/faults").get_json()["offline"] == {}
    assert http.post("/sandbox/limits", json={"minute": 5}).get_json()["minute"] == 5
    assert http.post(f"/sandbox/users/{ADVISER}/revoke", json={}).get_json()["revoked"] == 1
    assert http.get("/sandbox/users/xero.admin@demo.test/totp").get_json()["code"].isdigit()
    assert http.post(f"/sandbox/orgs/{tenant}/reset").status_code == 200
    assert http.delete(f"/sandbox/orgs/{tenant}").status_code == 204
    assert http.delete(f"/sandbox/orgs/{tenant}").status_code == 404


def test_cli_talks_to_a_running_sandbox(live):
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "xero_sandbox", "admin", "--url", live.url, "clock", "--advance", "10"],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and '"now"' in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "xero_sandbox", "admin", "--url", live.url, "orgs"],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
        check=False,
    )
    assert KOWHAI in result.stdout


def test_generation_is_deterministic_and_sized():
    tenant = sandbox_uuid("org", "Seeded")
    now = datetime(2026, 5, 15, 9, tzinfo=UTC)
    a = generate(tenant, make_profile("Seeded"), 5000, "s1", now)
    b = generate(tenant, make_profile("Seeded"), 5000, "s1", now)
    c = generate(tenant, make_profile("Seeded"), 5000, "s2", now)
    assert [(i.number, i.total, i.status) for i in a.invoices] == [(i.number, i.total, i.status) for i in b.invoices]
    assert [i.total for i in a.invoices] != [i.total for i in c.invoices]
    assert 4500 <= a.total_records() <= 5500
    assert sum(a.ledger.values()) == 0
