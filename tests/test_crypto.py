"""Tokens at rest: encrypted, round-trip, key rotation, tamper detection."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from wizard.crypto import TokenCipher


def test_round_trip_and_ciphertext_hides_plaintext():
    cipher = TokenCipher([Fernet.generate_key()])
    blob = cipher.encrypt("refresh-token-value")
    assert b"refresh-token-value" not in blob
    assert cipher.decrypt(blob) == "refresh-token-value"


def test_rotation_decrypts_old_ciphertext_with_new_primary_key():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    blob = TokenCipher([old]).encrypt("secret")
    assert TokenCipher([new, old]).decrypt(blob) == "secret"


def test_wrong_key_or_tampered_ciphertext_is_refused():
    blob = TokenCipher([Fernet.generate_key()]).encrypt("secret")
    with pytest.raises(ValueError):
        TokenCipher([Fernet.generate_key()]).decrypt(blob)
    tampered = blob[:-4] + (b"AAAA" if blob[-4:] != b"AAAA" else b"BBBB")
    with pytest.raises(ValueError):
        TokenCipher([Fernet.generate_key()]).decrypt(tampered)
