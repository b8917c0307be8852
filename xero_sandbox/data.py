"""Deterministic books generator: one organisation's ledger, from a seed and a size.

Records are compact slotted objects; JSON is built per page elsewhere (shapes.py).
Every financial record posts a journal (double entry), and the per-account daily
ledger those journals feed is what the reports are computed from, so a trial
balance summed from synced journals equals the TrialBalance report.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from .fragments import FragmentCache

NAMESPACE = uuid.UUID("6c1f7a52-5b8e-4d1a-9f0e-3c2b7d9e4a10")
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
DAY_MS = 86_400_000

# Streams served with page/pageSize, in generation order.
PAGED_STREAMS = (
    "contacts",
    "invoices",
    "credit_notes",
    "payments",
    "overpayments",
    "prepayments",
    "bank_transactions",
    "manual_journals",
)
RECORD_STREAMS = (
    "contacts",
    "items",
    "invoices",
    "credit_notes",
    "payments",
    "overpayments",
    "prepayments",
    "bank_transactions",
    "bank_transfers",
    "manual_journals",
)
# Derived from the books on first use (planning.py), except repeating invoices (generated here).
PLANNING_STREAMS = (
    "repeating_invoices",
    "quotes",
    "purchase_orders",
    "budgets",
    "contact_groups",
    "branding_themes",
    "history",
)
# Whose JSON embeds fields of another stream's records (contact names, item codes and names):
# a change there drops the cached JSON of these whole streams. Payments <-> invoices (a payment
# shows its invoice, an invoice its payments) are invalidated record by record in Books.changed.
EMBEDS = {
    "contacts": ("invoices", "credit_notes", "overpayments", "prepayments", "bank_transactions", "payments"),
    "items": ("invoices", "credit_notes", "overpayments", "prepayments", "bank_transactions"),
}


def sandbox_uuid(*parts: object) -> str:
    """A stable uuid5 from names (users, organisations, fixed records)."""
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


def ordinal_ms(ordinal: int) -> int:
    """Midnight UTC of a date ordinal, in epoch milliseconds."""
    return (ordinal - EPOCH_ORDINAL) * DAY_MS


def ms_ordinal(ms: int) -> int:
    return EPOCH_ORDINAL + ms // DAY_MS


@dataclass(frozen=True)
class OrgProfile:
    """Who the organisation is: name, country, currency and tax settings."""

    name: str
    country: str
    currency: str
    timezone: str
    tax_label: str
    rate_bp: int
    sales_tax_type: str
    purchase_tax_type: str
    no_tax_type: str
    fy_end_month: int = 3
    fy_end_day: int = 31
    legal_name: str = ""
    is_demo: bool = False
    line_of_business: str = ""
    short_code: str = ""


COUNTRY_TAX = {
    "NZ": ("NZD", "NEWZEALANDSTANDARDTIME", "GST", 1500, "OUTPUT2", "INPUT2", "NONE", 3, 31),
    "AU": ("AUD", "AUSEASTERNSTANDARDTIME", "GST", 1000, "OUTPUT", "INPUT", "BASEXCLUDED", 6, 30),
    "GB": ("GBP", "GMTSTANDARDTIME", "VAT", 2000, "OUTPUT2", "INPUT2", "NONE", 12, 31),
}


def make_profile(name: str, country: str = "NZ", is_demo: bool = False, line_of_business: str = "") -> OrgProfile:
    """Profile with the country's currency, timezone and tax defaults."""
    cur, tz, label, rate, sales, purchases, none, fy_m, fy_d = COUNTRY_TAX[country]
    short = "!" + uuid.uuid5(NAMESPACE, name).hex[:5]
    return OrgProfile(
        name=name,
        country=country,
        currency=cur,
        timezone=tz,
        tax_label=label,
        rate_bp=rate,
        sales_tax_type=sales,
        purchase_tax_type=purchases,
        no_tax_type=none,
        fy_end_month=fy_m,
        fy_end_day=fy_d,
        legal_name=name,
        is_demo=is_demo,
        line_of_business=line_of_business,
        short_code=short,
    )


@dataclass(frozen=True)
class AccountDef:
    code: str
    name: str
    type: str
    klass: str
    tax: str  # "sales", "purchases" or "none"
    system: str = ""
    status: str = "ACTIVE"
    bank_number: str = ""


