"""Disconnect benchmark: deleting a big organisation's synced data in bounded batches vs one transaction.

Stores RECORDS rows for one connection (SQLite in a temp folder, or DATABASE_URL), deletes them with
wizard.disconnecting.delete_synced_data (DISCONNECT_DELETE_BATCH rows per transaction), stores them
again and deletes them in one DELETE. Prints the total time of each and the longest transaction:
the batched delete holds locks for one batch at a time, whatever the organisation's size.

    .venv/bin/python bench/disconnect.py [--records 500000] [--batch 5000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-disconnect-")
    os.environ.setdefault("WIZARD_INSTANCE_PATH", folder)
    from sqlalchemy import delete, event, insert, text

    from wizard import create_app
    from wizard.disconnecting import delete_synced_data
    from wizard.extensions import db
    from wizard.models import Connection, Workspace, XeroRecord

    app = create_app({"DISCONNECT_DELETE_BATCH": args.batch})
    with app.app_context():
        db.drop_all()
        db.create_all()
        workspace = Workspace(name="Bench")
        db.session.add(workspace)
        db.session.flush()
        connection = Connection(workspace_id=workspace.id, tenant_id="bench", tenant_name="Bench Ltd")
        connection.move_to("disconnecting", "disconnect_delete_data")
        db.session.add(connection)
        db.session.commit()

        def fill() -> None:
            rows = [
                {"connection_id": connection.id, "stream": "Invoices", "xero_id": f"i-{i}", "payload": "{}" * 50}
                for i in range(args.records)
            ]
            for start in range(0, len(rows), 50_000):
                db.session.execute(insert(XeroRecord), rows[start : start + 50_000])
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                # What autovacuum does within a minute of a big sync: planner statistics.
                db.session.execute(text("ANALYZE xero_record"))
                db.session.commit()

        commits: list[float] = []
        event.listen(db.session, "after_commit", lambda session: commits.append(time.perf_counter()))
        fill()
        commits.clear()
        started = time.perf_counter()
        deleted = delete_synced_data(connection.id)
        batched = time.perf_counter() - started
        gaps = [b - a for a, b in zip([started, *commits], commits, strict=False)]
        fill()
        started = time.perf_counter()
        db.session.execute(delete(XeroRecord).where(XeroRecord.connection_id == connection.id))
        db.session.commit()
        single = time.perf_counter() - started
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':', 1)[0]}  records: {args.records:,}")
    print(f"batched delete ({args.batch:,} rows per transaction): {deleted:,} rows, {len(gaps)} transactions")
    print(f"  total {batched:.2f} s, longest transaction {max(gaps):.3f} s")
    print(f"single DELETE (one transaction): total {single:.2f} s")
    print(f"longest batched transaction / single transaction: {max(gaps) / single:.3f}")
    print(f"batched total / single total: {batched / single:.2f}")


if __name__ == "__main__":
    main()
