"""Sandbox-only admin HTTP API (JSON) under /sandbox: clock, request log, faults, limits and
actions a Xero user or Xero itself takes (disconnect, role change, org delete/reset/resize,
token revocation, record edits)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from .state import current_sandbox

bp = Blueprint("admin", __name__, url_prefix="/sandbox")


def body() -> dict:
    return request.get_json(silent=True) or {}


def bad(message: str, status: int = 400):
    return jsonify({"error": message}), status


@bp.errorhandler(KeyError)
def unknown(error: KeyError):
    return bad(f"not found: {error.args[0] if error.args else ''}", 404)


@bp.errorhandler(ValueError)
def invalid(error: ValueError):
    return bad(str(error))


@bp.get("/")
def index():
    """What the admin API offers."""
    return jsonify(
        {
            "endpoints": [
                "GET/POST /sandbox/clock {advance|set|freeze}",
                "GET/DELETE /sandbox/requests",
                "GET/POST/DELETE /sandbox/faults",
                "GET/POST/DELETE /sandbox/limits",
                "GET/POST /sandbox/orgs",
                "DELETE /sandbox/orgs/<tenant>",
                "POST /sandbox/orgs/<tenant>/reset",
                "POST /sandbox/orgs/<tenant>/resize {records}",
                "POST /sandbox/orgs/<tenant>/streams/<stream>/modify {count}",
                "POST /sandbox/orgs/<tenant>/streams/<stream>/void {count}",
                "GET /sandbox/users",
                "POST /sandbox/users/<email>/role {tenant_id, role}",
                "POST /sandbox/users/<email>/revoke {client_id?}",
                "GET /sandbox/users/<email>/totp",
                "GET /sandbox/connections",
                "DELETE /sandbox/connections/<id>",
                "POST /sandbox/clients",
                "GET/POST/DELETE /sandbox/webhooks {url, key, client_id?, batch_seconds?, trickle_seconds?}",
            ]
        }
    )


@bp.route("/clock", methods=["GET", "POST"])
def clock():
    """Read, set, advance or freeze the sandbox clock."""
    sandbox = current_sandbox()
    payload = body()
    if "set" in payload:
        sandbox.set_time(payload["set"])
    if "advance" in payload:
        sandbox.advance(float(payload["advance"]))
    if "freeze" in payload:
        sandbox.clock.freeze() if payload["freeze"] else sandbox.clock.unfreeze()
    return jsonify(sandbox.clock.describe())


@bp.route("/requests", methods=["GET", "DELETE"])
def requests_log():
    """The API request log (filter with ?tenant=&status=&path=&method=); DELETE clears it."""
    sandbox = current_sandbox()
    if request.method == "DELETE":
        sandbox.clear_requests()
        return "", 204
    match: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("tenant", "path", "method", "client_id")}
    if "status" in request.args:
        match["status"] = int(request.args["status"])
    return jsonify(sandbox.requests(**match))


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def faults():
    """Inject faults. POST keys: latency, error_rate, tenant_id (for those two), org_offline
    {tenant_id, seconds}, maintenance (seconds), fail_next {count, status, tenant_id},
    revoke_tokens (email), downgrade_role {email, tenant_id, role}, exhaust_daily_limit (tenant id)."""
    sandbox = current_sandbox()
    f = sandbox.faults
    if request.method == "DELETE":
        f.clear()
        return jsonify(f.describe())
    p = body()
    tenant = p.get("tenant_id")
    if "latency" in p:
        f.set_latency(float(p["latency"]), tenant)
    if "error_rate" in p:
        f.set_error_rate(float(p["error_rate"]), tenant, p.get("seed"))
    if "org_offline" in p:
        f.org_offline(p["org_offline"]["tenant_id"], float(p["org_offline"].get("seconds", 300)))
    if "maintenance" in p:
        f.maintenance(float(p["maintenance"]))
    if "fail_next" in p:
        spec = p["fail_next"]
        f.fail_next_requests(int(spec.get("count", 1)), int(spec.get("status", 500)), spec.get("tenant_id"))
    if "revoke_tokens" in p:
        sandbox.revoke_user_tokens(p["revoke_tokens"], p.get("client_id"))
    if "downgrade_role" in p:
        spec = p["downgrade_role"]
        sandbox.set_role(spec["email"], spec["tenant_id"], spec.get("role", "READONLY"))
    if "exhaust_daily_limit" in p:
        sandbox.exhaust_daily_limit(p["exhaust_daily_limit"], p.get("client_id"))
    return jsonify(f.describe())


@bp.route("/limits", methods=["GET", "POST", "DELETE"])
def limits():
    """Read or change rate-limit settings; DELETE resets every counter."""
    sandbox = current_sandbox()
    if request.method == "POST":
        sandbox.limits.configure(**body())
    if request.method == "DELETE":
        sandbox.limits.reset()
    return jsonify(sandbox.limits.describe())


@bp.route("/orgs", methods=["GET", "POST"])
def orgs():
    """List organisations, or create one (same name again regenerates it at the new size)."""
    sandbox = current_sandbox()
    if request.method == "POST":
        p = body()
        if not p.get("name"):
            return bad("name is required")
        tenant_id = sandbox.create_org(
            p["name"], int(p.get("records", 300)), p.get("country", "NZ"), str(p.get("seed", "demo")), p.get("users")
        )
        return jsonify(next(o for o in sandbox.orgs() if o["tenantId"] == tenant_id)), 201
    return jsonify(sandbox.orgs())


@bp.delete("/orgs/<tenant_id>")
def delete_org(tenant_id: str):
    """Delete an organisation (its connections stop working: 403)."""
    current_sandbox().delete_org(tenant_id)
    return "", 204


@bp.post("/orgs/<tenant_id>/reset")
def reset_org(tenant_id: str):
    """Regenerate an organisation's books from its seed."""
    current_sandbox().reset_org(tenant_id)
    return jsonify({"tenantId": tenant_id})


