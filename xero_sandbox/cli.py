"""`python -m xero_sandbox admin ...`: the admin HTTP API from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request


def call(base: str, method: str, path: str, payload: dict | None = None):
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(
        base.rstrip("/") + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return error.code, json.loads(text) if text.startswith(("{", "[")) else text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m xero_sandbox admin")
    parser.add_argument("--url", default=os.environ.get("XERO_SANDBOX_URL", "http://127.0.0.1:5055"))
    sub = parser.add_subparsers(dest="command", required=True)
    clock = sub.add_parser("clock", help="show, advance or set the clock")
    clock.add_argument("--advance", type=float)
    clock.add_argument("--set")
    log = sub.add_parser("requests", help="show or clear the request log")
    log.add_argument("--clear", action="store_true")
    log.add_argument("--tenant")
    faults = sub.add_parser("faults", help="inject or clear faults")
    faults.add_argument("--latency", type=float)
    faults.add_argument("--error-rate", type=float)
    faults.add_argument("--tenant")
    faults.add_argument("--offline", metavar="TENANT_ID")
    faults.add_argument("--seconds", type=float, default=300)
    faults.add_argument("--maintenance", type=float, metavar="SECONDS")
    faults.add_argument("--exhaust-day", metavar="TENANT_ID")
    faults.add_argument("--clear", action="store_true")
    limits = sub.add_parser("limits", help="show or change rate limits")
    limits.add_argument("--enable", action="store_true")
    limits.add_argument("--disable", action="store_true")
    limits.add_argument("--time-scale", type=float)
    limits.add_argument("--reset", action="store_true")
    sub.add_parser("orgs", help="list organisations")
    create = sub.add_parser("create-org", help="create or regenerate an organisation")
    create.add_argument("name")
    create.add_argument("--records", type=int, default=300)
    create.add_argument("--country", default="NZ")
    create.add_argument("--seed", default="demo")
    for name in ("delete-org", "reset-org"):
        sub.add_parser(name).add_argument("tenant_id")
    resize = sub.add_parser("resize-org")
    resize.add_argument("tenant_id")
    resize.add_argument("records", type=int)
    for name in ("modify", "void"):
        change = sub.add_parser(name, help=f"{name} N records of a stream")
        change.add_argument("tenant_id")
        change.add_argument("stream")
        change.add_argument("count", type=int)
    role = sub.add_parser("role", help="change a user's role in an organisation")
    role.add_argument("email")
    role.add_argument("tenant_id")
    role.add_argument("role")
    sub.add_parser("revoke", help="revoke a user's tokens").add_argument("email")
    sub.add_parser("disconnect", help="remove a connection").add_argument("connection_id")
    sub.add_parser("connections")
    sub.add_parser("users")
    sub.add_parser("totp").add_argument("email")
    return parser


def route(args) -> tuple[str, str, dict | None]:
    c = args.command
    if c == "clock":
        payload = {k: v for k, v in (("advance", args.advance), ("set", args.set)) if v is not None}
        return ("POST" if payload else "GET"), "/sandbox/clock", payload or None
    if c == "requests":
        if args.clear:
            return "DELETE", "/sandbox/requests", None
        return "GET", "/sandbox/requests" + (f"?tenant={args.tenant}" if args.tenant else ""), None
    if c == "faults":
        if args.clear:
            return "DELETE", "/sandbox/faults", None
        payload = {"tenant_id": args.tenant}
        if args.latency is not None:
            payload["latency"] = args.latency
        if args.error_rate is not None:
            payload["error_rate"] = args.error_rate
        if args.offline:
            payload["org_offline"] = {"tenant_id": args.offline, "seconds": args.seconds}
        if args.maintenance is not None:
            payload["maintenance"] = args.maintenance
        if args.exhaust_day:
            payload["exhaust_daily_limit"] = args.exhaust_day
        return "POST", "/sandbox/faults", payload
    if c == "limits":
        if args.reset:
            return "DELETE", "/sandbox/limits", None
        payload = {}
        if args.enable or args.disable:
            payload["enabled"] = bool(args.enable)
        if args.time_scale:
            payload["time_scale"] = args.time_scale
        return ("POST" if payload else "GET"), "/sandbox/limits", payload or None
    simple = {
        "orgs": ("GET", "/sandbox/orgs"),
        "connections": ("GET", "/sandbox/connections"),
        "users": ("GET", "/sandbox/users"),
    }
    if c in simple:
        return (*simple[c], None)
    if c == "create-org":
        return (
            "POST",
            "/sandbox/orgs",
            {"name": args.name, "records": args.records, "country": args.country, "seed": args.seed},
        )
    if c == "delete-org":
        return "DELETE", f"/sandbox/orgs/{args.tenant_id}", None
    if c == "reset-org":
        return "POST", f"/sandbox/orgs/{args.tenant_id}/reset", {}
    if c == "resize-org":
        return "POST", f"/sandbox/orgs/{args.tenant_id}/resize", {"records": args.records}
    if c in ("modify", "void"):
        return "POST", f"/sandbox/orgs/{args.tenant_id}/streams/{args.stream}/{c}", {"count": args.count}
    if c == "role":
        return "POST", f"/sandbox/users/{args.email}/role", {"tenant_id": args.tenant_id, "role": args.role}
    if c == "revoke":
        return "POST", f"/sandbox/users/{args.email}/revoke", {}
    if c == "disconnect":
        return "DELETE", f"/sandbox/connections/{args.connection_id}", None
    return "GET", f"/sandbox/users/{args.email}/totp", None


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    method, path, payload = route(args)
    status, result = call(args.url, method, path, payload)
    if result is not None:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0 if status < 400 else 1
