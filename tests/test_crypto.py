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


def _cipher_for(tmp_path, **config) -> TokenCipher:
    from flask import Flask

    from wizard.crypto import init_cipher

    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(config)
    init_cipher(app)
    return app.extensions["token_cipher"]


def test_development_key_is_generated_once_and_readable_only_by_its_owner(tmp_path):
    first = _cipher_for(tmp_path)
    key_file = tmp_path / "instance" / "token.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    # A restart reads the same key: what was encrypted before still decrypts.
    assert _cipher_for(tmp_path).decrypt(first.encrypt("secret", CONTEXT), CONTEXT) == "secret"


def test_configured_keys_rotate_and_production_refuses_to_start_without_one(tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    blob = _cipher_for(tmp_path, TOKEN_ENCRYPTION_KEY=old).encrypt("secret", CONTEXT)
    assert _cipher_for(tmp_path, TOKEN_ENCRYPTION_KEY=f"{new}, {old}").decrypt(blob, CONTEXT) == "secret"
    with pytest.raises(RuntimeError, match="TOKEN_ENCRYPTION_KEY must be set in production"):
        _cipher_for(tmp_path, PRODUCTION=True)
    assert not (tmp_path / "instance" / "token.key").exists()
