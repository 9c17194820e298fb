"""Bearer tokens: random, shown once, stored only as a SHA-256 digest.

A token carries 256 bits of randomness, so a fast digest is safe (no password stretching needed) and
lets authentication look a token up by an indexed equality match.
"""

from __future__ import annotations

import hashlib
import secrets

CLIENT_PREFIX = "hgc_"
PERSONAL_PREFIX = "hgp_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_hint(token: str) -> str:
    """What may be shown later to tell tokens apart: the prefix and four characters."""
    return token[: len(CLIENT_PREFIX) + 4]
