"""`python -m tests.faults.faulty_worker`: the real `python -m workers`, with a database fault hook.

While the file named by FAULT_COMMIT_FILE exists, the next COMMIT in any process of this worker
fails as a dropped connection does (OperationalError), and the file is removed: one fault per file.
On SQLite this stands in for PostgreSQL's pg_terminate_backend, which the tests use there.
"""

from __future__ import annotations

import os

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session


@event.listens_for(Session, "before_commit")
def _drop_connection(session: Session) -> None:
    path = os.environ.get("FAULT_COMMIT_FILE")
    if not path:
        return
    try:
        os.remove(path)
    except FileNotFoundError:
        return
    raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection unexpectedly"))


if __name__ == "__main__":
    from workers.__main__ import main

    main()