CHART = (
    AccountDef("090", "Business Bank Account", "BANK", "ASSET", "none", bank_number="12-3456-0789012-00"),
    AccountDef("091", "Business Savings Account", "BANK", "ASSET", "none", bank_number="12-3456-0789012-01"),
    AccountDef("200", "Sales", "REVENUE", "REVENUE", "sales"),
    AccountDef("260", "Other Revenue", "REVENUE", "REVENUE", "sales"),
    AccountDef("270", "Interest Income", "REVENUE", "REVENUE", "none"),
    AccountDef("310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE", "purchases"),
    AccountDef("400", "Advertising", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("404", "Bank Fees", "EXPENSE", "EXPENSE", "none"),
    AccountDef("408", "Cleaning", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("412", "Consulting & Accounting", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("420", "Entertainment", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("429", "General Expenses", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("433", "Insurance", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("445", "Light, Power, Heating", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("453", "Office Expenses", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("469", "Rent", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("473", "Repairs and Maintenance", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("485", "Subscriptions", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("489", "Telephone & Internet", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("493", "Travel - National", "EXPENSE", "EXPENSE", "purchases"),
    AccountDef("499", "Old Marketing Costs", "EXPENSE", "EXPENSE", "purchases", status="ARCHIVED"),
    AccountDef("610", "Accounts Receivable", "CURRENT", "ASSET", "none", system="DEBTORS"),
    AccountDef("620", "Prepayments", "CURRENT", "ASSET", "none"),
    AccountDef("710", "Office Equipment", "FIXED", "ASSET", "purchases"),
    AccountDef("720", "Computer Equipment", "FIXED", "ASSET", "purchases"),
    AccountDef("800", "Accounts Payable", "CURRLIAB", "LIABILITY", "none", system="CREDITORS"),
    AccountDef("820", "{tax}", "CURRLIAB", "LIABILITY", "none", system="GST"),
    AccountDef("900", "Loan", "TERMLIAB", "LIABILITY", "none"),
    AccountDef("960", "Retained Earnings", "EQUITY", "EQUITY", "none", system="RETAINEDEARNINGS"),
    AccountDef("970", "Owner A Funds Introduced", "EQUITY", "EQUITY", "none"),
)
ACC = {a.code: i for i, a in enumerate(CHART)}
BANKS = (ACC["090"], ACC["091"])
REVENUE_ACCOUNTS = (ACC["200"], ACC["200"], ACC["200"], ACC["260"])
EXPENSE_ACCOUNTS = tuple(
    ACC[c]
    for c in ("310", "310", "400", "408", "412", "420", "429", "433", "445", "453", "469", "473", "485", "489", "493")
)
AR, AP, TAX = ACC["610"], ACC["800"], ACC["820"]
MANUAL_ACCOUNTS = tuple(ACC[c] for c in ("970", "900", "710", "720", "404", "429", "260", "620"))

# Quotes lead to sales invoices, purchase orders to bills: number prefix, one in OFFER_EVERY.
OFFER_PREFIX = {"ACCREC": "QU", "ACCPAY": "PO"}
OFFER_EVERY = 5

TRACKING = (
    ("Region", ("North", "South", "East", "West", "Central (old)")),
    ("Department", ("Retail", "Wholesale", "Online")),
)

ADJECTIVES = (
    "Bright",
    "Coastal",
    "Golden",
    "Silver",
    "Northern",
    "Southern",
    "Rapid",
    "Quiet",
    "Blue",
    "Green",
    "Red",
    "Summit",
    "Harbour",
    "Valley",
    "River",
    "Urban",
    "Rural",
    "Pacific",
    "Alpine",
    "Island",
    "Cedar",
    "Kauri",
    "Totara",
    "Matai",
    "Rimu",
    "Pohutukawa",
    "Tui",
    "Kea",
    "Kiwi",
    "Fern",
)
NOUNS = (
    "Bakery",
    "Builders",
    "Consulting",
    "Design",
    "Electrical",
    "Farms",
    "Freight",
    "Gardens",
    "Hardware",
    "Imports",
    "Joinery",
    "Kitchens",
    "Logistics",
    "Media",
    "Motors",
    "Nursery",
    "Optics",
    "Plumbing",
    "Print",
    "Roofing",
    "Software",
    "Studio",
    "Supplies",
    "Textiles",
    "Tools",
    "Traders",
    "Travel",
    "Vineyards",
    "Wholesale",
    "Works",
)
SUFFIXES = ("Ltd", "Limited", "& Co", "Group", "Partners", "Co-op", "Holdings", "Trust")
FIRST_NAMES = (
    "Aroha",
    "Ben",
    "Chloe",
    "Daniel",
    "Ella",
    "Finn",
    "Grace",
    "Hemi",
    "Isla",
    "Jack",
    "Kate",
    "Liam",
    "Mere",
    "Noah",
    "Olivia",
    "Priya",
    "Quinn",
    "Rawiri",
    "Sofia",
    "Tama",
)
LAST_NAMES = (
    "Anderson",
    "Brown",
    "Chen",
    "Davis",
    "Evans",
    "Fletcher",
    "Green",
    "Harris",
    "Ihaka",
    "Jones",
    "King",
    "Lee",
    "Martin",
    "Ngata",
    "O'Brien",
    "Patel",
    "Rewi",
    "Smith",
    "Taylor",
    "Walker",
)
ITEM_NAMES = (
    "Espresso Blend 1kg",
    "Decaf Beans 500g",
    "Filter Roast 1kg",
    "Cold Brew Pack",
    "Ceramic Cup",
    "Travel Mug",
    "Grinder Burr Set",
    "Barista Training",
    "Milk Jug",
    "Tamper",
    "Hiking Pack 40L",
    "Rain Jacket",
    "Tent 2-person",
    "Sleeping Bag",
    "Trail Shoes",
    "Headlamp",
    "Water Filter",
    "Camp Stove",
    "Merino Top",
    "Gaiters",
)
LINE_WORDS = (
    "Monthly service",
    "Consulting hours",
    "Delivery",
    "Installation",
    "Maintenance",
    "Supplies",
    "Repairs",
    "Subscription",
    "Rental",
    "Training session",
)


class Contact:
    __slots__ = (
        "city",
        "customer",
        "email",
        "first",
        "idx",
        "last",
        "name",
        "number",
        "phone",
        "status",
        "supplier",
        "updated_ms",
    )
    idx: int
    name: str
    first: str
    last: str
    email: str
    status: str
    customer: bool
    supplier: bool
    number: str
    phone: str
    city: str
    updated_ms: int


class Item:
    __slots__ = ("buy_cents", "code", "idx", "name", "sale_cents", "updated_ms")
    idx: int
    code: str
    name: str
    sale_cents: int
    buy_cents: int
    updated_ms: int


class Doc:
    """Invoice, credit note, overpayment, prepayment or bank transaction."""

    __slots__ = (
        "bank",
        "contact",
        "date",
        "due",
        "fully_paid",
        "idx",
        "line_types",
        "lines",
        "number",
        "paid",
        "payments",
        "reference",
        "repeating",
        "status",
        "sub",
        "tax",
        "total",
        "type",
        "updated_ms",
    )
    idx: int
    type: str
    contact: int  # index into Books.contacts
    date: int  # date ordinal
    due: int
    number: str
    reference: str
    lines: tuple
    sub: int
    tax: int
    total: int
    line_types: str
    paid: int
    bank: int  # account index, -1 for none
    payments: list[int]
    fully_paid: int | None
    repeating: int  # index into Books.repeating_invoices, -1 for none
    status: str
    updated_ms: int


class Template:
    """A repeating invoice: the schedule and lines its invoices are generated from."""

    __slots__ = (
        "contact",
        "due_days",
        "end",
        "idx",
        "invoices",
        "lines",
        "next",
        "period",
        "reference",
        "start",
        "status",
        "sub",
        "tax",
        "total",
        "updated_ms",
    )
    idx: int
    contact: int  # index into Books.contacts
    period: int  # months
    start: int  # date ordinal
    end: int | None
    due_days: int
    reference: str
    status: str
    lines: tuple
    sub: int
    tax: int
    total: int
    invoices: list[int]  # indexes into Books.invoices
    next: int | None  # date ordinal of the next invoice, None once the schedule has ended
    updated_ms: int


class Payment:
    __slots__ = ("amount", "bank", "date", "idx", "invoice", "reference", "status", "updated_ms")
    idx: int
    invoice: int
    bank: int
    date: int
    amount: int
    status: str
    reference: str
    updated_ms: int


class Transfer:
    __slots__ = ("amount", "created_ms", "date", "idx", "reference", "source", "status", "target")
    idx: int
    source: int
    target: int
    date: int
    amount: int
    status: str
    reference: str
    created_ms: int


class Manual:
    __slots__ = ("date", "idx", "lines", "narration", "status", "updated_ms")
    idx: int
    date: int
    narration: str
    lines: tuple
    status: str
    updated_ms: int


@dataclass
class Books:
    """One organisation's records, journals and daily ledger."""

    tenant_id: str
    profile: OrgProfile
    seed: str
    size: int
    created_ms: int
    anchor: int  # date ordinal of the newest transaction
    contacts: list = field(default_factory=list)
    items: list = field(default_factory=list)
    invoices: list = field(default_factory=list)
    credit_notes: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    overpayments: list = field(default_factory=list)
    prepayments: list = field(default_factory=list)
    bank_transactions: list = field(default_factory=list)
    bank_transfers: list = field(default_factory=list)
    manual_journals: list = field(default_factory=list)
    repeating_invoices: list = field(default_factory=list)
    # journal entries: (stream, idx, sign, date ordinal, created ms), numbered from 1
    journals: list = field(default_factory=list)
    ledger: dict = field(default_factory=dict)
    # tracked lines only: (category, option, account, date ordinal) -> net cents (debit +)
    tracked: dict = field(default_factory=dict)
    # lines tagged in both categories: (Region option, Department option, account, ordinal) -> cents
    tracked_pairs: dict = field(default_factory=dict)
    # bank accounts only: (account, date ordinal) -> [money in, money out] in cents
    flows: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # serialised JSON of records served so far (see fragments.py); guarded by `lock`
    fragments: FragmentCache = field(default_factory=FragmentCache, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._prefixes = {
            s: uuid.uuid5(uuid.UUID(self.tenant_id), s).hex[:20]
            for s in (
                *RECORD_STREAMS,
                *PLANNING_STREAMS,
                "journals",
                "accounts",
                "tracking",
                *(f"lines:{r}" for r in (*RECORD_STREAMS, *PLANNING_STREAMS)),
            )
        }
        self._heads = {s: f"{p[:8]}-{p[8:12]}-{p[12:16]}-{p[16:20]}-" for s, p in self._prefixes.items()}
        self._account_ids = [self.record_id("accounts", i) for i in range(len(CHART))]
        # per account: (tax type, code, id) as a line item shows them
        self.account_parts = [(self.tax_type_for(i), a.code, self._account_ids[i]) for i, a in enumerate(CHART)]
        # small JSON pieces many records share, serialised once (see shapes.contact_ref / tracking)
        self.contact_refs: dict[int, tuple] = {}
        self.tracking_json: dict[tuple[int, int], object] = {}  # (Region, Department) options -> JSON

    # ids -----------------------------------------------------------------
    def record_id(self, stream: str, idx: int) -> str:
        """Deterministic GUID for a record: a per-stream prefix plus the index."""
        return f"{self._heads[stream]}{idx:012x}"

    def id_head(self, stream: str) -> str:
        """The first 24 characters of every id of a stream (record_id = head + 12 hex digits)."""
        return self._heads[stream]

    def record_index(self, stream: str, record_id: str) -> int | None:
        """Inverse of record_id; None when the id is not one of this stream's."""
        p = self._prefixes.get(stream)
        text = record_id.lower()
        if p is None or len(text) != 36 or text.replace("-", "")[:20] != p:
            return None
        idx = int(text[24:], 16)
        return idx if idx < len(getattr(self, stream)) else None

    def account_id(self, account_idx: int) -> str:
        return self._account_ids[account_idx]

    def tracking_ids(self, category: int, option: int = -1) -> str:
        return self.record_id("tracking", category * 100 + option + 1)

    def account_name(self, account_idx: int) -> str:
        return CHART[account_idx].name.replace("{tax}", self.profile.tax_label)

    def tax_type_for(self, account_idx: int) -> str:
        kind = CHART[account_idx].tax
        if kind == "sales":
            return self.profile.sales_tax_type
        if kind == "purchases":
            return self.profile.purchase_tax_type
        return self.profile.no_tax_type

    def count(self, stream: str) -> int:
        return len(getattr(self, stream))

    def total_records(self) -> int:
        return sum(self.count(s) for s in RECORD_STREAMS)

    def bump(self, stream: str) -> None:
        self.versions[stream] = self.versions.get(stream, 0) + 1

    def changed(self, stream: str, indexes: Iterable[int]) -> None:
        """Records were edited (hold `lock`): forget their cached JSON and that of records showing them."""
        indexes = list(indexes)
        cache = self.fragments
        cache.invalidate(stream, indexes)
        if stream == "payments":
            cache.invalidate("invoices", {self.payments[i].invoice for i in indexes})
        elif stream == "invoices":
            cache.invalidate("payments", [p for i in indexes for p in self.invoices[i].payments])
        cache.drop_streams(EMBEDS.get(stream, ()))

    # postings --------------------------------------------------------------
    def postings(self, stream: str, rec) -> list[tuple[int, int, int, str]]:
        """Journal lines of a record as (account, net cents, tax cents, tax type); debit +."""
        if stream == "payments":
            invoice = self.invoices[rec.invoice]
            if invoice.type == "ACCREC":
                return [(rec.bank, rec.amount, 0, ""), (AR, -rec.amount, 0, "")]
            return [(AP, rec.amount, 0, ""), (rec.bank, -rec.amount, 0, "")]
        if stream == "bank_transfers":
            return [(rec.target, rec.amount, 0, ""), (rec.source, -rec.amount, 0, "")]
        if stream == "manual_journals":
            return [(acct, amount, 0, self.profile.no_tax_type) for acct, amount, _ in rec.lines]
        # documents: revenue side credits, expense side debits
        credit_side = rec.type in ("ACCREC", "ACCPAYCREDIT", "RECEIVE", "RECEIVE-OVERPAYMENT", "RECEIVE-PREPAYMENT")
        sign = -1 if credit_side else 1
        lines = [(ln[0], sign * ln[4], sign * ln[5], self.tax_type_for(ln[0])) for ln in rec.lines]
        if rec.tax:
            lines.append((TAX, sign * rec.tax, 0, ""))
        if stream in ("invoices", "credit_notes"):
            control = AR if rec.type in ("ACCREC", "ACCRECCREDIT") else AP
        else:
            control = rec.bank
        lines.append((control, -sign * rec.total, 0, ""))
        return lines

    def cash_postings(self, stream: str, rec) -> tuple[list[tuple[int, int, int, str]], list]:
        """(postings, line tracking) of a record's journal on a cash basis. A payment on an
        invoice or bill recognises the document's lines (and its tax) in the proportion the
        payment bears to the document's total, against the bank, instead of clearing AR/AP;
        every other cash movement (and a manual journal) posts as it does on accruals. Rounding
        goes to the largest line, so the journal balances."""
        if stream != "payments":
            return self.postings(stream, rec), self.line_tracking(stream, rec)
        invoice = self.invoices[rec.invoice]
        document = self.postings("invoices", invoice)[:-1]  # without the AR/AP control line
        tags = self.line_tracking("invoices", invoice)
        total = invoice.total or 1
        lines = [
            (acct, _share(net, rec.amount, total), _share(tax, rec.amount, total), tt)
            for acct, net, tax, tt in document
        ]
        receipt = invoice.type == "ACCREC"
        target = -rec.amount if receipt else rec.amount
        if lines:
            largest = max(range(len(lines)), key=lambda n: abs(lines[n][1]))
            acct, net, tax, tt = lines[largest]
            lines[largest] = (acct, net + target - sum(line[1] for line in lines), tax, tt)
        bank = (rec.bank, -target, 0, "")
        if receipt:
            return [bank, *lines], [(-1, -1), *tags]
        return [*lines, bank], tags

    def post(self, stream: str, rec, sign: int, created_ms: int) -> int:
        """Add a journal (or its reversal) and feed the daily ledger; returns its number."""
        ordinal = rec.date
        postings = self.postings(stream, rec)
        tracked = self.tracked
        for n, tags in enumerate(self.line_tracking(stream, rec)):
            acct, net = postings[n][0], postings[n][1]
            for category, option in enumerate(tags):
                if option >= 0:
                    tracked_key = (category, option, acct, ordinal)
                    tracked[tracked_key] = tracked.get(tracked_key, 0) + sign * net
            if len(tags) == 2 and min(tags) >= 0:
                pair_key = (tags[0], tags[1], acct, ordinal)
                self.tracked_pairs[pair_key] = self.tracked_pairs.get(pair_key, 0) + sign * net
        for acct, net, _tax, _tt in postings:
            key = (acct, ordinal)
            self.ledger[key] = self.ledger.get(key, 0) + sign * net
            if acct in BANKS:
                flow = self.flows.setdefault(key, [0, 0])
                flow[0 if sign * net > 0 else 1] += abs(net)
        self.journals.append((stream, rec.idx, sign, ordinal, created_ms))
        return len(self.journals)

    def line_tracking(self, stream: str, rec) -> list[tuple[int, int]]:
        """(Region option, Department option) per line, -1 for none, aligned with the first
        postings of the record. Region comes from generation; Department is derived from the
        record and line number so adding it left the generator's random stream unchanged."""
        if stream == "manual_journals":
            out = []
            for n in range(len(rec.lines)):
                region = (rec.idx * 5 + n) % 6 - 2
                out.append((region if region >= 0 else -1, (rec.idx + 2 * n) % 4 - 1))
            return out
        if stream in ("payments", "bank_transfers"):
            return []
        # an invoice from a repeating invoice carries its template's tracking
        key = rec.idx if getattr(rec, "repeating", -1) < 0 else rec.repeating + (1 << 30)
        if stream == "repeating_invoices":
            key = rec.idx + (1 << 30)
        return [(line[7], (key * 7 + n * 3) % 4 - 1) for n, line in enumerate(rec.lines)]

    def tracked_balances(self, category: int, option: int, start: int, end: int) -> dict[int, int]:
        """Net movement per account over [start, end] of the lines tagged with one tracking option."""
        out: dict[int, int] = {}
        for (c, o, acct, ordinal), cents in self.tracked.items():
            if c == category and o == option and start <= ordinal <= end:
                out[acct] = out.get(acct, 0) + cents
        return out

    def filtered_balances(self, options: dict[int, int], start: int, end: int) -> dict[int, int]:
        """Net movement per account over [start, end] of the lines tagged with every given
        {category: option} (one category, or both: the lines carrying the two options)."""
        if len(options) == 1:
            ((category, option),) = options.items()
            return self.tracked_balances(category, option, start, end)
        first, second = options[0], options[1]
        out: dict[int, int] = {}
        for (o1, o2, acct, ordinal), cents in self.tracked_pairs.items():
            if o1 == first and o2 == second and start <= ordinal <= end:
                out[acct] = out.get(acct, 0) + cents
        return out

    def balance(self, account_idx: int, start: int | None, end: int) -> int:
        """Net movement (debit +) of an account over date ordinals [start, end]."""
        total = 0
        for (acct, ordinal), cents in self.ledger.items():
            if acct == account_idx and ordinal <= end and (start is None or ordinal >= start):
                total += cents
        return total

    def balances(self, start: int | None, end: int) -> dict[int, int]:
        """Net movement of every account over [start, end] (start None = since ever)."""
        out: dict[int, int] = {}
        for (acct, ordinal), cents in self.ledger.items():
            if ordinal <= end and (start is None or ordinal >= start):
                out[acct] = out.get(acct, 0) + cents
        return out

    def financial_year_start(self, ordinal: int) -> int:
        """First day of the financial year holding the given date."""
        day = date.fromordinal(ordinal)
        m, d = self.profile.fy_end_month, self.profile.fy_end_day
        end_this_year = date(day.year, m, d)
        start = end_this_year + timedelta(days=1)
        if day <= end_this_year:
            start = date(day.year - 1, m, d) + timedelta(days=1)
        return start.toordinal()


def _share(cents: int, part: int, whole: int) -> int:
    """cents * part / whole rounded half away from zero (a payment's share of a line)."""
    magnitude = (abs(cents) * part * 2 + whole) // (2 * whole)
    return magnitude if cents >= 0 else -magnitude


# generation -----------------------------------------------------------------


def _split(size: int) -> dict[str, int]:
    """How a record count divides over the streams (payments follow invoices)."""
    return {
        "contacts": max(8, size * 6 // 100),
        "items": min(max(8, size // 100), 500),
        "invoices": max(20, size * 44 // 100),
        "credit_notes": max(2, size * 3 // 100),
        "overpayments": max(1, size // 200),
        "prepayments": max(1, size // 200),
        "bank_transactions": max(6, size * 12 // 100),
        "bank_transfers": max(1, size // 100),
        "manual_journals": max(2, size // 100),
    }


def _tax(net: int, rate_bp: int) -> int:
    return (net * rate_bp + 5000) // 10000


class _Generator:
    def __init__(self, books: Books, now_ms: int) -> None:
        self.b = books
        self.rng = random.Random(f"{books.seed}:{books.tenant_id}:{books.size}")
        self.now_ms = now_ms
        self.start = books.anchor - 729
        self.span = 730

    def stamp(self, ordinal: int) -> int:
        """A working-hours instant on that day, never after now."""
        ms = ordinal_ms(ordinal) + self.rng.randrange(7 * 3_600_000, 19 * 3_600_000)
        return min(ms, self.now_ms - 1000)

    def dates(self, n: int) -> list[int]:
        rnd = self.rng.randrange
        return sorted(self.start + rnd(self.span) for _ in range(n))

    def lines(self, accounts: tuple, n_max: int, taxed: bool = True) -> tuple[tuple, int, int]:
        b, rng = self.b, self.rng
        out, sub, tax = [], 0, 0
        n_items = len(b.items)
        for _ in range(rng.randint(1, n_max)):
            acct = rng.choice(accounts)
            qty = rng.randint(1, 10)
            unit = rng.randrange(500, 50_000, 5)
            net = qty * unit
            line_tax = _tax(net, b.profile.rate_bp) if taxed and CHART[acct].tax != "none" else 0
            item = rng.randrange(n_items) if rng.random() < 0.3 else -1
            option = rng.randrange(4) if rng.random() < 0.4 else -1
            out.append((acct, item, qty, unit, net, line_tax, rng.randrange(len(LINE_WORDS)), option))
            sub += net
            tax += line_tax
        return tuple(out), sub, tax

    def run(self) -> None:
        counts = _split(self.b.size)
        self.contacts(counts["contacts"])
        self.items(counts["items"])
        self.invoices(counts["invoices"])
        self.documents("credit_notes", counts["credit_notes"])
        self.documents("overpayments", counts["overpayments"])
        self.documents("prepayments", counts["prepayments"])
        self.documents("bank_transactions", counts["bank_transactions"])
        self.transfers(counts["bank_transfers"])
        self.manuals(counts["manual_journals"])
        self.repeating(max(3, self.b.size // 400))
        self.opening_balance()
        self.link_offers()
        self.b.journals.sort(key=lambda j: (j[4], j[0], j[1]))

    def link_offers(self) -> None:
        """Every fifth invoice (bill) raised by hand came from a quote (purchase order): it carries
        that quote's (PO's) number as its Reference, the only link Xero's API exposes between them
        (planning.py derives the quotes and POs from these References)."""
        for kind, prefix in OFFER_PREFIX.items():
            sources = [d for d in self.b.invoices if d.type == kind and d.repeating < 0 and d.status != "DELETED"]
            for k, d in enumerate(sources[::OFFER_EVERY]):
                d.reference = f"{prefix}-{k + 1:04d}"

    def contacts(self, n: int) -> None:
        rng, out = self.rng, self.b.contacts
        combos = [f"{a} {nn} {s}" for a in ADJECTIVES for nn in NOUNS for s in SUFFIXES]
        rng.shuffle(combos)
        for i in range(n):
            c = Contact()
            c.idx = i
            base = combos[i % len(combos)]
            c.name = base if i < len(combos) else f"{base} {i // len(combos) + 1}"
            c.first, c.last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            c.email = f"{c.first.lower()}.{c.last.lower().replace(chr(39), '')}{i}@example.test"
            c.status = "ARCHIVED" if rng.random() < 0.04 else "ACTIVE"
            c.customer = rng.random() < 0.7
            c.supplier = not c.customer or rng.random() < 0.2
            c.number = f"C{i + 1:05d}"
            c.phone = f"{rng.randrange(200, 999)} {rng.randrange(1000, 9999)}"
            c.city = rng.choice(
                ("Auckland", "Wellington", "Christchurch", "Sydney", "Melbourne", "London", "Dunedin", "Brisbane")
            )
            c.updated_ms = self.stamp(self.start + rng.randrange(30))
            out.append(c)

    def items(self, n: int) -> None:
        rng = self.rng
        for i in range(n):
            it = Item()
            it.idx = i
            it.code = f"ITEM-{i + 1:03d}"
            base = ITEM_NAMES[i % len(ITEM_NAMES)]
            it.name = base if i < len(ITEM_NAMES) else f"{base} ({i // len(ITEM_NAMES) + 1})"
            it.sale_cents = rng.randrange(1000, 30_000, 50)
            it.buy_cents = it.sale_cents * rng.randint(40, 70) // 100
            it.updated_ms = self.stamp(self.start + rng.randrange(20))
            self.b.items.append(it)

    def _customer(self, want_customer: bool) -> int:
        contacts, rng = self.b.contacts, self.rng
        for _ in range(8):
            c = contacts[rng.randrange(len(contacts))]
            if (c.customer if want_customer else c.supplier) and c.status == "ACTIVE":
                return c.idx
        return rng.randrange(len(contacts))

    def invoices(self, n: int) -> None:
        b, rng = self.b, self.rng
        payments = []
        sales_no = bills_no = 0
        for i, ordinal in enumerate(self.dates(n)):
            d = Doc()
            d.idx = i
            sale = rng.random() < 0.6
            d.type = "ACCREC" if sale else "ACCPAY"
            d.contact = self._customer(sale)
            d.date = ordinal
            d.due = ordinal + rng.choice((7, 14, 20, 30))
            if sale:
                sales_no += 1
                d.number = f"INV-{sales_no:05d}"
            else:
                bills_no += 1
                d.number = f"BILL-{bills_no:05d}"
            d.reference = f"PO {rng.randrange(1000, 9999)}" if rng.random() < 0.5 else ""
            d.lines, d.sub, d.tax = self.lines(REVENUE_ACCOUNTS if sale else EXPENSE_ACCOUNTS, 3)
            d.total = d.sub + d.tax
            d.line_types = "Exclusive"
            d.paid = 0
            d.bank = -1
            d.payments = []
            d.fully_paid = None
            d.repeating = -1
            d.updated_ms = self.stamp(ordinal)
            roll = rng.random()
            age = b.anchor - ordinal
            if roll < 0.03 and age < 60:
                d.status = "DRAFT"
            elif roll < 0.04 and age < 60:
                d.status = "SUBMITTED"
            elif roll < 0.06:
                d.status = "DELETED"
            elif roll < 0.08:
                d.status = "VOIDED"
            else:
                d.status = "AUTHORISED"
            b.invoices.append(d)
            if d.status in ("AUTHORISED", "VOIDED"):
                b.post("invoices", d, 1, d.updated_ms)
            if d.status == "VOIDED":
                d.updated_ms = min(d.updated_ms + rng.randrange(3_600_000, 20 * DAY_MS), self.now_ms - 500)
                b.post("invoices", d, -1, d.updated_ms)
            if d.status == "AUTHORISED" and age > 5:
                share = rng.random()
                if share < 0.82:
                    payments.append((d, d.total if share < 0.74 else d.total // 2))
        for invoice, amount in sorted(payments, key=lambda p: p[0].date):
            self.payment(invoice, amount)

    def payment(self, invoice: Doc, amount: int, rng: random.Random | None = None) -> None:
        b, rng = self.b, rng or self.rng
        p = Payment()
        p.idx = len(b.payments)
        p.invoice = invoice.idx
        p.bank = BANKS[0] if rng.random() < 0.85 else BANKS[1]
        p.date = min(invoice.date + rng.randrange(0, 45), b.anchor)
        p.amount = amount
        p.status = "AUTHORISED"
        p.reference = f"Payment {invoice.number}"
        p.updated_ms = max(self.stamp(p.date), invoice.updated_ms + 1000)
        p.updated_ms = min(p.updated_ms, self.now_ms - 100)
        b.payments.append(p)
        invoice.payments.append(p.idx)
        invoice.paid += amount
        invoice.updated_ms = max(invoice.updated_ms, p.updated_ms)
        if invoice.paid >= invoice.total:
            invoice.status = "PAID"
            invoice.fully_paid = p.date
        b.post("payments", p, 1, p.updated_ms)

    def documents(self, stream: str, n: int) -> None:
        b, rng = self.b, self.rng
        for i, ordinal in enumerate(self.dates(n)):
            d = Doc()
            d.idx = i
            income = rng.random() < (0.5 if stream == "credit_notes" else 0.45)
            d.contact = self._customer(income)
            d.date = ordinal
            d.due = ordinal
            d.reference = f"Ref {rng.randrange(10000, 99999)}"
            d.paid = 0
            d.payments = []
            d.fully_paid = None
            d.repeating = -1
            d.bank = BANKS[0] if rng.random() < 0.9 else BANKS[1]
            d.line_types = "Exclusive"
            status_roll = rng.random()
            if stream == "credit_notes":
                d.type = "ACCRECCREDIT" if income else "ACCPAYCREDIT"
                d.number = f"CN-{i + 1:05d}"
                d.lines, d.sub, d.tax = self.lines(REVENUE_ACCOUNTS if income else EXPENSE_ACCOUNTS, 2)
                d.status = (
                    "AUTHORISED"
                    if status_roll < 0.88
                    else "VOIDED"
                    if status_roll < 0.94
                    else "DELETED"
                    if status_roll < 0.97
                    else "DRAFT"
                )
            elif stream in ("overpayments", "prepayments"):
                kind = "OVERPAYMENT" if stream == "overpayments" else "PREPAYMENT"
                d.type = ("RECEIVE-" if income else "SPEND-") + kind
                d.number = ""
                if kind == "OVERPAYMENT":
                    amount = rng.randrange(2000, 200_000, 5)
                    d.lines, d.sub, d.tax = ((AR if income else AP, -1, 1, amount, amount, 0, 5, -1),), amount, 0
                    d.line_types = "NoTax"
                else:
                    d.lines, d.sub, d.tax = self.lines(REVENUE_ACCOUNTS if income else EXPENSE_ACCOUNTS, 2)
                d.status = "AUTHORISED" if status_roll < 0.93 else "VOIDED"
            else:
                d.type = "RECEIVE" if income else "SPEND"
                d.number = ""
                accounts = REVENUE_ACCOUNTS if income else EXPENSE_ACCOUNTS
                d.lines, d.sub, d.tax = self.lines(accounts, 2)
                d.status = "AUTHORISED" if status_roll < 0.95 else "VOIDED" if status_roll < 0.98 else "DELETED"
            d.total = d.sub + d.tax
            d.updated_ms = self.stamp(ordinal)
            getattr(b, stream).append(d)
            if d.status != "DRAFT":
                b.post(stream, d, 1, d.updated_ms)
            if d.status in ("VOIDED", "DELETED"):
                d.updated_ms = min(d.updated_ms + rng.randrange(3_600_000, 10 * DAY_MS), self.now_ms - 500)
                b.post(stream, d, -1, d.updated_ms)

    def transfers(self, n: int) -> None:
        b, rng = self.b, self.rng
        for i, ordinal in enumerate(self.dates(n)):
            t = Transfer()
            t.idx = i
            t.source, t.target = (BANKS[0], BANKS[1]) if rng.random() < 0.6 else (BANKS[1], BANKS[0])
            t.date = ordinal
            t.amount = rng.randrange(10_000, 500_000, 100)
            t.status = "AUTHORISED"
            t.reference = f"Transfer {i + 1}"
            t.created_ms = self.stamp(ordinal)
            b.bank_transfers.append(t)
            b.post("bank_transfers", t, 1, t.created_ms)

    def manuals(self, n: int) -> None:
        b, rng = self.b, self.rng
        for i, ordinal in enumerate(self.dates(n)):
            m = Manual()
            m.idx = i
            m.date = ordinal
            m.narration = rng.choice(
                (
                    "Depreciation",
                    "Accrual",
                    "Owner drawings",
                    "Loan interest",
                    "Reclassification",
                    "Year-end adjustment",
                )
            )
            lines, balance = [], 0
            for _ in range(rng.randint(1, 3)):
                amount = rng.randrange(1000, 300_000, 5) * rng.choice((1, -1))
                lines.append((rng.choice(MANUAL_ACCOUNTS), amount, m.narration))
                balance += amount
            lines.append((rng.choice(MANUAL_ACCOUNTS), -balance, m.narration))
            m.lines = tuple(lines)
            roll = rng.random()
            m.status = "POSTED" if roll < 0.9 else "DRAFT" if roll < 0.94 else "VOIDED" if roll < 0.97 else "ARCHIVED"
            m.updated_ms = self.stamp(ordinal)
            b.manual_journals.append(m)
            if m.status in ("POSTED", "VOIDED"):
                b.post("manual_journals", m, 1, m.updated_ms)
            if m.status == "VOIDED":
                m.updated_ms = min(m.updated_ms + rng.randrange(3_600_000, 10 * DAY_MS), self.now_ms - 500)
                b.post("manual_journals", m, -1, m.updated_ms)

    def repeating(self, n: int) -> None:
        """Repeating invoices and the invoices their schedules have generated up to today.
        Uses its own random stream, so the records generated before it stay as they were."""
        b = self.b
        rng = random.Random(f"{b.seed}:{b.tenant_id}:{b.size}:repeating")
        number = sum(1 for d in b.invoices if d.type == "ACCREC")
        generated = []
        for i in range(n):
            t = Template()
            t.idx = i
            t.contact = next(
                (c.idx for c in rng.sample(b.contacts, min(8, len(b.contacts))) if c.customer and c.status == "ACTIVE"),
                0,
            )
            t.period = rng.choice((1, 1, 1, 3))  # months
            t.start = b.anchor - rng.randrange(30, 400)
            t.end = t.start + rng.randrange(200, 500) if rng.random() < 0.25 else None
            t.due_days = rng.choice((7, 14, 20))
            t.reference = f"Retainer {i + 1}"
            t.status = "AUTHORISED"
            lines, t.sub, t.tax = [], 0, 0
            for _ in range(rng.randint(1, 2)):
                acct = rng.choice(REVENUE_ACCOUNTS)
                qty, unit = rng.randint(1, 4), rng.randrange(5_000, 80_000, 500)
                net = qty * unit
                tax = _tax(net, b.profile.rate_bp) if CHART[acct].tax != "none" else 0
                lines.append((acct, -1, qty, unit, net, tax, rng.randrange(len(LINE_WORDS)), rng.randrange(4)))
                t.sub, t.tax = t.sub + net, t.tax + tax
            t.lines, t.total, t.invoices = tuple(lines), t.sub + t.tax, []
            day, k = date.fromordinal(t.start), 0
            while True:
                when = _add_months(day, k * t.period).toordinal()
                if when > b.anchor or (t.end is not None and when > t.end):
                    break
                generated.append((when, t))
                k += 1
            t.next = None if t.end is not None and when > t.end else when
            t.updated_ms = self.stamp(t.start)
            b.repeating_invoices.append(t)
        for when, t in sorted(generated, key=lambda g: (g[0], g[1].idx)):
            number += 1
            d = Doc()
            d.idx = len(b.invoices)
            d.type, d.contact, d.date, d.due = "ACCREC", t.contact, when, when + t.due_days
            d.number, d.reference = f"INV-{number:05d}", t.reference
            d.lines, d.sub, d.tax, d.total = t.lines, t.sub, t.tax, t.total
            d.line_types, d.paid, d.bank, d.payments, d.fully_paid = "Exclusive", 0, -1, [], None
            d.repeating, d.status, d.updated_ms = t.idx, "AUTHORISED", self.stamp(when)
            b.invoices.append(d)
            t.invoices.append(d.idx)
            b.post("invoices", d, 1, d.updated_ms)
            if b.anchor - when > 5 and rng.random() < 0.85:
                self.payment(d, d.total, rng)

    def opening_balance(self) -> None:
        """Owner's capital on day one so the bank does not start negative."""
        m = Manual()
        m.idx = len(self.b.manual_journals)
        m.date = self.start
        m.narration = "Opening balance: owner's capital"
        amount = 5_000_000 + self.b.size * 1_000
        m.lines = ((BANKS[0], amount, m.narration), (ACC["970"], -amount, m.narration))
        m.status = "POSTED"
        m.updated_ms = self.stamp(self.start)
        self.b.manual_journals.append(m)
        self.b.post("manual_journals", m, 1, m.updated_ms)


def _add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last))


def generate(tenant_id: str, profile: OrgProfile, size: int, seed: str, now: datetime) -> Books:
    """Build an organisation's books; the same inputs give the same books."""
    now_ms = int(now.timestamp() * 1000)
    anchor = now.astimezone(UTC).date().toordinal()
    created_ms = ordinal_ms(anchor - 760) + 9 * 3_600_000
    books = Books(tenant_id=tenant_id, profile=profile, seed=seed, size=size, created_ms=created_ms, anchor=anchor)
    _Generator(books, now_ms).run()
    return books


# changes "from inside Xero" ----------------------------------------------------

VOIDABLE = {
    "invoices": ("AUTHORISED", "VOIDED"),
    "credit_notes": ("AUTHORISED", "VOIDED"),
    "overpayments": ("AUTHORISED", "VOIDED"),
    "prepayments": ("AUTHORISED", "VOIDED"),
    "bank_transactions": ("AUTHORISED", "DELETED"),
    "bank_transfers": ("AUTHORISED", "DELETED"),
    "payments": ("AUTHORISED", "DELETED"),
    "manual_journals": ("POSTED", "VOIDED"),
    "contacts": ("ACTIVE", "ARCHIVED"),
}


def _pick(books: Books, stream: str, count: int, eligible) -> list:
    rng = random.Random(f"{books.seed}:{stream}:{len(books.journals)}:{books.versions.get(stream, 0)}")
    candidates = [r for r in getattr(books, stream) if eligible(r)]
    rng.shuffle(candidates)
    return candidates[:count]


def modify_records(books: Books, stream: str, count: int, now_ms: int) -> list[str]:
    """Edit N records (a non-financial field) and bump UpdatedDateUTC to now."""
    if stream not in RECORD_STREAMS:
        raise ValueError(f"unknown stream {stream!r}")
    with books.lock:
        chosen = _pick(books, stream, count, lambda r: getattr(r, "status", "ACTIVE") not in ("DELETED", "VOIDED"))
        for rec in chosen:
            if stream == "contacts":
                rec.phone = f"{rec.phone.split(' ')[0]} {(int(rec.phone.split(' ')[1]) + 1) % 10000:04d}"
            elif stream == "items":
                rec.name = rec.name.removesuffix(" *") + " *"
            elif stream == "manual_journals":
                rec.narration = rec.narration.removesuffix(" (edited)") + " (edited)"
            else:
                rec.reference = (rec.reference or "").removesuffix(" (edited)") + " (edited)"
            _touch(rec, now_ms)
        books.changed(stream, [r.idx for r in chosen])
        books.bump(stream)
        return [books.record_id(stream, r.idx) for r in chosen]


def _touch(rec, now_ms: int) -> None:
    if hasattr(rec, "updated_ms"):
        rec.updated_ms = now_ms
    else:
        rec.created_ms = now_ms


def void_records(books: Books, stream: str, count: int, now_ms: int) -> list[str]:
    """Void/delete/archive N records as a Xero user would; posts reversing journals."""
    if stream not in VOIDABLE:
        raise ValueError(f"stream {stream!r} cannot be voided")
    before, after = VOIDABLE[stream]
    with books.lock:

        def eligible(r) -> bool:
            return r.status == before and not (stream == "invoices" and r.paid)

        chosen = _pick(books, stream, count, eligible)
        for rec in chosen:
            rec.status = after
            _touch(rec, now_ms)
            if stream != "contacts":
                books.post(stream, rec, -1, now_ms)
            if stream == "payments":
                invoice = books.invoices[rec.invoice]
                invoice.paid -= rec.amount
                invoice.payments.remove(rec.idx)
                invoice.status = "AUTHORISED"
                invoice.fully_paid = None
                invoice.updated_ms = now_ms
                books.changed("invoices", [invoice.idx])
                books.bump("invoices")
        books.changed(stream, [r.idx for r in chosen])
        books.bump(stream)
        books.bump("journals")
        return [books.record_id(stream, r.idx) for r in chosen]
