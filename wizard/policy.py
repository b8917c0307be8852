"""Deny-by-default authorisation: every endpoint is in this table, or nobody may call it.

Rules are about roles; object checks (this connection belongs to the user's workspace, this
support grant is active) are made by the lookups in each blueprint, which 404 on a miss.
"""

from __future__ import annotations

from flask import abort, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from wizard.htmx import full_redirect

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any signed-in account
MEMBER = "member"  # admin or viewer of a workspace
ADMIN = "admin"  # workspace admin
SUPPORT = "support"  # support staff, no customer object (the console lists granted ones only)
SUPPORT_GRANT = "support_grant"  # support staff with an active grant covering <connection_id>

POLICY: dict[str, str] = {
    "static": PUBLIC,
    "index": PUBLIC,
    "health": PUBLIC,
    "ready": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.logout_everywhere": SIGNED_IN,
    "help.xero": PUBLIC,
    "data.index": MEMBER,
    "data.rows": MEMBER,
    "data.picker": ADMIN,  # a viewer cannot connect, so is not offered the picker
    "data.connection": MEMBER,
    "data.sync_status": MEMBER,
    "data.sync_now": ADMIN,
    "books.overview": MEMBER,
    "books.accounts": MEMBER,
    "books.profit_and_loss": MEMBER,
    "books.reconciliation": MEMBER,
    "books.pnl_by_tracking": MEMBER,
    "books.budget_against_actual": MEMBER,
    "books.scheduled": MEMBER,
    "data.confirm_disconnect": ADMIN,
    "data.disconnect": ADMIN,
    "connect.reconnect": ADMIN,
    "connect.start": ADMIN,
    "connect.authorize": ADMIN,
    "connect.login": ADMIN,
    "connect.callback": ADMIN,
    "connect.organisations": ADMIN,
    "connect.choose_organisation": ADMIN,
    "connect.confirm": ADMIN,
    "connect.create_connection": ADMIN,
    "connect.connect_all": ADMIN,
    "connect.reconnect_now": ADMIN,
    "connect.remove_unused": ADMIN,
    "connect.complete": ADMIN,
    "support.console": SUPPORT,
    "support.doctor": SUPPORT_GRANT,
    "support.rerun_sync": SUPPORT_GRANT,
    "support.recheck": SUPPORT_GRANT,
    "support.grants": ADMIN,
    "support.create_grant": ADMIN,
    "support.grant": ADMIN,
    "support.revoke_grant": ADMIN,
    # Temporary access to the customer's Xero (issue 8): support asks under a grant ...
    "xero_access.request_form": SUPPORT_GRANT,
    "xero_access.create_request": SUPPORT_GRANT,
    "xero_access.mark_done": SUPPORT_GRANT,
    # ... and the workspace's admins answer and track it.
    "xero_access.guide": ADMIN,
    "xero_access.accept": ADMIN,
    "xero_access.decline": ADMIN,
    "xero_access.mark_invited": ADMIN,
    "xero_access.mark_removed": ADMIN,
    "settings.workspace": ADMIN,
    "settings.save_workspace": ADMIN,
    "notifications.index": ADMIN,
    "notifications.mark_read": ADMIN,
    # Xero's webhook deliveries: anyone may call, only a correct x-xero-signature gets past the view.
    "webhooks.xero": PUBLIC,
}

_ROLES_ALLOWED = {
    MEMBER: {"admin", "viewer"},
    ADMIN: {"admin"},
    SUPPORT: {"support"},
    SUPPORT_GRANT: {"support"},
}


def enforce() -> ResponseReturnValue | None:
    """before_request hook: unknown endpoints are refused; roles are checked for the rest."""
    if request.endpoint is None:
        return None  # 404/405 from routing
    rule = POLICY.get(request.endpoint)
    if rule is None:
        abort(403)
    if rule == PUBLIC:
        return None
    if not current_user.is_authenticated:
        from flask import url_for

        from wizard.auth import say_if_sign_in_ended

        say_if_sign_in_ended()
        return full_redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if rule == SIGNED_IN:
        return None
    if current_user.role not in _ROLES_ALLOWED[rule]:
        if current_user.role == "support":
            # Staff stepping outside their lane is a failed authorisation worth auditing.
            from wizard.support.access import record_denied_role

            record_denied_role()
        abort(403)
    if rule in (MEMBER, ADMIN) and current_user.workspace_id is None:
        abort(403)
    if rule == SUPPORT_GRANT:
        # Checked against the DB and the clock on every request: revocation and expiry bite at once.
        from wizard.support.access import require_grant

        require_grant((request.view_args or {}).get("connection_id"))
    return None
