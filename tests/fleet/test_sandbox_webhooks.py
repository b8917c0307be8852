"""The sandbox sends webhooks as Xero does (issue 17 item 4): intent to receive first, batched
and numbered events on data changes, retries in order, disabled after a day of failures."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import wait_until
from tests.fleet.receiver import Receiver
from tests.fleet.webhook_helpers import KEY
from tests.sync.helpers import connect_org


def _status(sandbox) -> str:
    return sandbox.state.webhooks.describe()["status"]


def _subscribe(app, sandbox, url: str, **options) -> None:
    """Subscribe `url` for our test app's client id and wait for the intent check to pass."""
    sandbox.state.configure_webhooks(url, KEY, app.config["XERO_CLIENT_ID"], **options)
    wait_until(lambda: _status(sandbox) == "active", timeout=20)


def _taken(sandbox) -> list[dict]:
    """Deliveries the receiver has answered 200 to."""
    return [d for d in sandbox.state.webhooks.describe()["deliveries"] if d["status"] == 200]


@pytest.fixture
def receiver():
    started: list[Receiver] = []

    def start(key: str = KEY, fail_next: int = 0) -> Receiver:
        started.append(Receiver(key, fail_next))
        return started[-1]

    yield start
    for r in started:
        r.stop()


def test_the_sandbox_checks_intent_to_receive_with_our_endpoint_then_delivers_batched_events(app, sandbox, live_server):
    from wizard.extensions import db
    from wizard.models import ConnectionWebhook, SyncRun

    org = connect_org(app, sandbox, records=60)
    _subscribe(app, sandbox, live_server.url + "/webhooks/xero")
    intent = sandbox.state.webhooks.describe()["intent"]
    assert sorted((a["signed"], a["status"]) for a in intent) == [(False, 401), (False, 401), (True, 200), (True, 200)]
    assert all(a["empty"] for a in intent)
    invoices = sandbox.state.modify_records(org.tenant_id, "invoices", 3)
    sandbox.state.modify_records(org.tenant_id, "contacts", 2)
    [delivery] = wait_until(lambda: _taken(sandbox), timeout=10)
    assert (delivery["first"], delivery["last"], delivery["events"], delivery["status"]) == (1, 5, 5, 200)
    with app.app_context():
        row = db.session.get(ConnectionWebhook, org.connection_id)
        assert row.events == 5 and row.pending == {"Invoices", "Contacts"}
        runs = db.session.scalars(select(SyncRun).where(SyncRun.connection_id == org.connection_id)).all()
        assert [r.kind for r in runs] == ["webhook"]
    sandbox.state.modify_records(org.tenant_id, "invoices", 1)  # the next batch continues the sequence
    second = wait_until(lambda: _taken(sandbox)[1:], timeout=10)[0]
    assert (second["first"], second["last"]) == (6, 6) and invoices


def test_a_receiver_that_fails_the_intent_check_gets_no_events(app, sandbox, live_server):
    org = connect_org(app, sandbox, records=30)
    sandbox.state.configure_webhooks(live_server.url + "/webhooks/xero", "a-key-our-app-does-not-know")
    wait_until(lambda: _status(sandbox) == "intent_failed", timeout=20)
    assert sandbox.state.modify_records(org.tenant_id, "invoices", 2)
    assert sandbox.state.webhooks.describe()["deliveries"] == []


def test_events_of_organisations_not_connected_to_the_app_are_not_sent(app, sandbox, receiver):
    hook = receiver()
    _subscribe(app, sandbox, hook.url, batch_seconds=0.1)
    stranger = sandbox.state.create_org("Not Connected Ltd", records=20)
    sandbox.state.modify_records(stranger, "invoices", 2)
    org = connect_org(app, sandbox, records=20)
    sandbox.state.modify_records(org.tenant_id, "credit_notes", 1)
    wait_until(lambda: hook.bodies, timeout=10)
    assert [e["tenantId"] for e in hook.bodies[0]["events"]] == [org.tenant_id]
    assert hook.bodies[0]["events"][0]["eventCategory"] == "CREDITNOTE"


def test_a_failed_delivery_is_retried_with_the_same_sequence_until_taken(app, sandbox, receiver):
    hook = receiver(fail_next=2)
    org = connect_org(app, sandbox, records=20)
    _subscribe(app, sandbox, hook.url, batch_seconds=0.1, time_scale=100)
    sandbox.state.modify_records(org.tenant_id, "invoices", 2)
    [delivery] = wait_until(lambda: _taken(sandbox), timeout=15)
    assert delivery["attempts"] == 3
    assert [(b["firstEventSequence"], b["lastEventSequence"]) for b in hook.bodies] == [(1, 2)] * 3


def test_a_day_of_failed_deliveries_disables_the_subscription(app, sandbox, receiver):
    hook = receiver(fail_next=10_000)
    org = connect_org(app, sandbox, records=20)
    # A sandbox day lasts about 4 s: Xero's 24 hours of retries pass quickly.
    _subscribe(app, sandbox, hook.url, batch_seconds=0.1, time_scale=20000)
    sandbox.state.modify_records(org.tenant_id, "invoices", 1)
    wait_until(lambda: _status(sandbox) == "disabled", timeout=20)
    attempts = sandbox.state.webhooks.describe()["deliveries"][0]["attempts"]
    gaps_in_a_day = 7 + (86_400 - 6_905) // 3600  # the growing gaps, then hourly
    assert attempts in (gaps_in_a_day, gaps_in_a_day + 1)
    assert sandbox.state.modify_records(org.tenant_id, "invoices", 1)
    assert len(sandbox.state.webhooks.describe()["deliveries"]) == 1  # nothing more is sent


def test_the_admin_api_subscribes_and_shows_the_subscription(app, sandbox, receiver):
    import requests

    hook = receiver()
    answer = requests.post(sandbox.url + "/sandbox/webhooks", json={"url": hook.url, "key": KEY}, timeout=5)
    assert answer.status_code == 201 and answer.json()["status"] in ("verifying", "active")
    wait_until(lambda: requests.get(sandbox.url + "/sandbox/webhooks", timeout=5).json()["status"] == "active")
    bad = requests.post(sandbox.url + "/sandbox/webhooks", json={"url": hook.url}, timeout=5)
    assert bad.status_code == 400 and "key" in bad.json()["error"]
    assert requests.delete(sandbox.url + "/sandbox/webhooks", timeout=5).status_code == 204
    assert requests.get(sandbox.url + "/sandbox/webhooks", timeout=5).json() == {"status": "off"}


def test_the_background_trickle_keeps_events_coming_until_switched_off(app, sandbox, receiver):
    hook = receiver()
    org = connect_org(app, sandbox, records=40)
    _subscribe(app, sandbox, hook.url, batch_seconds=0.05, trickle_seconds=0.2)
    wait_until(lambda: len(_taken(sandbox)) >= 3, timeout=20)
    assert {e["tenantId"] for b in hook.bodies for e in b["events"]} == {org.tenant_id}
    sandbox.state.webhooks.stop()
    seen = len(hook.bodies)
    import time

    time.sleep(0.6)  # three trickle periods
    assert len(hook.bodies) == seen
