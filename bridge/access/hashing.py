"""Hashes for secrets the station keeps: PINs and pickup codes (argon2id), staff passwords
(argon2id, stronger), patron barcodes (keyed HMAC, so the cache can be looked up)."""

from __future__ import annotations

import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# PINs are checked at a kiosk while a patron waits: the OWASP minimum for argon2id.
PIN_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Staff passwords guard the console: argon2-cffi's defaults (RFC 9106 low-memory profile).
STAFF_HASHER = PasswordHasher()


def hash_secret(secret: str, hasher: PasswordHasher = PIN_HASHER) -> str:
    return hasher.hash(secret)


def verify_secret(stored: str, secret: str, hasher: PasswordHasher = PIN_HASHER) -> bool:
    try:
        return hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def keyed_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    """Tokens are long random strings: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()
