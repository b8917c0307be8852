"""Tables and their invariants. One module per area; import models from here."""

from wizard.models.accounts import LoginSession, User, Workspace
from wizard.models.connections import Connection, ConnectionEvent, TokenSet
from wizard.models.support import AuditEvent, SupportGrant
from wizard.models.sync import (
    StreamCursor,
    StreamProgress,
    SyncRun,
    XeroRecord,
    XeroReport,
)
from wizard.models.webhooks import ConnectionWebhook
from wizard.models.xero_access import Notification, XeroAccessRequest

__all__ = [
    "AuditEvent",
    "Connection",
    "ConnectionEvent",
    "ConnectionWebhook",
    "LoginSession",
    "Notification",
    "StreamCursor",
    "StreamProgress",
    "SupportGrant",
    "SyncRun",
    "TokenSet",
    "User",
    "Workspace",
    "XeroAccessRequest",
    "XeroRecord",
    "XeroReport",
]
