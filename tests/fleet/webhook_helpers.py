"""Build and send signed Xero webhook deliveries to the app under test."""

from __future__ import annotations

import json
import uuid

from wizard.webhooks.signature import sign

KEY = "test-webhook-key-NOT-A-SECRET"


def event(tenant_id: str, category: str = "INVOICE", when: str = "2026-12-02T06:00:00.000", **extra) -> dict:
    resource = extra.pop("resource_id", None) or str(uuid.uuid4())
    plural = {"INVOICE": "Invoices", "CONTACT": "Contacts", "CREDITNOTE": "CreditNotes"}.get(category, "x")
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/{plural}/{resource}",
        "resourceId": resource,
        "eventDateUtc": when,
        "eventType": "UPDATE",
        "eventCategory": category,
        "tenantId": tenant_id,
        "tenantType": "ORGANISATION",
        **extra,
    }


def payload(events: list[dict], first: int = 1) -> bytes:
    body = {
        "events": events,
        "firstEventSequence": first,
        "lastEventSequence": first + max(len(events) - 1, 0),
        "entropy": uuid.uuid4().hex[:20].upper(),
    }
    return json.dumps(body).encode()


def deliver(client, body: bytes, key: str = KEY, signature: str | None = None):
    headers = {"x-xero-signature": sign(key, body) if signature is None else signature}
    return client.post("/webhooks/xero", data=body, headers=headers, content_type="application/json")
