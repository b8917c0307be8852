"""Tokens at rest: Fernet (AES-128-CBC + HMAC) with key rotation via MultiFernet."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app


class TokenCipher:
    """Encrypts with the first key, decrypts with any (rotation: prepend the new key)."""

    def __init__(self, keys: list[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode()
        except InvalidToken as exc:
            raise ValueError("token ciphertext could not be decrypted with the configured keys") from exc


def init_cipher(app: Flask) -> None:
    """Key from TOKEN_ENCRYPTION_KEY; in development one is generated into the instance folder."""
    configured = app.config.get("TOKEN_ENCRYPTION_KEY")
    if configured:
        keys = [k.strip().encode() for k in configured.split(",") if k.strip()]
    elif app.config.get("PRODUCTION"):
        raise RuntimeError("TOKEN_ENCRYPTION_KEY must be set in production")
    else:
        path = Path(app.instance_path) / "token.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Create with 0600 so the key file is not world-readable.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
        keys = [path.read_bytes().strip()]
    app.extensions["token_cipher"] = TokenCipher(keys)


def cipher() -> TokenCipher:
    return current_app.extensions["token_cipher"]
