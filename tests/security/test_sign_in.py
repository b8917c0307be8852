"""Issue 11 items 3 and 4: sign-in throttled per account and per client address (a throttled
account never locks out another), the proxy setting, and no timing tell for unknown accounts."""

from __future__ import annotations

import hashlib

import pytest

from wizard import create_app
from wizard.extensions import limiter

PER_ACCOUNT, PER_ADDRESS = "3 per minute", "6 per minute"


@pytest.fixture
def throttled(auth):
    """An app whose sign-in throttle is on (the shared test app turns it off), with two accounts."""
    auth.make_user("ann@example.test")
    auth.make_user("bob@example.test")

    def build(**config):
        app = create_app(
            {
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": True,
                "RATELIMIT_STORAGE_URI": "memory://",
                "LOGIN_LIMIT_PER_ACCOUNT": PER_ACCOUNT,
                "LOGIN_LIMIT_PER_ADDRESS": PER_ADDRESS,
                **config,
            }
        )
        limiter.reset()
        return app.test_client()

    return build


def _sign_in(client, email, password="wrong", address="198.51.100.1", **headers):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def test_guesses_at_one_account_from_many_addresses_are_throttled(throttled):
    client = throttled()
    for n in range(3):
        assert _sign_in(client, "ann@example.test", address=f"198.51.100.{n + 1}").status_code == 401
    refused = _sign_in(client, "ann@example.test", password="pw", address="198.51.100.77")
    assert refused.status_code == 429
    assert _sign_in(client, "bob@example.test", password="pw", address="198.51.100.1").status_code == 303


def test_a_throttled_account_does_not_lock_out_others_on_the_same_address(throttled):
    client = throttled()
    for _ in range(3):
        _sign_in(client, "ann@example.test")
    assert _sign_in(client, "ann@example.test").status_code == 429
    page = _sign_in(client, "bob@example.test", password="pw")
    assert page.status_code == 303


def test_one_address_guessing_many_accounts_is_throttled(throttled):
    client = throttled()
    for n in range(6):
        assert _sign_in(client, f"nobody{n}@example.test").status_code == 401
    assert _sign_in(client, "bob@example.test", password="pw").status_code == 429
    assert _sign_in(client, "bob@example.test", password="pw", address="203.0.113.9").status_code == 303


def test_right_passwords_never_use_up_the_throttle(throttled):
    client = throttled()
    for _ in range(8):
        assert _sign_in(client, "ann@example.test", password="pw").status_code == 303


def test_forwarded_for_is_ignored_unless_proxies_are_configured(throttled):
    direct = throttled()
    for n in range(6):
        _sign_in(direct, f"nobody{n}@example.test", address="10.0.0.1", **{"X-Forwarded-For": f"192.0.2.{n}"})
    # Without TRUSTED_PROXY_HOPS a forged header does not pick a fresh bucket.
    assert (
        _sign_in(direct, "bob@example.test", "pw", "10.0.0.1", **{"X-Forwarded-For": "192.0.2.99"}).status_code == 429
    )

    behind_proxy = throttled(TRUSTED_PROXY_HOPS=1)
    for n in range(6):
        _sign_in(behind_proxy, f"nobody{n}@example.test", address="10.0.0.1", **{"X-Forwarded-For": "192.0.2.1"})
    assert (
        _sign_in(behind_proxy, "bob@example.test", "pw", "10.0.0.1", **{"X-Forwarded-For": "192.0.2.1"}).status_code
        == 429
    )
    # Another client behind the same load balancer has its own bucket.
    other = _sign_in(behind_proxy, "bob@example.test", "pw", "10.0.0.1", **{"X-Forwarded-For": "192.0.2.2"})
    assert other.status_code == 303


def test_an_unknown_account_costs_the_same_password_hashing_as_a_known_one(auth, client, monkeypatch):
    auth.make_user("ann@example.test")
    calls = []
    real_scrypt = hashlib.scrypt

    def counting_scrypt(*args, **kwargs):
        calls.append(1)
        return real_scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    known = client.post("/login", data={"email": "ann@example.test", "password": "wrong"})
    known_calls, calls[:] = len(calls), []
    unknown = client.post("/login", data={"email": "nobody@example.test", "password": "wrong"})
    assert known.status_code == unknown.status_code == 401
    assert known_calls == len(calls) == 1
