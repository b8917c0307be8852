"""The sandbox sends webhooks the way Xero does (xero-openapi/xero-webhooks.yaml; platform notes §12).

One subscription per sandbox: a delivery URL, a webhook key and the app (client id) whose
connected organisations are reported. Configuring it first runs Xero's intent-to-receive check
(several POSTs with `events: []`, some correctly signed, some not; every signed one must get 200 and
every other one 401, each within 5 seconds, with an empty body); only then are events delivered.

Events come from data changes (the admin "act inside Xero" actions call `record_changes`) and
from an optional background trickle. They are batched: one POST carries the events gathered during
`batch_seconds`, numbered with `firstEventSequence`/`lastEventSequence`. A failed delivery is
retried with decreasing frequency for up to 24 (scaled) hours, in order; then the subscription is
disabled, as Xero disables it, until configured again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

log = logging.getLogger("xero_sandbox.webhooks")

# Sandbox stream -> Xero's event category (the only three Xero publishes for an organisation).
CATEGORIES = {"invoices": "INVOICE", "contacts": "CONTACT", "credit_notes": "CREDITNOTE"}
RESOURCES = {"INVOICE": "Invoices", "CONTACT": "Contacts", "CREDITNOTE": "CreditNotes"}
ANSWER_SECONDS = 5.0  # Xero's deadline for every answer
DAY_SECONDS = 86_400.0
# Retry gaps grow ("decreasing frequency"); they repeat the last one until a day has passed.
RETRY_GAPS = (10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0)


def sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Subscription:
    url: str
    key: str
    client_id: str
    batch_seconds: float = 1.0
    time_scale: float = 1.0  # retry gaps and the 24 h give-up shrink with the sandbox's clock
    status: str = "verifying"  # verifying -> active | intent_failed; active -> disabled
    intent: list[dict] = field(default_factory=list)  # what each check request got back
    deliveries: list[dict] = field(default_factory=list)  # {first, last, events, attempts, status}


class WebhookSender:
    """Holds the subscription, the pending events and the one delivery thread."""

    def __init__(self, connected: Callable[[str, str], bool], clock) -> None:
        self._connected = connected  # (client_id, tenant_id) -> is that organisation connected to the app
        self.clock = clock
        self._lock = threading.Condition()
        self._pending: list[dict] = []
        self._sequence = 0
        self._generation = 0  # a new subscription (or reset) retires the previous thread
        self._trickle: threading.Thread | None = None
        self._trickle_every = 0.0
        self.subscription: Subscription | None = None

    # configuration -----------------------------------------------------------------
    def configure(self, url: str, key: str, client_id: str, batch_seconds: float = 1.0, time_scale: float = 1.0):
        """(Re)subscribe: the intent-to-receive check runs first, in the background."""
        if not url or not key:
            raise ValueError("a webhook subscription needs a delivery url and a key")
        with self._lock:
            self._generation += 1
            self._pending.clear()
            self.subscription = Subscription(url, key, client_id, float(batch_seconds), float(time_scale) or 1.0)
            generation, subscription = self._generation, self.subscription
            self._lock.notify_all()
        threading.Thread(
            target=self._run, args=(generation, subscription), daemon=True, name="sandbox-webhooks"
        ).start()
        return subscription

    def stop(self) -> None:
        """No subscription, nothing pending, every thread retires, numbering restarts (sandbox reset)."""
        with self._lock:
            self._generation += 1
            self.subscription = None
            self._pending.clear()
            self._sequence = 0
            self._trickle_every = 0.0
            self._lock.notify_all()

    def describe(self) -> dict:
        with self._lock:
            s = self.subscription
            if s is None:
                return {"status": "off"}
            return {
                "status": s.status,
                "url": s.url,
                "client_id": s.client_id,
                "sequence": self._sequence,
                "pending": len(self._pending),
                "intent": list(s.intent),
                "deliveries": list(s.deliveries),
            }

    # events --------------------------------------------------------------------------
    def record_changes(self, tenant_id: str, stream: str, resource_ids: list[str], event_type: str = "UPDATE") -> int:
        """Data changed in Xero: queue one event per record, if anyone subscribed for that organisation."""
        category = CATEGORIES.get(stream)
        with self._lock:
            s = self.subscription
            if category is None or s is None or s.status in ("intent_failed", "disabled"):
                return 0
            if not self._connected(s.client_id, tenant_id):
                return 0
            when = self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
            for resource_id in resource_ids:
                self._pending.append(
                    {
                        "resourceUrl": f"https://api.xero.com/api.xro/2.0/{RESOURCES[category]}/{resource_id}",
                        "resourceId": resource_id,
                        "eventDateUtc": when,
                        "eventType": event_type,
                        "eventCategory": category,
                        "tenantId": tenant_id,
                        "tenantType": "ORGANISATION",
                    }
                )
            self._lock.notify_all()
            return len(resource_ids)

    def start_trickle(self, every_seconds: float, change: Callable[[], None]) -> None:
        """Every `every_seconds`, `change` edits some record (which then reports itself); 0 stops it."""
        with self._lock:
            self._trickle_every = float(every_seconds)
            if every_seconds <= 0 or (self._trickle and self._trickle.is_alive()):
                return
            self._trickle = threading.Thread(target=self._trickle_loop, args=(change,), daemon=True)
            self._trickle.start()

    def _trickle_loop(self, change: Callable[[], None]) -> None:
        while True:
            every = self._trickle_every
            if every <= 0:
                return
            time.sleep(every)
            try:
                change()
            except (KeyError, ValueError, IndexError) as exc:  # no organisation or records to change
                log.info("sandbox.webhooks.trickle_skipped error=%s", exc)

    # the delivery thread ----------------------------------------------------------------
    def _current(self, generation: int) -> bool:
        return generation == self._generation

    def _run(self, generation: int, subscription: Subscription) -> None:
        passed = self._intent_to_receive(subscription, generation)
        with self._lock:
            if not self._current(generation):
                return
            subscription.status = "active" if passed else "intent_failed"
        log.info("sandbox.webhooks.intent url=%s passed=%s", subscription.url, passed)
        while passed:
            batch = self._next_batch(generation, subscription)
            if batch is None:
                return
            if not self._deliver(generation, subscription, batch):
                return

    def _intent_to_receive(self, subscription: Subscription, generation: int) -> bool:
        """Signed and unsigned empty payloads, in random order: 200 to every good one, 401 to every bad one.

        A receiver that is not listening yet (the sandbox often starts before the app) is asked
        again every 2 s for a minute; a receiver that answers wrongly fails at once.
        """
        for _ in range(30):
            subscription.intent.clear()
            passed = self._check_once(subscription)
            if passed or any(a["status"] != 0 for a in subscription.intent) or not self._current(generation):
                return passed
            time.sleep(2.0)
        return False

    def _check_once(self, subscription: Subscription) -> bool:
        checks = [True, True, False, False]
        random.shuffle(checks)
        ok = True
        for good in checks:
            body = self._body([], 0)
            signature = sign(subscription.key, body) if good else sign(secrets.token_hex(16), body)
            answer = self._post(subscription, body, signature)
            expected = 200 if good else 401
            passed = answer["status"] == expected and answer["empty"] and answer["seconds"] <= ANSWER_SECONDS
            subscription.intent.append({"signed": good, **answer, "passed": passed})
            ok = ok and passed
        return ok

    def _next_batch(self, generation: int, subscription: Subscription) -> dict | None:
        """Wait for events, gather them for `batch_seconds`, number them; None when retired."""
        with self._lock:
            while not self._pending:
                if not self._current(generation):
                    return None
                self._lock.wait(timeout=0.5)
        time.sleep(subscription.batch_seconds)  # let a burst of changes share one delivery
        with self._lock:
            if not self._current(generation):
                return None
            events, self._pending = self._pending, []
            first = self._sequence + 1
            self._sequence += len(events)
        return {"events": events, "first": first, "body": self._body(events, first)}

    def _deliver(self, generation: int, subscription: Subscription, batch: dict) -> bool:
        """POST one batch until it is taken; the same body (same sequence numbers) on every retry."""
        record = {"first": batch["first"], "last": batch["first"] + len(batch["events"]) - 1}
        record.update(events=len(batch["events"]), attempts=0, status=None)
        subscription.deliveries.append(record)
        gaps, waited = iter(RETRY_GAPS), 0.0
        gap = RETRY_GAPS[0]
        while True:
            answer = self._post(subscription, batch["body"], sign(subscription.key, batch["body"]))
            record["attempts"] += 1
            record["status"] = answer["status"]
            if answer["status"] == 200 and answer["seconds"] <= ANSWER_SECONDS:
                return True
            gap = next(gaps, gap)
            wait = gap / subscription.time_scale
            if waited + wait > DAY_SECONDS / subscription.time_scale:
                with self._lock:
                    if self._current(generation):
                        subscription.status = "disabled"
                log.warning("sandbox.webhooks.disabled url=%s after=%s attempts", subscription.url, record["attempts"])
                return False
            waited += wait
            with self._lock:
                self._lock.wait_for(lambda: not self._current(generation), timeout=wait)
                if not self._current(generation):
                    return False

    def _body(self, events: list[dict], first: int) -> bytes:
        payload = {
            "events": events,
            "firstEventSequence": first if events else 0,
            "lastEventSequence": first + len(events) - 1 if events else 0,
            "entropy": "".join(random.choices(string.ascii_uppercase, k=20)),
        }
        return json.dumps(payload).encode()

    def _post(self, subscription: Subscription, body: bytes, signature: str) -> dict:
        started = time.monotonic()
        headers = {"Content-Type": "application/json", "x-xero-signature": signature}
        try:
            response = requests.post(subscription.url, data=body, headers=headers, timeout=ANSWER_SECONDS)
        except requests.RequestException as exc:
            return {"status": 0, "empty": True, "seconds": time.monotonic() - started, "error": type(exc).__name__}
        return {"status": response.status_code, "empty": not response.content, "seconds": time.monotonic() - started}
