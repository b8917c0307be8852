"""Issue 11 item 2: production refuses a SECRET_KEY shorter than 32 random bytes or of low entropy,
and says how to generate one."""

from __future__ import annotations

import secrets

import pytest

from wizard.secret_key import secret_key_problem


@pytest.mark.parametrize("make", [lambda: secrets.token_hex(32), lambda: secrets.token_urlsafe(32)])
def test_keys_made_the_documented_way_are_accepted(make):
    assert all(secret_key_problem(make()) is None for _ in range(200))


@pytest.mark.parametrize(
    "key",
    ["a", "", None, "x" * 64, "ab" * 40, "password" * 8, secrets.token_hex(16), b"short bytes"],
)
def test_short_or_predictable_keys_are_refused_with_the_way_to_make_one(key):
    problem = secret_key_problem(key)
    assert problem and "secrets.token_hex(32)" in problem
