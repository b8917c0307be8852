"""The duty process's cron thread (workers/duties.py) while Redis is unreachable: it says so, keeps
ticking once a second instead of dying, and stops cleanly (its registry entry expires by itself)."""

from __future__ import annotations

import logging

from tests.conftest import _free_port, wait_until
from wizard.jobs import QueueHolder


def test_the_cron_thread_outlives_a_redis_it_cannot_reach(app, caplog):
    from workers.duties import CronThread, build_cron

    caplog.set_level(logging.WARNING, logger="workers.duties")
    working = app.extensions["rq"]
    down = QueueHolder(app)
    down.url = f"redis://127.0.0.1:{_free_port()}/0"
    app.extensions["rq"] = down
    try:
        cron = CronThread(build_cron(app, "cron-redis-down")).start()
        try:
            wait_until(lambda: caplog.text.count("cron.tick_failed error=ConnectionError") >= 2, timeout=20)
            assert "cron.birth_not_registered error=ConnectionError" in caplog.text
            assert cron._thread.is_alive(), "a failed tick does not end the thread"
        finally:
            cron.stop()  # registering its death fails too: nothing raised
        assert not cron._thread.is_alive()
    finally:
        app.extensions["rq"] = working
