"""`python -m tests.faults.faulty_worker`: the real `python -m workers`, with a database fault hook.

While the file named by FAULT_COMMIT_FILE exists, the next COMMIT of a sync job's page writer (in
any process of this worker) fails as a dropped connection does (OperationalError), and the file is
removed: one fault per file. On SQLite this stands in for PostgreSQL's pg_terminate_backend, which
the tests use there. Only a sync job's commits take it: a periodic duty job in another worker
process committing first would otherwise take the one fault meant for the page (seen under load).
"""

from __future__ import annotations

import os

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session


@event.listens_for(Session, "before_commit")
def _drop_connection(session: Session) -> None:
    path = os.environ.get("FAULT_COMMIT_FILE")
    if not path or not _in_sync_job():
        return
    try:
        os.remove(path)
    except FileNotFoundError:
        return
    raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection unexpectedly"))


def _in_sync_job() -> bool:
    from rq import get_current_job

    job = get_current_job()  # None outside a job, and in a job's fetcher threads
    return job is not None and job.id.startswith("sync-run-")


if __name__ == "__main__":
    from workers.__main__ import main

    main()
