"""The Data page's record counts, kept by the database as records are written (record_count),
equal a live count of the records: after every kind of page write, full, incremental and
interrupted syncs, and a disconnect that deletes the data."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import wait_until
from tests.sync.helpers import bare_connection, connect_org, start_sync, wait_for_run
from wizard.xero.streams import stream
from workers.sync import store


def _contact(number: int, updated_ms: int, status: str = "ACTIVE") -> dict:
    return {"ContactID": f"c-{number}", "ContactStatus": status, "UpdatedDateUTC": f"/Date({updated_ms}+0000)/"}


def _write(connection_id: int, items: list[dict], run_id: int | None = None, commit: bool = True) -> None:
    from wizard.extensions import db

    store.upsert_rows(store.record_rows(connection_id, stream("Contacts"), items, datetime(2026, 1, 1), run_id))
    if commit:
        db.session.commit()


def _kept_equals_live(connection_id: int) -> dict[str, int]:
    from wizard.data.summary import live_record_counts, recount_live_records
    from wizard.extensions import db

    db.session.expire_all()
    kept = live_record_counts([connection_id]).get(connection_id, {})
    assert kept == recount_live_records([connection_id]).get(connection_id, {})
    return kept


def test_counts_follow_every_kind_of_record_write(app):
    from wizard.disconnecting import delete_synced_data
    from wizard.extensions import db

    with app.app_context():
        connection_id = bare_connection("Counts test")
        other = bare_connection("Other counts")
        _write(other, [_contact(n, 1_000) for n in range(3)])
        _write(connection_id, [_contact(n, 1_000) for n in range(6)])
        assert _kept_equals_live(connection_id) == {"Contacts": 6}
        # A replayed page and an older copy (which may not archive the newer one) change nothing.
        _write(connection_id, [_contact(n, 1_000) for n in range(6)])
        _write(connection_id, [_contact(1, 500, "ARCHIVED")])
        assert _kept_equals_live(connection_id) == {"Contacts": 6}
        # A newer archived copy leaves the count, a revived one comes back, a new record adds.
        _write(connection_id, [_contact(2, 2_000, "ARCHIVED"), _contact(3, 2_000, "ARCHIVED")])
        _write(connection_id, [_contact(3, 3_000), _contact(7, 3_000)])
        assert _kept_equals_live(connection_id) == {"Contacts": 6}
        # A page whose transaction rolls back (the worker died mid-page) moves nothing.
        _write(connection_id, [_contact(n, 4_000, "ARCHIVED") for n in range(8)], commit=False)
        db.session.rollback()
        assert _kept_equals_live(connection_id) == {"Contacts": 6}
        # The end of a complete full pass tombstones what the run did not see.
        _write(connection_id, [_contact(n, 5_000) for n in (0, 1)], run_id=42)
        store.tombstone_unseen(connection_id, "Contacts", 42)
        db.session.commit()
        assert _kept_equals_live(connection_id) == {"Contacts": 2}
        # A disconnect that deletes the data, in batches: nothing left, the other connection untouched.
        app.config["DISCONNECT_DELETE_BATCH"] = 3
        delete_synced_data(connection_id)
        assert _kept_equals_live(connection_id) == {}
        assert _kept_equals_live(other) == {"Contacts": 3}


@pytest.mark.slow
def test_counts_equal_a_live_count_after_full_incremental_and_interrupted_syncs_and_a_disconnect(
    app, sandbox, fast_sync_worker
):
    from wizard.disconnecting import delete_synced_data

    org = connect_org(app, sandbox, records=300)
    assert wait_for_run(app, start_sync(app, org.connection_id), timeout=120) == "succeeded"
    with app.app_context():
        full = _kept_equals_live(org.connection_id)
    assert full.get("Invoices", 0) > 0

    sandbox.state.advance(60)
    sandbox.state.modify_records(org.tenant_id, "invoices", 5)
    sandbox.state.void_records(org.tenant_id, "invoices", 4)
    assert wait_for_run(app, start_sync(app, org.connection_id), timeout=120) == "succeeded"
    with app.app_context():
        incremental = _kept_equals_live(org.connection_id)
    assert incremental["Invoices"] == full["Invoices"] - 4

    # Interrupted: Xero fails until the job gives up mid-run; RQ's retry resumes and replays pages.
    sandbox.state.advance(60)
    sandbox.state.void_records(org.tenant_id, "invoices", 3)
    sandbox.state.faults.set_latency(0.05, org.tenant_id)
    run_id = start_sync(app, org.connection_id)
    wait_until(lambda: any(r["path"].endswith("/Invoices") for r in sandbox.state.requests(tenant=org.tenant_id)))
    sandbox.state.faults.fail_next_requests(5, 500, org.tenant_id)
    wait_until(lambda: sum(r["status"] == 500 for r in sandbox.state.requests(tenant=org.tenant_id)) == 5, timeout=30)
    sandbox.state.faults.set_latency(0, org.tenant_id)
    assert wait_for_run(app, run_id, timeout=120) == "succeeded"
    with app.app_context():
        assert _kept_equals_live(org.connection_id)["Invoices"] == incremental["Invoices"] - 3
        delete_synced_data(org.connection_id)
        assert _kept_equals_live(org.connection_id) == {}
