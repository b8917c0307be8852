"""What to copy from Xero, as data: one row per stream (xero-platform.md §3.2)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stream:
    name: str  # our name, also the Accounting API resource
    collection: str  # key of the list in Xero's envelope
    key: str  # immutable Xero id field: upsert key and stable sort order
    paging: str  # "none" | "page" | "offset"
    scopes: tuple[str, ...]  # any one of these grants read access
    modified_since: bool = True
    updated_field: str = "UpdatedDateUTC"

    @property
    def resource(self) -> str:
        return self.name


SETTINGS = ("accounting.settings.read", "accounting.settings")
CONTACTS = ("accounting.contacts.read", "accounting.contacts")
INVOICES = ("accounting.invoices.read", "accounting.invoices", "accounting.transactions.read", "accounting.transactions")

STREAMS: tuple[Stream, ...] = (
    Stream("Organisation", "Organisations", "OrganisationID", "none", SETTINGS, modified_since=False),
    Stream("Accounts", "Accounts", "AccountID", "none", SETTINGS),
    Stream("Contacts", "Contacts", "ContactID", "page", CONTACTS),
    Stream("Invoices", "Invoices", "InvoiceID", "page", INVOICES),
)

# Statuses that make a local row a tombstone (kept, marked, never deleted).
TOMBSTONE_STATUSES = {"DELETED", "VOIDED", "ARCHIVED", "GDPRREQUEST"}
PAGE_SIZE = 1000
