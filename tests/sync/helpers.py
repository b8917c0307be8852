"""Connect a sandbox organisation the way a person would, and read back what a sync stored."""

from __future__ import annotations

import json
import os
import signal
import uuid
from dataclasses import dataclass

import psutil
from sqlalchemy import func, select

from tests.conftest import wait_until
from tests.helpers.xero_login import XeroBrowser, query_of

SYNC_SCOPES = (
    "openid profile email offline_access accounting.settings.read accounting.contacts.read "
    "accounting.invoices.read accounting.payments.read accounting.banktransactions.read "
    "accounting.manualjournals.read accounting.reports.profitandloss.read "
    "accounting.reports.balancesheet.read accounting.reports.trialbalance.read"
)
XERO_USER = "xero.adviser@demo.test"

# Sandbox stream name -> our stream name and id field.
SANDBOX_STREAMS = {
    "contacts": ("Contacts", "ContactID"),
    "items": ("Items", "ItemID"),
    "invoices": ("Invoices", "InvoiceID"),
    "credit_notes": ("CreditNotes", "CreditNoteID"),
    "payments": ("Payments", "PaymentID"),
    "overpayments": ("Overpayments", "OverpaymentID"),
    "prepayments": ("Prepayments", "PrepaymentID"),
    "bank_transactions": ("BankTransactions", "BankTransactionID"),
    "bank_transfers": ("BankTransfers", "BankTransferID"),
    "manual_journals": ("ManualJournals", "ManualJournalID"),
    "repeating_invoices": ("RepeatingInvoices", "RepeatingInvoiceID"),
}


@dataclass
class Connected:
    connection_id: int
    tenant_id: str
    workspace_id: int
    org_name: str


def connect_org(app, sandbox, records: int = 300, scopes: str = SYNC_SCOPES, name: str | None = None) -> Connected:
    """Create an organisation in the sandbox, consent through its pages, store tokens and connection."""
    from wizard.extensions import db
    from wizard.models import Connection, TokenSet, Workspace
    from wizard.xero import oauth
    from wizard.xero.tokens import store_tokens

    name = name or f"Sync Test {uuid.uuid4().hex[:8]} Ltd"
    tenant_id = sandbox.state.create_org(name, records=records, users={XERO_USER: "adviser"})
    app.config["XERO_SCOPES"] = scopes
    with app.test_request_context():
        request = oauth.build_authorization_request()
        callback = XeroBrowser().authorize(
            request.url, XERO_USER, redirect_prefix=app.config["XERO_REDIRECT_URI"], organisations=[name]
        )
        assert callback, "the sandbox consent flow did not reach our callback"
        args = query_of(callback)
        assert args.get("state") == request.state
        tokens = oauth.exchange_code(args["code"], request.code_verifier, request.nonce)
        workspace = Workspace(name=f"Workspace {name}")
        db.session.add(workspace)
        db.session.flush()
        token_set = TokenSet(
            workspace_id=workspace.id,
            xero_userid=tokens.xero_userid,
            access_token_enc=b"",
            access_expires_at=tokens_expiry(tokens),
        )
        store_tokens(token_set, tokens)
        db.session.add(token_set)
        db.session.flush()
        connection = Connection(
            workspace_id=workspace.id,
            token_set_id=token_set.id,
            tenant_id=tenant_id,
            tenant_name=name,
            state="connecting",
        )
        db.session.add(connection)
        db.session.commit()
        return Connected(connection.id, tenant_id, workspace.id, name)


def tokens_expiry(tokens):
    from datetime import timedelta

    from wizard.clock import utcnow

    return utcnow() + timedelta(seconds=tokens.expires_in)


def start_sync(app, connection_id: int, kind: str = "manual") -> int:
    from wizard import syncing
    from wizard.extensions import db
    from wizard.models import Connection

    with app.app_context():
        return syncing.start_sync(db.session.get(Connection, connection_id), kind=kind).id


def run_state(app, run_id: int) -> str:
    from wizard.extensions import db
    from wizard.models import SyncRun

    with app.app_context():
        db.session.expire_all()
        return db.session.get(SyncRun, run_id).state


def wait_for_run(app, run_id: int, states=("succeeded", "failed"), timeout: float = 150.0) -> str:
    """Wait until the run's state in the database is one of `states`; return that state.

    150 s: a test that syncs one organisation twice in a row passes Xero's 60 calls a minute (a full
    sync of the demo books is 38 calls: an initial sync fetches every report, one P&L per
    tracking option), and the product rightly waits out the rest of the minute."""

    def ended() -> str | None:
        state = run_state(app, run_id)
        return state if state in states else None

    try:
        return wait_until(ended, timeout, interval=0.2)
    except AssertionError:
        state = run_state(app, run_id)  # read once more: it may have ended after the last look
        if state in states:
            return state
        raise AssertionError(f"run {run_id} still {state} after {timeout}s") from None


def stored_ids(app, connection_id: int, stream: str, tombstoned: bool | None = None) -> dict[str, dict]:
    """xero id -> payload of the stored records of one stream."""
    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        query = select(XeroRecord.xero_id, XeroRecord.payload).where(
            XeroRecord.connection_id == connection_id, XeroRecord.stream == stream
        )
        if tombstoned is not None:
            query = query.where(XeroRecord.tombstoned.is_(tombstoned))
        return {xero_id: json.loads(payload) for xero_id, payload in db.session.execute(query)}


def row_counts(app, sandbox, org: Connected) -> dict[str, tuple[int, int]]:
    """Per stream: (rows the sync wrote for the connection, records the sandbox holds).

    Rows, not distinct keys: a record written twice, or missed, shows as a difference."""
    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        stored = dict(
            db.session.execute(
                select(XeroRecord.stream, func.count())
                .where(XeroRecord.connection_id == org.connection_id)
                .group_by(XeroRecord.stream)
            ).all()
        )
    books = sandbox.state.books(org.tenant_id)
    with books.lock:
        held = {ours: books.count(sandbox_stream) for sandbox_stream, (ours, _key) in SANDBOX_STREAMS.items()}
    return {ours: (stored.get(ours, 0), count) for ours, count in held.items()}


def assert_row_counts_match(app, sandbox, org: Connected) -> None:
    """Every stream holds exactly as many rows as the sandbox has records (the sync is complete)."""
    counts = row_counts(app, sandbox, org)
    assert {stream: c for stream, c in counts.items() if c[0] != c[1]} == {}, counts


def sandbox_ids(sandbox, tenant_id: str, sandbox_stream: str) -> set[str]:
    books = sandbox.state.books(tenant_id)
    with books.lock:
        return {books.record_id(sandbox_stream, r.idx) for r in getattr(books, sandbox_stream)}


def kill_worker_tree(process: psutil.Process) -> None:
    """kill -9 a worker and its work horse (the horse runs in its own process group)."""
    victims = [process, *process.children(recursive=True)]
    for victim in victims:
        try:
            os.kill(victim.pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    psutil.wait_procs(victims, timeout=10)


def bare_connection(name: str) -> int:
    """A workspace and a connection row (no tokens, nothing in the sandbox) for writing records directly."""
    from wizard.extensions import db
    from wizard.models import Connection, Workspace

    workspace = Workspace(name=name)
    db.session.add(workspace)
    db.session.flush()
    connection = Connection(workspace_id=workspace.id, tenant_id=f"tenant-{name}", tenant_name=name)
    db.session.add(connection)
    db.session.commit()
    return connection.id
