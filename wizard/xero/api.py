"""Calls to Xero's Connections and Accounting APIs: one request in, parsed page or our error out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from wizard.xero.errors import (
    InsufficientScope,
    NotPermitted,
    OrganisationOffline,
    RateLimited,
    TenantForbidden,
    TokenExpired,
    XeroBadRequest,
    XeroError,
    XeroNotFound,
    XeroUnavailable,
)

ACCOUNTING_PREFIX = "/api.xro/2.0/"
_DOTNET_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


@dataclass
class Limits:
    """Rate-limit headroom Xero reported on the last response (None when absent)."""

    minute: int | None = None
    day: int | None = None
    app_minute: int | None = None

    @classmethod
    def from_headers(cls, headers: Any) -> Limits:
        def read(name: str) -> int | None:
            value = headers.get(name)
            return int(value) if value is not None and str(value).lstrip("-").isdigit() else None

        return cls(read("X-MinLimit-Remaining"), read("X-DayLimit-Remaining"), read("X-AppMinLimit-Remaining"))


@dataclass
class XeroResponse:
    body: Any  # parsed JSON; the undecoded bytes when the call asked for `raw`
    limits: Limits
    correlation_id: str
    status: int


def parse_xero_date(value: str | None) -> datetime | None:
    """`/Date(1439434356790+0000)/` or ISO-8601 -> naive UTC datetime."""
    if not value:
        return None
    match = _DOTNET_DATE.search(value)
    if match:
        from datetime import UTC

        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).replace(tzinfo=None)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        from datetime import UTC

        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        return str(body.get("Detail") or body.get("Message") or body.get("Title") or body)[:300]
    return str(body)[:300]


def raise_for_xero(response: requests.Response) -> None:
    """Map Xero's status codes and error bodies (xero-platform.md §5) to our exceptions."""
    status = response.status_code
    if status < 400:
        return
    correlation = response.headers.get("Xero-Correlation-Id", "")
    detail = _detail(response)
    common: dict[str, Any] = {"status": status, "correlation_id": correlation}
    if status == 401:
        if "TokenExpired" in detail:
            raise TokenExpired(detail, **common)
        if (
            "insufficient_scope" in response.headers.get("WWW-Authenticate", "")
            or "AuthorizationUnsuccessful" in detail
        ):
            raise InsufficientScope(detail, **common)
        raise TokenExpired(detail, **common)
    if status == 403:
        if "AuthenticationUnsuccessful" in detail:
            raise TenantForbidden(detail, **common)
        raise NotPermitted(detail, **common)
    if status == 404:
        raise XeroNotFound(detail, **common)
    if status == 429:
        retry_after = response.headers.get("Retry-After")
        raise RateLimited(
            response.headers.get("X-Rate-Limit-Problem", "unknown"),
            detail,
            retry_after=float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None,
            **common,
        )
    if status == 503 and "offline" in response.text.lower() and "organisation" in response.text.lower():
        raise OrganisationOffline(detail, **common)
    if status >= 500:
        raise XeroUnavailable(detail, **common)
    if status == 400:
        raise XeroBadRequest(detail, **common)
    raise XeroError(detail, **common)


class XeroApi:
    """Thin HTTP client: the caller supplies a live access token; paging lives in the sync engine."""

    def __init__(self, base_url: str, timeout: float = 20.0, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = session or requests.Session()

    def _request(
        self,
        method: str,
        path: str,
        access_token: str,
        *,
        tenant_id: str | None = None,
        params: dict[str, Any] | None = None,
        if_modified_since: datetime | None = None,
        raw: bool = False,
    ) -> XeroResponse:
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        if tenant_id:
            headers["xero-tenant-id"] = tenant_id
        if if_modified_since is not None:
            headers["If-Modified-Since"] = if_modified_since.strftime("%Y-%m-%dT%H:%M:%S")
        try:
            response = self.http.request(
                method, self.base_url + path, headers=headers, params=params, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise XeroUnavailable(f"Xero unreachable: {type(exc).__name__}") from None
        raise_for_xero(response)
        if raw:
            body = response.content
        else:
            body = response.json() if response.content and method != "DELETE" else None
        return XeroResponse(
            body=body,
            limits=Limits.from_headers(response.headers),
            correlation_id=response.headers.get("Xero-Correlation-Id", ""),
            status=response.status_code,
        )

    def get_connections(self, access_token: str, auth_event_id: str | None = None) -> list[dict[str, Any]]:
        """Organisations this Xero user has connected to our app (optionally: in one consent)."""
        params = {"authEventId": auth_event_id} if auth_event_id else None
        return list(self._request("GET", "/connections", access_token, params=params).body or [])

    def delete_connection(self, access_token: str, connection_id: str) -> None:
        """Disconnect one organisation (by Xero's connection id, not the tenant id)."""
        self._request("DELETE", f"/connections/{connection_id}", access_token)

    def get(
        self,
        resource: str,
        access_token: str,
        tenant_id: str,
        *,
        params: dict[str, Any] | None = None,
        if_modified_since: datetime | None = None,
        raw: bool = False,
    ) -> XeroResponse:
        """One Accounting API GET, e.g. resource="Invoices" or "Reports/TrialBalance".

        With `raw`, the body is left as the bytes received (the sync decodes big pages itself).
        """
        return self._request(
            "GET",
            ACCOUNTING_PREFIX + resource,
            access_token,
            tenant_id=tenant_id,
            params=params,
            if_modified_since=if_modified_since,
            raw=raw,
        )
