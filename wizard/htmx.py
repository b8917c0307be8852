"""Full page or fragment: the one place that decides, from htmx's request headers."""

from __future__ import annotations

from flask import Response, make_response, render_template, request
from flask.typing import ResponseReturnValue


def wants_fragment() -> bool:
    """True for an htmx partial request; history restores, boosts and full requests get pages."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and "HX-History-Restore-Request" not in headers
        and "HX-Boosted" not in headers
        and headers.get("HX-Request-Type", "partial") == "partial"
    )


def render_page(template: str, status: int = 200, **context) -> Response:
    """Render `folder/name.html` as a page, or `folder/_name.html` for an htmx request."""
    if wants_fragment():
        folder, _, name = template.rpartition("/")
        template = f"{folder}/_{name}" if folder else f"_{name}"
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def full_redirect(location: str) -> ResponseReturnValue:
    """A redirect that leaves htmx: OAuth hops and the login page are never swapped in."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    from flask import redirect

    return redirect(location, code=303)
