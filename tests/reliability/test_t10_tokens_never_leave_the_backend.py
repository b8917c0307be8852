"""T-10: no Location header, rendered page, RQ job argument, meta or result holds a token value.
(Callback headers Referrer-Policy: no-referrer and Cache-Control: no-store:
tests/security/test_web_security.py::test_t10_oauth_responses_are_not_cached_and_send_no_referrer.)"""

from __future__ import annotations

import zlib

import pytest
from rq.job import Job

from tests.conftest import WorkerProcess
from tests.faults.invariants import holds_jwt
from tests.reliability.flows import connect_via_wizard, stored_tokens
from tests.sync.helpers import wait_for_run


def _redis_text(redis) -> str:
    """Every value in the test Redis as text (job payloads are zlib-compressed pickles)."""
    chunks = []
    for key in redis.scan_iter(count=1000):
        kind = redis.type(key).decode()
        if kind == "string":
            values = [redis.get(key)]
        elif kind == "hash":
            values = list(redis.hgetall(key).values())
        elif kind in ("list",):
            values = redis.lrange(key, 0, -1)
        elif kind == "set":
            values = list(redis.smembers(key))
        elif kind == "zset":
            values = [m for m, _ in redis.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            values = [v for _, fields in redis.xrange(key) for v in fields.values()]
        else:
            values = []
        chunks.append(key.decode(errors="replace"))
        for value in values:
            if value is None:
                continue
            try:
                value = zlib.decompress(value)
            except zlib.error:
                pass
            chunks.append(value.decode(errors="replace"))
    return "\n".join(chunks)


@pytest.mark.slow
def test_t10_no_token_in_locations_pages_or_rq_jobs(app, auth, client, sandbox, test_env, tmp_path):
    from wizard import jobs
    from wizard.extensions import db
    from wizard.models import SyncRun

    auth.as_new("admin")
    _, connection_id, responses = connect_via_wizard(app, client, sandbox)
    worker = WorkerProcess(test_env, tmp_path / "worker.log").start()
    try:
        with app.app_context():
            run = db.session.scalars(db.select(SyncRun).where(SyncRun.connection_id == connection_id)).one()
            job_id = run.rq_job_id
        assert wait_for_run(app, run.id) == "succeeded"
        responses.append(client.get(f"/data/connections/{connection_id}/status"))
    finally:
        worker.stop()
    tokens = stored_tokens(app)
    assert len(tokens) == 2
    for response in responses:
        seen = response.headers.get("Location", "") + response.get_data(as_text=True)
        assert not [t for t in tokens if t in seen], f"{response.request.path} shows a token"
        assert not holds_jwt(seen)
    with app.app_context():
        redis = jobs.redis()
        job = Job.fetch(job_id, connection=redis)
        assert job.args == (run.id,) and not job.kwargs
        assert isinstance(job.return_value(), dict)
        described = repr((job.args, job.kwargs, job.meta, job.return_value(), job.description))
        assert not [t for t in tokens if t in described]
        everything = _redis_text(redis)
    assert job_id in everything, "the Redis scan found no job: it proves nothing"
    assert not [t for t in tokens if t in everything] and not holds_jwt(everything)
