"""HTTPS for a station that listens beyond loopback. The profile names a certificate
(`server.tls_cert`, `server.tls_key`), or the station makes a self-signed one for itself on first
start, kept beside its key file; a kiosk fetches it at enrolment and pins it from then on
(`bronco kiosk --enrol` prints its fingerprint, which the console shows too)."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import socket
import ssl
from pathlib import Path

from station_core.durable_files import write_durably


def needs_tls(host: str) -> bool:
    """Anything but a loopback address can be reached from the network."""
    if host in ("localhost", ""):
        return host == ""
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a host name: assume it resolves to the network


def fingerprint(cert_pem: bytes) -> str:
    """SHA-256 of the certificate (DER), as staff compare it: AB:CD:..."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert_pem.decode("ascii"))).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def ensure_self_signed(cert: Path, key: Path, names: list[str]) -> None:
    """Make a certificate for this station (10 years; it is pinned, not trusted by a CA)."""
    if cert.exists() and key.exists():
        return
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] or "bronco-station")])
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    write_durably(key, private.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    write_durably(cert, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)


def station_names(host: str) -> list[str]:
    names = [host] if host not in ("0.0.0.0", "::", "") else []
    names += [socket.gethostname(), "localhost", "127.0.0.1"]
    return list(dict.fromkeys(names))


def fetch_certificate(url: str) -> bytes:
    """The certificate a station presents (first contact, at enrolment: then pinned)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    pem = ssl.get_server_certificate((parts.hostname or "127.0.0.1", parts.port or 443))
    return pem.encode("ascii")
