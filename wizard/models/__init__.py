"""Tables and their invariants. One module per area; import models from here."""

from wizard.models.accounts import LoginSession, User, Workspace
from wizard.models.connections import Connection, ConnectionEvent, TokenSet
from wizard.models.sync import StreamCursor, StreamProgress, SyncRun, XeroRecord, XeroReport
from wizard.models.support import AuditEvent, SupportGrant

__all__ = [
    "AuditEvent",
    "Connection",
    "LoginSession",
    "ConnectionEvent",
    "StreamCursor",
    "StreamProgress",
    "SupportGrant",
    "SyncRun",
    "TokenSet",
    "User",
    "Workspace",
    "XeroRecord",
    "XeroReport",
]
