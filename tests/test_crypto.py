"""Tokens at rest: encrypted, bound to their row and column, key rotation, tamper detection."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from wizard.crypto import TokenCipher

CONTEXT = "token_set:1:xero-user:refresh"


def test_round_trip_and_ciphertext_hides_plaintext():
    cipher = TokenCipher([Fernet.generate_key()])
    blob = cipher.encrypt("refresh-token-value", CONTEXT)
    assert b"refresh-token-value" not in blob
    assert cipher.decrypt(blob, CONTEXT) == "refresh-token-value"


def test_rotation_decrypts_old_ciphertext_with_new_primary_key():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    blob = TokenCipher([old]).encrypt("secret", CONTEXT)
    assert TokenCipher([new, old]).decrypt(blob, CONTEXT) == "secret"


def test_wrong_key_or_tampered_ciphertext_is_refused():
    blob = TokenCipher([Fernet.generate_key()]).encrypt("secret", CONTEXT)
    with pytest.raises(ValueError):
        TokenCipher([Fernet.generate_key()]).decrypt(blob, CONTEXT)
    tampered = blob[:-4] + (b"AAAA" if blob[-4:] != b"AAAA" else b"BBBB")
    with pytest.raises(ValueError):
        TokenCipher([Fernet.generate_key()]).decrypt(tampered, CONTEXT)


def test_ciphertext_without_the_row_binding_is_refused():
    key = Fernet.generate_key()
    unbound = Fernet(key).encrypt(b"refresh-token-value")  # what the removed fallback used to accept
    with pytest.raises(ValueError, match="another row or column"):
        TokenCipher([key]).decrypt(unbound, CONTEXT)


def test_ciphertext_of_another_column_is_refused():
    cipher = TokenCipher([Fernet.generate_key()])
    blob = cipher.encrypt("secret", "token_set:1:xero-user:access")
    with pytest.raises(ValueError, match="another row or column"):
        cipher.decrypt(blob, CONTEXT)
