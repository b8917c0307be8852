"""Is a SECRET_KEY strong enough to sign production session cookies?

Anyone who knows or guesses the key can mint a session cookie (issue 11 item 1 was exploited
with the public development key), so production wants 32 random bytes or more.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter

MIN_LENGTH = 32  # bytes
MIN_ENTROPY_BITS = 128
_ZLIB_OVERHEAD = len(zlib.compress(b"", 9))
HOW_TO_GENERATE = "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"


def estimated_entropy_bits(key: str) -> float:
    """A generous upper estimate, so a key that fails it is certainly weak: the smaller of the
    Shannon entropy of its characters times its length ('aaaa...', hex of 16 bytes) and what
    zlib leaves of it ('password' repeated)."""
    if not key:
        return 0.0
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    compressed_bits = 8 * (len(zlib.compress(key.encode("utf-8"), 9)) - _ZLIB_OVERHEAD)
    return min(per_char * len(key), compressed_bits)


def secret_key_problem(key: str | bytes | None) -> str | None:
    """Why `key` is too weak for production, or None when it will do."""
    text = key.decode("latin-1") if isinstance(key, bytes) else (key or "")
    if len(text.encode("utf-8")) < MIN_LENGTH:
        return f"SECRET_KEY is shorter than {MIN_LENGTH} bytes ({HOW_TO_GENERATE})"
    if estimated_entropy_bits(text) < MIN_ENTROPY_BITS:
        return f"SECRET_KEY looks predictable (too few different characters; {HOW_TO_GENERATE})"
    return None
