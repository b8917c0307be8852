"""T-27: after a 429 with Retry-After (here about 7 s) the next call to that tenant waits at
least that long. (In-flight <= 5 and <= 60 a minute, day-limit parking and the 503 backoff:
tests/sync/test_faults.py::test_governor_keeps_under_5_in_flight_and_60_a_minute,
::test_daily_limit_parks_the_run_visibly_and_it_resumes_by_itself,
::test_organisation_offline_pauses_keeps_checkpoint_and_recovers.)"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.sync.helpers import connect_org, start_sync, wait_for_run

RACE = 0.1  # seconds: a response in flight on loopback, plus the other threads' governor admission


@pytest.mark.slow
def test_t27_next_call_waits_at_least_retry_after(app, sandbox, workers):
    sandbox.state.limits.configure(time_scale=60 / 7, minute=14)  # a Xero minute lasts 7 s
    worker = workers()
    org = connect_org(app, sandbox, records=100)
    assert wait_for_run(app, start_sync(app, org.connection_id), timeout=90) == "succeeded"
    calls = [r for r in sandbox.state.requests(tenant=org.tenant_id) if r["path"].startswith("/api.xro/")]
    ends = [datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")).timestamp() for r in calls]
    starts = [end - r["duration_ms"] / 1000 for end, r in zip(ends, calls, strict=True)]
    waits = [float(s) for s in re.findall(r"governor\.blocked tenant=\S+ seconds=([\d.]+)", worker.output())]
    limited = [i for i, r in enumerate(calls) if r["status"] == 429 and r["rate_limit_problem"] == "minute"]
    assert limited and waits and max(waits) >= 5, (len(limited), waits)
    first = limited[0]
    # Calls other threads sent before this 429 reached our client (within RACE of it leaving Xero)
    # could not know of it; every call sent after that waited for the Retry-After it carried.
    later = [start for start in starts if start > ends[first] + RACE]
    assert later, "nothing was called after the 429"
    assert min(later) - ends[first] >= waits[0] - 0.05, sorted(round(s - ends[first], 3) for s in later)[:8]
