"""Step 1's "First copy" figure is measured from our own finished initial syncs, not guessed."""

from __future__ import annotations

import re
from datetime import timedelta


def _runs(app, minutes_by_kind_and_state: list[tuple[str, str, float]]) -> None:
    """A connection with finished runs lasting these many minutes."""
    from wizard.clock import utcnow
    from wizard.extensions import db
    from wizard.models import Connection, SyncRun, User

    with app.app_context():
        user = db.session.query(User).one()
        connection = Connection(workspace_id=user.workspace_id, tenant_id="t-timed", tenant_name="Timed Ltd")
        db.session.add(connection)
        db.session.flush()
        end = utcnow()
        for i, (kind, state, minutes) in enumerate(minutes_by_kind_and_state):
            finished = end - timedelta(hours=i)
            db.session.add(
                SyncRun(
                    connection_id=connection.id,
                    kind=kind,
                    state=state,
                    started_at=finished - timedelta(minutes=minutes),
                    finished_at=finished,
                )
            )
        db.session.commit()


def _first_copy(client) -> str:
    html = client.get("/connect/xero").get_data(as_text=True)
    return re.search(r"<div data-first-copy><strong>First copy</strong> (.*?)</div>", html).group(1)


def test_without_any_timed_first_copy_step_1_says_so_honestly(auth, client):
    auth.as_new()
    assert _first_copy(client).startswith("We have not timed a first copy yet.")


def test_step_1_quotes_the_median_of_successful_initial_syncs_only(app, auth, client):
    auth.as_new()
    # Median of the three successful initial runs is 7 minutes; the failed initial run and the
    # scheduled one (both far longer) must not count.
    _runs(
        app,
        [
            ("initial", "succeeded", 3),
            ("initial", "succeeded", 7),
            ("initial", "succeeded", 40),
            ("initial", "failed", 300),
            ("scheduled", "succeeded", 500),
        ],
    )
    sentence = _first_copy(client)
    assert sentence.startswith("Usually about 7 minutes (the middle of our last 3 first copies).")
    assert "9 in 10" not in sentence  # too few runs to quote a slow tail


def test_with_ten_or_more_runs_step_1_also_quotes_the_slow_tail(app, auth, client):
    auth.as_new()
    _runs(app, [("initial", "succeeded", m) for m in (2, 2, 3, 3, 4, 4, 5, 5, 6, 50)])
    sentence = _first_copy(client)
    assert sentence.startswith("Usually about 4 minutes (the middle of our last 10 first copies).")
    assert "9 in 10 finished within 46 minutes." in sentence


def test_the_fleet_wide_read_behind_step_1_is_answered_by_its_partial_index(app):
    """Step 1 reads the latest first copies of every workspace: an index answers that read, so it
    stays a few index entries when the fleet has made millions of runs (a scan and sort without)."""
    from sqlalchemy import text

    from wizard.extensions import db
    from wizard.first_copy import latest_first_copies

    with app.app_context():
        query = latest_first_copies()
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        with db.engine.connect() as connection:
            if db.engine.dialect.name == "postgresql":
                # The test tables are tiny, where a scan is cheaper: ask which plan the index allows.
                connection.execute(text("SET LOCAL enable_seqscan = off"))
                plan = "\n".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}")))
            else:
                plan = "\n".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "ix_sync_run_timed_first_copy" in plan, plan
    assert "SORT" not in plan.upper().replace("SORT KEY", ""), plan
