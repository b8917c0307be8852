"""Tables and their invariants. One module per area; import models from here."""

from wizard.models import record_owner  # noqa: F401  (its triggers are created with xero_record)
from wizard.models.accounts import LoginSession, User, Workspace
from wizard.models.books import BookTotal
from wizard.models.connections import Connection, ConnectionEvent, TokenSet
from wizard.models.notifications import Notification
from wizard.models.record_counts import RecordCount
from wizard.models.support import AuditEvent, SupportGrant
from wizard.models.sync import (
    StreamCursor,
    StreamProgress,
    SyncRun,
    XeroRecord,
    XeroReport,
)
from wizard.models.webhooks import ConnectionWebhook
from wizard.models.xero_access import XeroAccessRequest
from wizard.models.xero_login import XeroLogin

__all__ = [
    "AuditEvent",
    "BookTotal",
    "Connection",
    "ConnectionEvent",
    "ConnectionWebhook",
    "LoginSession",
    "Notification",
    "RecordCount",
    "StreamCursor",
    "StreamProgress",
    "SupportGrant",
    "SyncRun",
    "TokenSet",
    "User",
    "Workspace",
    "XeroAccessRequest",
    "XeroLogin",
    "XeroRecord",
    "XeroReport",
]
