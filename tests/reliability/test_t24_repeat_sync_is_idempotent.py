"""T-24: the same sync run twice in a row, and asked for twice at the same moment, leaves the
same rows; the second concurrent request joins the first run instead of starting a writer.
(Database guard against two active runs: tests/sync/test_full_sync.py::
test_second_sync_request_joins_the_active_run_and_the_database_refuses_two.)"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.sync.helpers import assert_row_counts_match, connect_org, start_sync, wait_for_run


def _mirror(app, connection_id: int) -> set[tuple]:
    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        return set(
            db.session.execute(
                select(
                    XeroRecord.stream, XeroRecord.xero_id, XeroRecord.status, XeroRecord.tombstoned, XeroRecord.payload
                ).where(XeroRecord.connection_id == connection_id)
            ).all()
        )


@pytest.mark.slow
def test_t24_twice_in_a_row_and_twice_at_once_leave_identical_rows(app, sandbox, workers):
    from concurrent.futures import ThreadPoolExecutor

    workers()
    workers()
    org = connect_org(app, sandbox, records=400)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    first = _mirror(app, org.connection_id)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    assert _mirror(app, org.connection_id) == first
    with ThreadPoolExecutor(2) as pool:
        runs = set(pool.map(lambda _: start_sync(app, org.connection_id), range(2)))
    assert len(runs) == 1
    # a third full run inside one minute waits for Xero's 60-calls-a-minute window (a run of these
    # books makes about 28 calls since the planning streams and reports were added)
    assert wait_for_run(app, runs.pop(), timeout=150) == "succeeded"
    assert _mirror(app, org.connection_id) == first
    assert_row_counts_match(app, sandbox, org)
