"""The app's own error pages: every error the app returns is a page with the layout and a way back.

Under htmx the answer is a fragment retargeted at the page's content area (`#main`, present on
every page), so an error never lands inside the element that made the request, and a whole
document is never swapped into `#wizard`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, Response, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from wizard.htmx import wants_fragment

# Headers of the original error that the client still needs (405's Allow, 429's Retry-After).
KEPT_HEADERS = ("Allow", "Retry-After")


@dataclass(frozen=True)
class ErrorText:
    title: str
    body: str


ERRORS: dict[int, ErrorText] = {
    400: ErrorText("This request could not be used", "The page sent something we could not read. Nothing was changed."),
    403: ErrorText(
        "You cannot open this page",
        "Your account does not have access to it. Only workspace admins can connect, reconnect, "
        "disconnect or sync data sources; ask an admin of your workspace.",
    ),
    404: ErrorText("Page not found", "There is nothing here: the link may be old, or the item was removed."),
    405: ErrorText("This page cannot be used that way", "Use the buttons and links on the page. Nothing was changed."),
    409: ErrorText(
        "That cannot be done right now", "The item changed since the page was shown. Reload it to see where it is."
    ),
    429: ErrorText("Too many attempts", "Wait a minute, then try again."),
    500: ErrorText(
        "Something went wrong on our side",
        "We have recorded the error. Try again in a minute; if it keeps happening, tell us the time it happened.",
    ),
}
CSRF_EXPIRED = ErrorText(
    "This form has expired",
    "The page was open too long, or you signed in again in another tab, so we did not use it. "
    "Nothing was changed. Reload the page and try again.",
)


def text_for(status: int) -> ErrorText:
    return ERRORS.get(status) or (ERRORS[500] if status >= 500 else ERRORS[400])


def _way_back() -> tuple[str, str] | None:
    """The page the user came from, when it is one of ours and not this same URL."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc != request.host or parts.scheme not in ("http", "https"):
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not path.startswith("/") or path.startswith("//") or referrer == request.url:
        return None
    return path, "Back to the previous page"


def render_error(status: int, text: ErrorText) -> Response:
    """The error page, or under htmx its fragment retargeted at #main."""
    fragment = wants_fragment()
    context = {"status": status, "error": text, "back": _way_back(), "signed_in": current_user.is_authenticated}
    response = make_response(render_template("errors/_error.html" if fragment else "errors/error.html", **context))
    response.status_code = status
    if fragment:
        response.headers["HX-Retarget"] = "#main"
        response.headers["HX-Reswap"] = "innerHTML"
    response.vary.add("HX-Request")
    return response


def handle_http_error(exc: HTTPException) -> ResponseReturnValue:
    if exc.code is None or exc.code < 400:
        return exc  # routing redirects (a missing trailing slash) are not errors
    response = render_error(exc.code, CSRF_EXPIRED if isinstance(exc, CSRFError) else text_for(exc.code))
    original = exc.get_response().headers
    for name in KEPT_HEADERS:
        if name in original:
            response.headers[name] = original[name]
    return response


def init_errors(app: Flask) -> None:
    """Every HTTP error (and an unhandled exception, which Flask turns into a 500) gets our page."""
    app.register_error_handler(HTTPException, handle_http_error)
