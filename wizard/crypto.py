"""Tokens at rest: Fernet (AES-128-CBC + HMAC) with key rotation via MultiFernet.

Each ciphertext is bound to the row and column it was written for (`context`): Fernet has no
associated data, so the context travels inside the authenticated plaintext and is checked on
decryption. A ciphertext copied into another token set, or from the access to the refresh
column, then fails to decrypt (reliability.md OA-T2).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

_BOUND = b"\x00bound\x00"  # cannot start a token: Xero tokens are printable ASCII


class TokenCipher:
    """Encrypts with the first key, decrypts with any (rotation: prepend the new key)."""

    def __init__(self, keys: list[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """Encrypt for one row and column: only a decrypt naming the same `context` succeeds."""
        return self._fernet.encrypt(_BOUND + context.encode() + b"\x00" + plaintext.encode())

    def decrypt(self, ciphertext: bytes, context: str) -> str:
        try:
            raw = self._fernet.decrypt(bytes(ciphertext))
        except InvalidToken as exc:
            raise ValueError("token ciphertext could not be decrypted with the configured keys") from exc
        bound_to, _, plaintext = raw[len(_BOUND) :].partition(b"\x00")
        if not raw.startswith(_BOUND) or bound_to != context.encode():
            raise ValueError("token ciphertext belongs to another row or column")
        return plaintext.decode()


def token_context(workspace_id: int, xero_userid: str, column: str) -> str:
    """The binding of a token set's ciphertext: its natural key (unique) and the column."""
    return f"token_set:{workspace_id}:{xero_userid}:{column}"


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
