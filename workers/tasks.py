"""Thin job entry points. They assume an app context (the worker script pushes one)."""

from __future__ import annotations

from workers.sync.engine import SyncEngine


def run_sync(sync_run_id: int) -> dict:
    """Run (or resume) one sync run; returns counts only, never a token."""
    return SyncEngine(sync_run_id).run()
