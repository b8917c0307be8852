"""Xero's documented error answers (xero-platform.md §5) become our exceptions, with what the
support hint needs (status, correlation id, Retry-After), and rate-limit headers are read."""

from __future__ import annotations

import json

import pytest
import requests

from wizard.xero.api import Limits, parse_xero_date, raise_for_xero
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


def answer(status: int, body: object = "", **headers: str) -> requests.Response:
    """A response as Xero sends it: JSON problem details, or plain text when the API is offline."""
    response = requests.Response()
    response.status_code = status
    response._content = (json.dumps(body) if not isinstance(body, str) else body).encode()
    response.headers.update({"Xero-Correlation-Id": "corr-123", **headers})
    return response


PROBLEM_401 = {"Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired at 2026-12-02"}
VALIDATION = {"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred"}


@pytest.mark.parametrize(
    ("response", "raised", "detail"),
    [
        (answer(401, PROBLEM_401), TokenExpired, "TokenExpired"),
        (answer(401, {"Detail": "AuthorizationUnsuccessful"}), InsufficientScope, "AuthorizationUnsuccessful"),
        (
            answer(401, {"Title": "Unauthorized"}, **{"WWW-Authenticate": 'Bearer error="insufficient_scope"'}),
            InsufficientScope,
            "Unauthorized",
        ),
        (answer(401, "not json"), TokenExpired, "not json"),
        (
            answer(403, {"Title": "Forbidden", "Detail": "AuthenticationUnsuccessful"}),
            TenantForbidden,
            "Authentication",
        ),
        (answer(403, {"Title": "Not Permitted"}), NotPermitted, "Not Permitted"),
        (answer(404, {"Message": "Resource not found"}), XeroNotFound, "Resource not found"),
        (answer(400, VALIDATION), XeroBadRequest, "A validation exception occurred"),
        (answer(503, "The organisation is offline for maintenance"), OrganisationOffline, "offline"),
        (answer(503, "The Xero API is currently offline for maintenance"), XeroUnavailable, "offline"),
        (answer(500, {"Title": "Internal error"}), XeroUnavailable, "Internal error"),
        (answer(412, ["precondition failed"]), XeroError, "precondition failed"),
    ],
)
def test_each_documented_error_becomes_our_exception(response, raised, detail):
    with pytest.raises(raised) as caught:
        raise_for_xero(response)
    assert type(caught.value) is raised
    assert detail in str(caught.value)
    assert caught.value.status == response.status_code and caught.value.correlation_id == "corr-123"


def test_success_raises_nothing():
    assert raise_for_xero(answer(200, {"Invoices": []})) is None


@pytest.mark.parametrize(("retry_after", "seconds"), [("30", 30.0), ("2.5", 2.5), ("soon", None), (None, None)])
def test_rate_limit_names_the_limit_and_keeps_retry_after(retry_after, seconds):
    headers = {"X-Rate-Limit-Problem": "minute", **({"Retry-After": retry_after} if retry_after else {})}
    with pytest.raises(RateLimited) as caught:
        raise_for_xero(answer(429, "", **headers))
    assert caught.value.retry_after == seconds
    assert caught.value.problem == "minute" and caught.value.status == 429


def test_limits_are_read_from_headers_and_absent_or_garbled_ones_are_none():
    limits = Limits.from_headers(
        {"X-MinLimit-Remaining": "59", "X-DayLimit-Remaining": "x", "X-AppMinLimit-Remaining": "-1"}
    )
    assert (limits.minute, limits.day, limits.app_minute) == (59, None, -1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1439434356790+0000)/", "2015-08-13T02:52:36.790000"),
        ("2026-12-02T10:00:00Z", "2026-12-02T10:00:00"),
        ("2026-12-02T12:00:00+02:00", "2026-12-02T10:00:00"),
        ("2026-12-02T10:00:00", "2026-12-02T10:00:00"),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_xero_dates_become_naive_utc(value, expected):
    parsed = parse_xero_date(value)
    assert (parsed.isoformat() if parsed else None) == expected
