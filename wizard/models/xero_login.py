"""A Xero login in progress, kept server-side: the browser's cookie holds only its opaque id.

Before the callback it holds what must stay secret until then (state, PKCE verifier, nonce);
after it, what the later wizard steps need (the token set, the organisations Xero authorised,
the one chosen). It belongs to one user in one workspace and its callback is accepted once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wizard.clock import utcnow
from wizard.extensions import Model

if TYPE_CHECKING:
    from wizard.models.connections import TokenSet


class XeroLogin(Model):
    __tablename__ = "xero_login"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # opaque, random; the session's only key
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    state: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(10), default="redirect")  # redirect / popup
    reconnect_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]  # the callback must arrive before this; later, the wizard's steps
    consumed_at: Mapped[datetime | None]  # set once, atomically, by the one callback that wins
    token_set_id: Mapped[int | None] = mapped_column(ForeignKey("token_set.id", ondelete="CASCADE"))
    auth_event_id: Mapped[str] = mapped_column(String(64), default="")
    tenants: Mapped[list | None] = mapped_column(JSON)  # what Xero listed for this login at step 3
    chosen_tenant_id: Mapped[str] = mapped_column(String(64), default="")
    # Read-only: `token_set_id` is what code sets. Once loaded, the login holds its token set, so the
    # steps and banners that check it again in one request find it without another query (the
    # session's identity map holds objects weakly; a token set read and dropped is read again).
    token_set: Mapped[TokenSet | None] = relationship(viewonly=True)
