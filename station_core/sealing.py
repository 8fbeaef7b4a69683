"""Sealed copies of a station's state for the hub: only the station (its key) and the library
(its recovery key) can open one; the hub stores ciphertext.

A copy is encrypted once with a random data key (AES-256-GCM); that data key is stored twice,
wrapped with a key derived from the station key (HKDF-SHA256) and wrapped for the library's
recovery key (X25519 with an ephemeral key, HKDF-SHA256, AES-256-GCM). The station id and the time
are bound into every wrap as associated data, so a copy cannot be passed off as another station's.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

MAGIC = b"BRONCO-SEALED-1\n"
INFO = b"bronco station state copy"


class SealError(Exception):
    """The copy cannot be opened with this key, or it was changed."""


@dataclass(frozen=True)
class Sealed:
    station_id: str
    taken_at: str
    body: bytes


def recovery_key_pair() -> tuple[bytes, bytes]:
    """(private key, public key), each one base64 line: the library keeps the private one off
    every station and off the hub; each station's profile names the public one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    key = X25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    private = key.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = key.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    return base64.b64encode(private) + b"\n", base64.b64encode(public) + b"\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def _kdf(secret: bytes, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), 32, salt, INFO).derive(secret)


def _public_from(text: str | bytes) -> bytes:
    raw = _unb64((text.decode() if isinstance(text, bytes) else text).strip())
    if len(raw) != 32:
        raise SealError("a recovery key is 32 bytes (base64)")
    return raw


def seal(plaintext: bytes, *, station_id: str, taken_at: str, station_key: bytes,
         recovery_public: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    bound = json.dumps({"station": station_id, "taken_at": taken_at}, sort_keys=True).encode()
    data_key, salt = AESGCM.generate_key(256), os.urandom(16)
    nonces = [os.urandom(12) for _ in range(3)]
    body = AESGCM(data_key).encrypt(nonces[0], plaintext, bound)
    for_station = AESGCM(_kdf(station_key, salt)).encrypt(nonces[1], data_key, bound)
    recipient = _public_from(recovery_public)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(serialization.Encoding.Raw,
                                                           serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    for_library = AESGCM(_kdf(shared, ephemeral_public + recipient)).encrypt(nonces[2], data_key, bound)
    header = {"station": station_id, "taken_at": taken_at, "salt": _b64(salt),
              "nonces": [_b64(n) for n in nonces], "for_station": _b64(for_station),
              "for_library": _b64(for_library), "ephemeral": _b64(ephemeral_public)}
    return MAGIC + json.dumps(header).encode() + b"\n" + body


def _parts(blob: bytes) -> tuple[dict[str, object], bytes, bytes]:
    if not blob.startswith(MAGIC):
        raise SealError("not a sealed station copy")
    head, _, body = blob[len(MAGIC):].partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError:
        raise SealError("the copy's header is damaged") from None
    bound = json.dumps({"station": header["station"], "taken_at": header["taken_at"]},
                       sort_keys=True).encode()
    return header, body, bound


def _nonce(header: dict[str, object], n: int) -> bytes:
    nonces = header.get("nonces")
    if not isinstance(nonces, list) or len(nonces) != 3:
        raise SealError("the copy's header is damaged")
    return _unb64(str(nonces[n]))


def _open_body(header: dict[str, object], body: bytes, bound: bytes, data_key: bytes) -> Sealed:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        plain = AESGCM(data_key).decrypt(_nonce(header, 0), body, bound)
    except InvalidTag:
        raise SealError("the copy was changed or damaged") from None
    return Sealed(str(header["station"]), str(header["taken_at"]), plain)


def open_with_station_key(blob: bytes, station_key: bytes) -> Sealed:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header, body, bound = _parts(blob)
    try:
        data_key = AESGCM(_kdf(station_key, _unb64(str(header["salt"])))).decrypt(
            _nonce(header, 1), _unb64(str(header["for_station"])), bound)
    except (InvalidTag, KeyError, ValueError):
        raise SealError("this station key does not open the copy") from None
    return _open_body(header, body, bound, data_key)


def open_with_recovery_key(blob: bytes, recovery_private: str | bytes) -> Sealed:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header, body, bound = _parts(blob)
    try:
        private = X25519PrivateKey.from_private_bytes(_public_from(recovery_private))
        own = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
        ephemeral = _unb64(str(header["ephemeral"]))
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
        data_key = AESGCM(_kdf(shared, ephemeral + own)).decrypt(
            _nonce(header, 2), _unb64(str(header["for_library"])), bound)
    except (InvalidTag, KeyError, ValueError):
        raise SealError("this recovery key does not open the copy") from None
    return _open_body(header, body, bound, data_key)
