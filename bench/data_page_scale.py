"""Server time of the Data page (and the pages that show record counts) at scale: N records.

Fills a database with one connection holding N records (default 500k, one in 50 a tombstone), written
the way pages are (set-based INSERTs, so the database's own bookkeeping runs as in a sync), then
requests each page in-process (Flask test client, signed in as a viewer): the server's time per
page, queries, Python and template, no network. Prints figures; asserts nothing about time.

The database is emptied first: give it one of its own.

    .venv/bin/python bench/data_page_scale.py --database-url postgresql://.../bench [--records 500000]
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

from books_pages import _median_ms, _viewer_client  # noqa: E402

STREAMS = ("Invoices", "Contacts", "BankTransactions", "Payments", "Journals")
BATCH = 50_000


def _fill(connection_id: int, records: int, dialect: str) -> None:
    from sqlalchemy import text

    from wizard.extensions import db

    numbers = (
        "SELECT generate_series(:start, :stop - 1) AS n"
        if dialect == "postgresql"
        else "WITH RECURSIVE s(n) AS (SELECT :start UNION ALL SELECT n + 1 FROM s WHERE n + 1 < :stop) SELECT n FROM s"
    )
    streams = " ".join(f"WHEN {i} THEN '{name}'" for i, name in enumerate(STREAMS))
    insert = text(
        "INSERT INTO xero_record (connection_id, stream, xero_id, status, tombstoned, payload, synced_at) "
        f"SELECT :connection_id, CASE n % {len(STREAMS)} {streams} END, 'r-' || n, '', n % 50 = 0, "
        "'{\"bench\": true}', CURRENT_TIMESTAMP "
        f"FROM ({numbers}) AS numbers"
    )
    for start in range(0, records, BATCH):  # one transaction per batch, as pages commit
        db.session.execute(
            insert, {"connection_id": connection_id, "start": start, "stop": min(start + BATCH, records)}
        )
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-data-scale-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    os.environ.setdefault("WIZARD_INSTANCE_PATH", str(tmp / "instance"))
    from sqlalchemy import MetaData

    from wizard import create_app
    from wizard.extensions import db
    from wizard.models import Connection, StreamProgress, SyncRun, Workspace

    app = create_app(
        {"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url}
    )
    with app.app_context():
        leftovers = MetaData()
        leftovers.reflect(bind=db.engine)
        leftovers.drop_all(bind=db.engine)
        db.create_all()
        workspace = Workspace(name="Scale bench")
        db.session.add(workspace)
        db.session.flush()
        connection = Connection(workspace_id=workspace.id, tenant_id="scale", tenant_name="Scale Ltd")
        connection.move_to("synced")
        db.session.add(connection)
        db.session.flush()
        run = SyncRun(connection_id=connection.id, state="succeeded", records=args.records)
        run.streams = [StreamProgress(stream=s, state="done") for s in STREAMS]
        db.session.add(run)
        db.session.commit()
        connection_id = connection.id
        started = time.perf_counter()
        _fill(connection_id, args.records, db.engine.dialect.name)
        filled = time.perf_counter() - started
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                raw.exec_driver_sql("VACUUM ANALYZE xero_record")
        dialect = db.engine.dialect.name
    client = _viewer_client(app, connection_id)
    pages = {
        "Data page": ("/data", {}, 200),
        "Data rows (poll)": ("/data/rows", {"HX-Request": "true"}, 200),
        "Connection page": (f"/data/connections/{connection_id}", {}, 200),
        "Sync status (poll)": (f"/data/connections/{connection_id}/status", {"HX-Request": "true"}, 200),
    }
    print(f"[{dialect}, {args.records:,} records, filled in {filled:.1f} s] server time, median of {args.repeat}")
    for label, (path, headers, status) in pages.items():
        print(f"    {label:24} {_median_ms(client, path, headers, status, args.repeat) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