@bp.post("/orgs/<tenant_id>/resize")
def resize_org(tenant_id: str):
    """Regenerate an organisation's books with a new record count."""
    p = body()
    current_sandbox().resize_org(tenant_id, int(p["records"]), p.get("seed"))
    return jsonify(next(o for o in current_sandbox().orgs() if o["tenantId"] == tenant_id))


@bp.post("/orgs/<tenant_id>/streams/<stream>/<action>")
def change_records(tenant_id: str, stream: str, action: str):
    """modify or void N records of a stream (UpdatedDateUTC = sandbox now)."""
    sandbox = current_sandbox()
    count = int(body().get("count", 1))
    if action == "modify":
        ids = sandbox.modify_records(tenant_id, stream, count)
    elif action == "void":
        ids = sandbox.void_records(tenant_id, stream, count)
    else:
        return bad("action must be modify or void", 404)
    return jsonify({"ids": ids})


@bp.get("/users")
def users():
    return jsonify(current_sandbox().users())


@bp.post("/users/<email>/role")
def set_role(email: str):
    """Change a user's role in an organisation (role null removes the user from it)."""
    p = body()
    current_sandbox().set_role(email, p["tenant_id"], p.get("role"))
    return jsonify({"ok": True})


@bp.post("/users/<email>/revoke")
def revoke(email: str):
    """Revoke a user's token sets (all apps, or client_id) and their connections."""
    count = current_sandbox().revoke_user_tokens(email, body().get("client_id"))
    return jsonify({"revoked": count})


@bp.get("/users/<email>/totp")
def totp(email: str):
    """The demo user's current MFA code."""
    return jsonify({"code": current_sandbox().totp_code(email)})


@bp.get("/connections")
def connections():
    return jsonify(current_sandbox().connections(request.args.get("client_id"), request.args.get("user")))


@bp.delete("/connections/<connection_id>")
def remove_connection(connection_id: str):
    """A user removes the app inside Xero (Settings > Connected Apps > Remove)."""
    current_sandbox().remove_connection(connection_id)
    return "", 204


@bp.post("/clients")
def add_client():
    """Register another app: client_id, client_secret (null = PKCE-only), redirect_uris, created, tier."""
    p = body()
    client = current_sandbox().add_client(
        p["client_id"],
        p.get("client_secret"),
        p.get("redirect_uris", []),
        p.get("created", "2026-04-01"),
        p.get("tier", "core"),
        p.get("name", "Sandbox demo app"),
    )
    return jsonify({"client_id": client.client_id, "tier": client.tier}), 201


@bp.route("/webhooks", methods=["GET", "POST", "DELETE"])
def webhooks():
    """The webhook subscription: POST (re)subscribes a delivery URL and key (intent check first),
    DELETE unsubscribes, GET shows its status, sequence numbers and deliveries."""
    sandbox = current_sandbox()
    if request.method == "DELETE":
        sandbox.webhooks.stop()
        return "", 204
    if request.method == "POST":
        p = body()
        described = sandbox.configure_webhooks(
            p.get("url", ""),
            p.get("key", ""),
            p.get("client_id"),
            float(p.get("batch_seconds", 1.0)),
            float(p.get("trickle_seconds", 0)),
        )
        return jsonify(described), 201
    return jsonify(sandbox.webhooks.describe())
