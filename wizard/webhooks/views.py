"""POST /webhooks/xero: Xero's deliveries and its intent-to-receive check (xero-platform.md §12).

Xero wants 200 within 5 seconds with no body and no cookies for a correctly signed request, and
401 for anything else. Only registered when XERO_WEBHOOK_KEY is set: no key, no endpoint.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

from wizard.webhooks import intake, signature

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

MAX_BODY = 5 * 1024 * 1024


@bp.post("/xero")
def xero():
    """Webhook delivery: verify the signature on the raw body, record and enqueue, answer empty."""
    if (request.content_length or 0) > MAX_BODY:
        return "", 413
    body = request.get_data(cache=False)
    if not signature.is_valid(current_app.config["XERO_WEBHOOK_KEY"], body, request.headers.get("x-xero-signature")):
        return "", 401
    try:
        events = intake.parse(body)
    except intake.BadPayload as exc:
        return f"Not a Xero webhook payload: {exc}.", 400, {"Content-Type": "text/plain"}
    if events:  # [] is Xero's intent-to-receive check: the signature was all it asked about
        intake.take_delivery(events)
    return "", 200
