"""Release bundles: what a station installs an update from, and how it decides to trust one.

A bundle is a plain tar: `manifest.json` (version, architecture, Python tag, the oldest version it
can update from, whether its migrations can be undone, and the sha256 of every other file),
`manifest.sig` (an Ed25519 signature of the manifest's bytes), `wheels/` (the project's wheel and
every dependency's, for that architecture: a station needs no package index) and `systemd/`.

A station trusts only the public keys in its key folder (/etc/bronco/release-keys/*.pub). Nothing
is taken on the word of whoever delivered the bundle (the hub included): the signature, every
hash, the architecture and the version it updates from are checked here before anything is
unpacked where it could run.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import platform
import tarfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FORMAT = 1


class BundleRefused(Exception):
    """The bundle must not be installed; the message says why in words."""


@dataclass
class Manifest:
    version: str
    arch: str  # platform.machine() of the stations it is for: x86_64, aarch64
    python: str  # cp311: the interpreter its wheels are for
    min_from: str = "0.0.0"  # the oldest installed version it can update
    migrations_reversible: bool = False
    migration_head: str = ""  # the database revision the new version migrates to
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256
    format: int = FORMAT

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            manifest = cls(**{k: raw[k] for k in raw if k in cls.__dataclass_fields__})
        except (ValueError, TypeError, KeyError) as exc:
            raise BundleRefused(f"the manifest is not readable: {exc}") from None
        if manifest.format != FORMAT or not isinstance(manifest.files, dict):
            raise BundleRefused(f"a bundle of format {manifest.format}: this station reads {FORMAT}")
        return manifest


def version_key(version: str) -> tuple[int, ...]:
    """0.10.2 after 0.9.7; a local part (+abc) does not order."""
    public = version.split("+", 1)[0]
    try:
        return tuple(int(p) for p in public.split("."))
    except ValueError:
        raise BundleRefused(f"'{version}' is not a version number") from None


def this_python() -> str:
    major, minor, _ = platform.python_version_tuple()
    return f"cp{major}{minor}"


# -- signing ----------------------------------------------------------------------------------
def new_key_pair() -> tuple[bytes, bytes]:
    """(private key PEM, public key as one base64 line) for `bronco release keygen`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    return private, base64.b64encode(public) + b"\n"


def sign(manifest: bytes, private_pem: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleRefused("the signing key is not an Ed25519 key")
    return base64.b64encode(key.sign(manifest)) + b"\n"


def trusted_keys(folder: Path) -> list[bytes]:
    keys = []
    for path in sorted(folder.glob("*.pub")) if folder.is_dir() else []:
        try:
            raw = base64.b64decode(path.read_text().strip(), validate=True)
        except ValueError:
            continue  # not a key: never trusted
        if len(raw) == 32:
            keys.append(raw)
    return keys


def signed_by_trusted(manifest: bytes, signature: bytes, keys: list[bytes]) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except ValueError:
        return False
    for key in keys:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(raw, manifest)
            return True
        except InvalidSignature:
            continue
    return False


# -- reading a bundle -------------------------------------------------------------------------
def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == str(path)


def read_members(bundle: Path) -> dict[str, bytes]:
    """Every regular file in the tar by name; refused if it is not a whole, plain tar."""
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(bundle, mode="r:") as tar:
            for info in tar:
                if info.isdir():
                    continue
                if not info.isfile() or not _safe_name(info.name):
                    raise BundleRefused(f"the bundle holds '{info.name}', which is not a plain file "
                                        "inside it")
                data = tar.extractfile(info)
                assert data is not None
                members[info.name] = data.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleRefused(f"the bundle is damaged or incomplete ({exc})") from None
    return members


def verify(bundle: Path, keys: list[bytes], *, installed: str, arch: str | None = None,
           python: str | None = None) -> tuple[Manifest, dict[str, bytes]]:
    """The manifest and files of a bundle this station may install, or BundleRefused."""
    members = read_members(bundle)
    if MANIFEST not in members:
        raise BundleRefused("the bundle has no manifest: it is damaged or incomplete")
    if SIGNATURE not in members:
        raise BundleRefused("the bundle is not signed")
    if not keys:
        raise BundleRefused("this station trusts no release key (/etc/bronco/release-keys/*.pub)")
    if not signed_by_trusted(members[MANIFEST], members[SIGNATURE], keys):
        raise BundleRefused("the signature does not match a release key this station trusts")
    manifest = Manifest.from_bytes(members[MANIFEST])
    arch = arch or platform.machine()
    if manifest.arch != arch:
        raise BundleRefused(f"the bundle is for {manifest.arch}; this station is {arch}")
    python = python or this_python()
    if manifest.python != python:
        raise BundleRefused(f"the bundle's wheels are for {manifest.python}; this station runs {python}")
    listed = set(manifest.files)
    present = set(members) - {MANIFEST, SIGNATURE}
    if listed - present:
        raise BundleRefused(f"the bundle is incomplete: {len(listed - present)} file(s) missing, "
                            f"e.g. {sorted(listed - present)[0]}")
    if present - listed:
        raise BundleRefused(f"the bundle holds files its manifest does not list: "
                            f"{sorted(present - listed)[0]}")
    for name, expected in manifest.files.items():
        if hashlib.sha256(members[name]).hexdigest() != expected:
            raise BundleRefused(f"{name} does not match the hash in the signed manifest")
    if version_key(installed) < version_key(manifest.min_from):
        raise BundleRefused(f"{manifest.version} updates from {manifest.min_from} or later; this "
                            f"station runs {installed}")
    return manifest, members


def write_bundle(path: Path, files: dict[str, bytes], manifest: bytes,
                 signature: bytes | None = None) -> None:
    """The tar, manifest first (a station reads it before anything else). `manifest` is the
    manifest's exact bytes: the signature is of those."""
    entries: list[tuple[str, bytes]] = [(MANIFEST, manifest)]
    if signature is not None:
        entries.append((SIGNATURE, signature))
    entries += sorted(files.items())
    tmp = path.with_name(path.name + ".partial")
    with tarfile.open(tmp, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(path)


def sign_bundle(path: Path, private_pem: bytes) -> None:
    """Add (or replace) the bundle's signature; every other byte stays as built."""
    members = read_members(path)
    if MANIFEST not in members:
        raise BundleRefused("the bundle has no manifest")
    manifest = members.pop(MANIFEST)
    members.pop(SIGNATURE, None)
    write_bundle(path, members, manifest, sign(manifest, private_pem))


def describe(manifest: Manifest) -> dict[str, Any]:
    return {"version": manifest.version, "arch": manifest.arch, "python": manifest.python,
            "min_from": manifest.min_from, "migrations_reversible": manifest.migrations_reversible,
            "files": len(manifest.files)}
