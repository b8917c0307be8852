"""Xero's webhook signature: base64(HMAC-SHA256(webhook key, raw request body)) in `x-xero-signature`."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def is_valid(key: str, body: bytes, header: str | None) -> bool:
    """Checked on the raw bytes, before any parsing, in constant time."""
    if not key or not header:
        return False
    return hmac.compare_digest(sign(key, body).encode(), header.strip().encode())
