"""Run one sync: every stream, page by page, each page committed with its checkpoint."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, StreamCursor, StreamProgress, SyncRun, XeroRecord
from wizard.xero.api import XeroApi, XeroResponse, parse_xero_date
from wizard.xero.errors import InvalidGrant, OrganisationOffline, RateLimited, TenantForbidden, XeroError
from wizard.xero.tokens import access_token
from workers.sync.streams import PAGE_SIZE, STREAMS, TOMBSTONE_STATUSES, Stream

log = logging.getLogger(__name__)


class SyncEngine:
    def __init__(self, sync_run_id: int) -> None:
        self.run_id = sync_run_id
        self.api = XeroApi(current_app.config["XERO_API_URL"], timeout=current_app.config["XERO_HTTP_TIMEOUT"])

    def run(self) -> dict[str, Any]:
        run = db.session.get(SyncRun, self.run_id)
        if run is None or run.finished:
            return {"skipped": True}
        connection = db.session.get(Connection, run.connection_id)
        run.start()
        connection.move_to("syncing", run.kind)
        self._prepare_progress(run, connection)
        db.session.commit()
        log.info("sync.start run=%s connection=%s attempt=%s", run.id, connection.id, run.attempts)
        try:
            for progress in run.streams:
                if progress.state in ("done", "skipped"):
                    continue
                self._sync_stream(run, connection, progress)
        except XeroError as exc:
            db.session.rollback()
            return self._handle_xero_error(exc)
        run.succeed()
        connection.move_to("synced", "")
        connection.last_synced_at = run.finished_at
        connection.next_sync_at = run.finished_at + timedelta(minutes=connection.sync_interval_minutes)
        db.session.commit()
        log.info("sync.done run=%s records=%s calls=%s", run.id, run.records, run.calls)
        return {"records": run.records, "calls": run.calls}

    def _prepare_progress(self, run: SyncRun, connection: Connection) -> None:
        if run.streams:
            return
        granted = set(connection.token_set.scope_list) if connection.token_set else set()
        for position, stream in enumerate(STREAMS):
            progress = StreamProgress(stream=stream.name, position=position)
            if granted and not granted.intersection(stream.scopes):
                progress.state, progress.note = "skipped", "Not synced: the Xero login did not grant this data."
            run.streams.append(progress)

    def _cursor(self, connection_id: int, stream: Stream) -> StreamCursor:
        cursor = db.session.scalar(
            select(StreamCursor).where(StreamCursor.connection_id == connection_id, StreamCursor.stream == stream.name)
        )
        if cursor is None:
            cursor = StreamCursor(connection_id=connection_id, stream=stream.name)
            db.session.add(cursor)
        return cursor

    def _call(self, run: SyncRun, connection: Connection, progress: StreamProgress, stream: Stream,
              params: dict[str, Any], since) -> XeroResponse:
        token = access_token(connection.token_set_id)
        response = self.api.get(stream.resource, token, connection.tenant_id, params=params, if_modified_since=since)
        run.calls += 1
        progress.calls += 1
        progress.correlation_id = response.correlation_id
        limits = response.limits
        connection.min_limit_remaining = limits.minute
        connection.day_limit_remaining = limits.day
        connection.app_min_limit_remaining = limits.app_minute
        return response

    def _sync_stream(self, run: SyncRun, connection: Connection, progress: StreamProgress) -> None:
        stream = next(s for s in STREAMS if s.name == progress.stream)
        cursor = self._cursor(connection.id, stream)
        checkpoint = cursor.checkpoint if cursor.checkpoint_run_id == run.id and cursor.checkpoint else {}
        since = cursor.watermark if stream.modified_since else None
        page = int(checkpoint.get("page", 1))
        progress.state = "running"
        db.session.commit()
        while True:
            params: dict[str, Any] = {}
            if stream.paging == "page":
                params = {"page": page, "pageSize": PAGE_SIZE, "order": f"{stream.key} ASC"}
            response = self._call(run, connection, progress, stream, params, since)
            items = (response.body or {}).get(stream.collection) or []
            pagination = (response.body or {}).get("pagination") or {}
            if "itemCount" in pagination:
                progress.total = int(pagination["itemCount"])
            self._upsert(connection.id, stream, items)
            progress.done += len(items)
            run.records += len(items)
            last_page = stream.paging != "page" or len(items) < PAGE_SIZE
            if last_page:
                # The next run asks for changes since this run began (not since the last record).
                cursor.watermark = run.started_at
                cursor.checkpoint, cursor.checkpoint_run_id = None, None
                progress.state = "done"
                if progress.total is None:
                    progress.total = progress.done
            else:
                page += 1
                cursor.checkpoint, cursor.checkpoint_run_id = {"page": page}, run.id
            db.session.commit()  # rows + checkpoint + progress in one transaction
            if last_page:
                return

    def _upsert(self, connection_id: int, stream: Stream, items: list[dict[str, Any]]) -> None:
        by_id = {str(item[stream.key]): item for item in items if item.get(stream.key)}
        if not by_id:
            return
        existing = {
            r.xero_id: r
            for r in db.session.scalars(
                select(XeroRecord).where(
                    XeroRecord.connection_id == connection_id,
                    XeroRecord.stream == stream.name,
                    XeroRecord.xero_id.in_(list(by_id)),
                )
            )
        }
        now = utcnow()
        for xero_id, item in by_id.items():
            status = str(item.get("Status") or item.get("ContactStatus") or "")
            record = existing.get(xero_id)
            if record is None:
                record = XeroRecord(connection_id=connection_id, stream=stream.name, xero_id=xero_id)
                db.session.add(record)
            record.status = status
            record.tombstoned = status in TOMBSTONE_STATUSES
            record.xero_updated_at = parse_xero_date(item.get(stream.updated_field))
            record.payload = json.dumps(item, separators=(",", ":"))
            record.synced_at = now

    def _handle_xero_error(self, exc: XeroError) -> dict[str, Any]:
        run = db.session.get(SyncRun, self.run_id)
        connection = db.session.get(Connection, run.connection_id)
        if isinstance(exc, (OrganisationOffline, RateLimited)):
            wait = exc.retry_after or (300 if isinstance(exc, OrganisationOffline) else 60)
            until = utcnow() + timedelta(seconds=wait)
            run.pause(until, exc.kind)
            connection.move_to("paused", exc.kind)
            db.session.commit()
            from wizard.syncing import schedule_resume

            schedule_resume(run, until)
            return {"paused_until": until.isoformat()}
        if isinstance(exc, TenantForbidden):
            connection.move_to("disconnected", exc.kind, str(exc))
        elif isinstance(exc, InvalidGrant):
            connection.move_to("needs_reauth", exc.kind, str(exc))
        else:
            connection.move_to("failed", exc.kind, str(exc))
        run.fail(exc.kind, str(exc), exc.correlation_id)
        db.session.commit()
        log.warning("sync.failed run=%s kind=%s", run.id, exc.kind)
        return {"failed": exc.kind}
