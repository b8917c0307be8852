"""Xero's failures as our exceptions, each carrying the cause key of its troubleshooting hint."""

from __future__ import annotations


class XeroError(Exception):
    """Base: `kind` is a key of wizard.hints.HINTS; `correlation_id` is Xero's, for support."""

    kind = "xero_unavailable"

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        correlation_id: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message or self.__class__.__name__)
        self.status = status
        self.correlation_id = correlation_id
        self.retry_after = retry_after


class TokenEndpointError(XeroError):
    """The token endpoint said no (`error` is invalid_grant, invalid_client, ...)."""

    kind = "token_exchange_failed"

    def __init__(self, error: str, message: str = "", **kwargs) -> None:
        super().__init__(message or error, **kwargs)
        self.error = error


class InvalidGrant(TokenEndpointError):
    kind = "token_dead"


class IdTokenInvalid(XeroError):
    kind = "token_exchange_failed"


class TokenExpired(XeroError):
    kind = "token_expired"


class InsufficientScope(XeroError):
    kind = "insufficient_scope"


class TenantForbidden(XeroError):
    """403 AuthenticationUnsuccessful: the organisation is no longer connected for this token."""

    kind = "disconnected_in_xero"


class NotPermitted(XeroError):
    kind = "role_cannot_connect"


class RateLimited(XeroError):
    kind = "rate_limited"

    def __init__(self, problem: str, message: str = "", **kwargs) -> None:
        super().__init__(message or f"rate limit: {problem}", **kwargs)
        self.problem = problem  # minute / day / concurrent / appminute


class OrganisationOffline(XeroError):
    kind = "organisation_offline"


class XeroUnavailable(XeroError):
    kind = "xero_unavailable"


class XeroBadRequest(XeroError):
    kind = "xero_bad_request"


class XeroNotFound(XeroError):
    kind = "xero_not_found"
