"""Readiness of one web process: can it reach the shared services every request depends on."""

from __future__ import annotations

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from wizard import jobs
from wizard.extensions import db


def readiness() -> dict[str, str]:
    """`ok` or `unreachable` for the database and Redis (never an error text: the check is public)."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        checks["database"] = "unreachable"
    try:
        jobs.redis().ping()
        checks["redis"] = "ok"
    except RedisError:
        checks["redis"] = "unreachable"
    return checks
