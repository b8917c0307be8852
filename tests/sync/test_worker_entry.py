"""`python -m workers`'s serve loop (workers/__main__.py), in-process: Redis lost under a worker
is logged and the loop waits for Redis before serving again; a burst worker returns once its queue
is empty. The real process is exercised by tests/faults (Redis restart, kill -9)."""

from __future__ import annotations

import logging
import signal
from types import SimpleNamespace

import pytest
from redis import Redis
from rq import SimpleWorker, Worker

from tests.conftest import _free_port
from wizard import jobs


@pytest.fixture(autouse=True)
def _signal_handlers():
    """RQ's worker installs its SIGINT/SIGTERM handlers in the process it runs in: give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _unreachable() -> Redis:
    return Redis(host="127.0.0.1", port=_free_port(), socket_connect_timeout=0.2, socket_timeout=0.2)


def test_a_burst_worker_whose_redis_is_gone_logs_it_and_returns(app, caplog):
    from workers.__main__ import serve

    caplog.set_level(logging.ERROR, logger="workers")
    built = []

    def new_worker():
        worker = Worker([jobs.queue()], connection=jobs.redis(), name="entry-test")
        worker.connection = _unreachable()  # Redis goes away once the worker is built
        built.append(worker)
        return worker

    with app.app_context():
        serve(app, new_worker, burst=True, with_scheduler=False)
    assert len(built) == 1, "a burst worker is not served again"
    assert "worker.redis_lost error=" in caplog.text


def test_a_burst_worker_runs_what_is_queued_then_returns(app):
    from workers.__main__ import serve

    with app.app_context():
        queue = jobs.queue()
        job = queue.enqueue("workers.tasks.support_duties")
        serve(app, lambda: SimpleWorker([queue], connection=jobs.redis()), burst=True, with_scheduler=False)
        job.refresh()
        assert job.get_status() == "finished"
        assert job.return_value() == {"grants_expired": 0, "reminders": 0}
        assert queue.count == 0


def test_waiting_for_redis_pings_until_it_answers(monkeypatch):
    from workers import __main__ as entry

    answers = iter([ConnectionError, ConnectionError, True])
    pauses: list[float] = []

    class Flaky:
        def ping(self):
            answer = next(answers)
            if answer is ConnectionError:
                from redis.exceptions import ConnectionError as RedisDown

                raise RedisDown("Connection refused")
            return answer

    monkeypatch.setattr(entry.time, "sleep", pauses.append)
    entry.wait_for_redis(SimpleNamespace(extensions={"rq": SimpleNamespace(redis=Flaky())}), pause=0.25)
    assert pauses == [0.25, 0.25]


@pytest.mark.parametrize("name, expected", [(None, None), ("w1", "w1-duties")])
def test_the_duty_process_is_named_after_the_worker(test_env, monkeypatch, name, expected):
    """`--name w1` names the sync worker `w1` and the duty worker `w1-duties` (RQ's own names otherwise)."""
    from workers import __main__ as entry

    started = []

    class DutyProcess:
        def __init__(self, target, args, name):
            started.append((target, args))

        def start(self):
            pass

        def is_alive(self):
            return False

    Context = SimpleNamespace(Process=DutyProcess)

    served = []
    monkeypatch.setattr(entry.multiprocessing, "get_context", lambda method: Context)
    monkeypatch.setattr(entry, "serve", lambda app, new_worker, burst, scheduler: served.append((burst, scheduler)))
    monkeypatch.setattr("sys.argv", ["workers", *(["--name", name] if name else [])])
    entry.main()
    assert [(target, args[1]) for target, args in started] == [(entry.serve_duties, expected)]
    assert served == [(False, True)]
