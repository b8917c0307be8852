"""What stands in front of every API call: bearer check, tenant check, scopes, rate limits,
faults, Xero's error bodies, the correlation id and the request log."""

from __future__ import annotations

import time
import uuid

import orjson
from flask import Response, g, request

from .faults import MAINTENANCE_TEXT
from .limits import RateLimited
from .scopes import has_read_access
from .state import current_sandbox
from .tokens import BearerError, verify_bearer


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON response from a dict/list, or from already serialised str/bytes."""
    text = body if isinstance(body, str | bytes) else orjson.dumps(body)
    response = Response(text, status=status, mimetype="application/json")
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem(status: int, title: str, detail: str, headers: dict | None = None) -> Response:
    """Xero's problem-details body used for 401/403."""
    return json_response(
        {
            "Type": None,
            "Title": title,
            "Status": status,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
        status,
        headers,
    )


def validation_error(message: str) -> Response:
    """Xero's 400 body."""
    return json_response(
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [{"ValidationErrors": [{"Message": message}]}],
        },
        400,
    )


def query_error(message: str) -> Response:
    """Xero's 400 body for a `where`/`order` its query parser refuses."""
    return json_response({"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}, 400)


def not_found() -> Response:
    return json_response(
        {"Title": "Not Found", "Status": 404, "Detail": "The resource you're looking for cannot be found"}, 404
    )


def plain(status: int, text: str, headers: dict | None = None) -> Response:
    response = Response(text, status=status, mimetype="text/plain")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def rate_limited(limit: RateLimited) -> Response:
    headers = dict(limit.headers)
    headers["X-Rate-Limit-Problem"] = limit.problem
    if limit.retry_after is not None:
        headers["Retry-After"] = str(limit.retry_after)
    return json_response(
        {"Title": "Too Many Requests", "Status": 429, "Detail": f"You have exceeded the rate limit ({limit.problem})"},
        429,
        headers,
    )


def bearer_or_error(sandbox):
    try:
        return verify_bearer(sandbox.key, sandbox.store, request.headers.get("Authorization")), None
    except BearerError as refused:
        return None, problem(401, "Unauthorized", refused.detail)


def tenant_call(endpoint: str, handler) -> Response:
    """Run an accounting handler(books) behind every check Xero makes, in Xero's order."""
    sandbox = current_sandbox()
    if sandbox.faults.in_maintenance():
        return plain(503, MAINTENANCE_TEXT)
    bearer, error = bearer_or_error(sandbox)
    if error:
        return error
    g.client_id = bearer.client_id
    tenant_id = request.headers.get("xero-tenant-id", "").strip().lower()
    g.tenant_id = tenant_id or None
    if not tenant_id or sandbox.store.live_connection(bearer.user_id, bearer.client_id, tenant_id) is None:
        return problem(403, "Forbidden", "AuthenticationUnsuccessful")
    if not has_read_access(endpoint, bearer.scopes):
        return problem(
            401, "Unauthorized", "AuthorizationUnsuccessful", {"WWW-Authenticate": 'Bearer error="insufficient_scope"'}
        )
    client = sandbox.store.clients[bearer.client_id]
    try:
        limit_headers, in_flight = sandbox.limits.acquire(bearer.client_id, tenant_id, client.tier)
    except RateLimited as limit:
        g.in_flight = sandbox.limits.in_flight(bearer.client_id, tenant_id)
        return rate_limited(limit)
    g.in_flight = in_flight
    try:
        decision = sandbox.faults.decide(tenant_id)
        if decision.latency:
            time.sleep(decision.latency)
        if decision.status is not None:
            response = Response(decision.body, status=decision.status, content_type=decision.content_type)
        else:
            response = handler(sandbox.store.orgs[tenant_id].books)
    finally:
        sandbox.limits.release(bearer.client_id, tenant_id)
    for name, value in limit_headers.items():
        response.headers[name] = value
    return response


def app_call(handler) -> Response:
    """Tenant-less calls (/connections): bearer check and the app-wide minute limit only."""
    sandbox = current_sandbox()
    if sandbox.faults.in_maintenance():
        return plain(503, MAINTENANCE_TEXT)
    bearer, error = bearer_or_error(sandbox)
    if error:
        return error
    g.client_id = bearer.client_id
    try:
        headers = sandbox.limits.app_call(bearer.client_id)
    except RateLimited as limit:
        return rate_limited(limit)
    latency = sandbox.faults.decide(None).latency
    if latency:
        time.sleep(latency)
    response = handler(bearer)
    for name, value in headers.items():
        response.headers[name] = value
    return response


LOGGED_PREFIXES = ("/api.xro/", "/connections", "/connect/", "/identity/connect/")


def start_request() -> None:
    g.started = time.perf_counter()


def finish_request(response: Response) -> Response:
    """Correlation id on every response; API calls go to the request log."""
    response.headers.setdefault("Xero-Correlation-Id", str(uuid.uuid4()))
    path = request.path
    if not path.lower().startswith(LOGGED_PREFIXES):
        return response
    sandbox = current_sandbox()
    sandbox.request_log.add(
        {
            "method": request.method,
            "path": path,
            "query": request.query_string.decode("latin-1"),
            "tenant": g.get("tenant_id"),
            "client_id": g.get("client_id"),
            "status": response.status_code,
            "rows": g.get("rows"),
            "page": g.get("page"),
            "page_size": g.get("page_size"),
            "offset": g.get("offset"),
            "in_flight": g.get("in_flight"),
            "rate_limit_problem": response.headers.get("X-Rate-Limit-Problem"),
            "timestamp": sandbox.clock.now().isoformat().replace("+00:00", "Z"),
            "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
            "correlation_id": response.headers["Xero-Correlation-Id"],
            "bytes": response.content_length,  # egress (Xero bills it); None for a streamed body
        }
    )
    return response
