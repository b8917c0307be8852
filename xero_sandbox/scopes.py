"""Scope names Xero knows, which clients may ask for them, and what each endpoint needs."""

from __future__ import annotations

from datetime import date

OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}
BROAD_SCOPES = {"accounting.transactions", "accounting.transactions.read", "accounting.reports.read"}
GRANULAR_SCOPES = {
    "accounting.invoices",
    "accounting.invoices.read",
    "accounting.payments",
    "accounting.payments.read",
    "accounting.banktransactions",
    "accounting.banktransactions.read",
    "accounting.manualjournals",
    "accounting.manualjournals.read",
    "accounting.classicexpenses",
    "accounting.classicexpenses.read",
    "accounting.reports.profitandloss.read",
    "accounting.reports.balancesheet.read",
    "accounting.reports.trialbalance.read",
    "accounting.reports.aged.read",
    "accounting.reports.banksummary.read",
    "accounting.reports.executivesummary.read",
    "accounting.reports.budgetsummary.read",
    "accounting.reports.taxreports.read",
    "accounting.reports.tenninetynine.read",
}
OTHER_SCOPES = {
    "accounting.settings",
    "accounting.settings.read",
    "accounting.contacts",
    "accounting.contacts.read",
    "accounting.journals.read",
    "accounting.attachments",
    "accounting.attachments.read",
    "accounting.budgets.read",
    "paymentservices",
    "files",
    "files.read",
    "assets",
    "assets.read",
    "projects",
    "projects.read",
    "payroll.employees",
    "payroll.employees.read",
    "payroll.payruns",
    "payroll.payruns.read",
    "payroll.payslip",
    "payroll.payslip.read",
    "payroll.settings",
    "payroll.settings.read",
    "payroll.timesheets",
    "payroll.timesheets.read",
    "bankfeeds",
    "finance.statements.read",
}
KNOWN_SCOPES = OIDC_SCOPES | BROAD_SCOPES | GRANULAR_SCOPES | OTHER_SCOPES
GRANULAR_ONLY_FROM = date(2026, 3, 2)

DESCRIPTIONS = {
    "openid": "Know who you are (your Xero user id)",
    "profile": "See your name",
    "email": "See your email address",
    "offline_access": "Keep access while you are not using the app",
    "accounting.settings.read": "View your organisation settings (chart of accounts, tax rates, currencies...)",
    "accounting.settings": "View and change your organisation settings",
    "accounting.contacts.read": "View your contacts",
    "accounting.contacts": "View and manage your contacts",
    "accounting.invoices.read": "View your invoices, credit notes, quotes and items",
    "accounting.payments.read": "View your payments, overpayments and prepayments",
    "accounting.banktransactions.read": "View your bank transactions and transfers",
    "accounting.manualjournals.read": "View your manual journals",
    "accounting.journals.read": "View your general ledger journals",
    "accounting.reports.profitandloss.read": "View your profit and loss report",
    "accounting.reports.balancesheet.read": "View your balance sheet report",
    "accounting.reports.trialbalance.read": "View your trial balance report",
    "accounting.reports.banksummary.read": "View your bank summary report",
    "accounting.transactions.read": "View your business transactions",
    "accounting.transactions": "View and manage your business transactions",
    "accounting.reports.read": "View your reports",
    "accounting.budgets.read": "View your budgets",
    "accounting.attachments.read": "View your attachments",
    "accounting.reports.aged.read": "View your aged payables and receivables reports",
    "accounting.reports.budgetsummary.read": "View your budget summary report",
    "accounting.reports.executivesummary.read": "View your executive summary report",
}

# endpoint (lower case) -> scopes any one of which grants read access
_READ = {
    "organisation": ("accounting.settings",),
    "accounts": ("accounting.settings",),
    "trackingcategories": ("accounting.settings",),
    "taxrates": ("accounting.settings",),
    "currencies": ("accounting.settings",),
    "users": ("accounting.settings",),
    "items": ("accounting.settings", "accounting.invoices"),
    "contacts": ("accounting.contacts",),
    "invoices": ("accounting.invoices", "accounting.transactions"),
    "creditnotes": ("accounting.invoices", "accounting.transactions"),
    "payments": ("accounting.payments", "accounting.transactions"),
    "overpayments": ("accounting.payments", "accounting.transactions"),
    "prepayments": ("accounting.payments", "accounting.transactions"),
    "banktransactions": ("accounting.banktransactions", "accounting.transactions"),
    "banktransfers": ("accounting.banktransactions", "accounting.transactions"),
    "manualjournals": ("accounting.manualjournals", "accounting.transactions"),
    "journals": ("accounting.journals.read",),
    "reports/profitandloss": ("accounting.reports.profitandloss.read", "accounting.reports.read"),
    "reports/balancesheet": ("accounting.reports.balancesheet.read", "accounting.reports.read"),
    "reports/trialbalance": ("accounting.reports.trialbalance.read", "accounting.reports.read"),
    "reports/banksummary": ("accounting.reports.banksummary.read", "accounting.reports.read"),
    "reports/budgetsummary": ("accounting.reports.budgetsummary.read", "accounting.reports.read"),
    "reports/executivesummary": ("accounting.reports.executivesummary.read", "accounting.reports.read"),
    "reports/agedreceivablesbycontact": ("accounting.reports.aged.read", "accounting.reports.read"),
    "reports/agedpayablesbycontact": ("accounting.reports.aged.read", "accounting.reports.read"),
    "reports": ("accounting.reports.taxreports.read", "accounting.reports.read"),
    "quotes": ("accounting.invoices", "accounting.transactions"),
    "purchaseorders": ("accounting.invoices", "accounting.transactions"),
    "repeatinginvoices": ("accounting.invoices", "accounting.transactions"),
    "linkedtransactions": ("accounting.invoices", "accounting.transactions"),
    "batchpayments": ("accounting.payments", "accounting.transactions"),
    "receipts": ("accounting.classicexpenses", "accounting.transactions"),
    "expenseclaims": ("accounting.classicexpenses", "accounting.transactions"),
    "contactgroups": ("accounting.contacts",),
    "brandingthemes": ("accounting.settings",),
    "budgets": ("accounting.budgets.read",),
    "attachments": ("accounting.attachments",),
    "paymentservices": ("paymentservices",),
}


def scope_error(client_created: date, scopes: list[str]) -> str | None:
    """Why Xero's authorize page would refuse these scopes, or None when they are fine."""
    if not scopes:
        return "invalid_scope : Invalid scope"
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        return "invalid_scope : Invalid scope"
    if client_created >= GRANULAR_ONLY_FROM and BROAD_SCOPES.intersection(scopes):
        return "unauthorized_client : Invalid scope for client"
    return None


def has_read_access(endpoint: str, granted: list[str]) -> bool:
    """Does a token with these scopes read this endpoint? A write scope implies read."""
    needed = _READ.get(endpoint)
    if needed is None:
        return False
    for scope in needed:
        base = scope.removesuffix(".read")
        if scope in granted or base in granted or f"{base}.read" in granted:
            return True
    return False


def needs_tenant(scopes: list[str]) -> bool:
    """Scopes that reach organisation data (so consent shows the organisation picker)."""
    return any(s not in OIDC_SCOPES for s in scopes)


def describe(scopes: list[str]) -> list[str]:
    return [DESCRIPTIONS.get(s, s) for s in scopes]
