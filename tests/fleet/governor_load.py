"""One process of the app-wide governor test: take call slots for several tenants as fast as the
governor admits them, for a while, and print when each was admitted (JSON on stdout).

Run as `python -m tests.fleet.governor_load REDIS_URL PREFIX SECONDS TENANT...`.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from redis import Redis

from workers.sync.governor import Governor, Limits

LIMITS = Limits(concurrent=5, per_minute=60, per_day=0, time_scale=60.0, app_per_minute=40, app_share=1.0)


def hammer(governor: Governor, until: float, admitted: list[tuple[str, float]]) -> None:
    while time.time() < until:
        with governor.slot():
            admitted.append((governor.tenant_id, governor.admitted_at))
            time.sleep(0.002)  # a very fast "call"


def main() -> None:
    url, prefix, seconds, tenants = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
    redis = Redis.from_url(url)
    until = time.time() + seconds
    admitted: list[tuple[str, float]] = []
    threads = [
        threading.Thread(target=hammer, args=(Governor(redis, tenant, LIMITS, prefix=prefix), until, admitted))
        for tenant in tenants
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    json.dump(admitted, sys.stdout)


if __name__ == "__main__":
    main()
