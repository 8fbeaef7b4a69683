"""The station's secret key, kept outside the database.

The patron cache and the attempt limits store keyed hashes of barcodes; with the key in the same
database, a copied SD card gives barcodes back by trying every card number, and 4-digit PINs next
to them in minutes. So the key lives apart: a systemd credential (LoadCredential=bronco-station-key,
read from $CREDENTIALS_DIRECTORY), or a 0600 file named by the profile (`server.key_file`, by
default beside a SQLite database). A key an older version kept in the database is moved out.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from station_core.durable_files import write_durably

log = logging.getLogger(__name__)
CREDENTIAL = "bronco-station-key"
LEGACY_SETTING = "patron_hash_key"


class KeyError_(Exception):
    """The key cannot be read or kept safely: the station must not start without it."""


def default_key_file(database_url: str) -> Path | None:
    if database_url.startswith("sqlite:///"):
        return Path(database_url.removeprefix("sqlite:///")).with_suffix(".key")
    return None


def load_key(key_file: Path | None, *, legacy: str | None = None) -> bytes:
    """The key: from a systemd credential, else from `key_file` (created 0600 if missing, with
    the legacy key moved in when there is one)."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / CREDENTIAL).is_file():
        return _parse((Path(credentials) / CREDENTIAL).read_text())
    if key_file is None:
        raise KeyError_("no key file: set server.key_file in the profile, or give the station the "
                        f"systemd credential {CREDENTIAL}")
    if not key_file.exists() or key_file.stat().st_size == 0:
        # Durably (a cut in the station's first seconds left an empty key that no start could
        # read); an empty file is one an older version left after such a cut, never a key.
        write_durably(key_file, ((legacy or secrets.token_hex(32)) + "\n").encode())
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o): made 0600", key_file, mode)
        key_file.chmod(0o600)
    return _parse(key_file.read_text())


def _parse(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise KeyError_("the station key is not hex") from None
    if len(key) < 32:
        raise KeyError_("the station key is shorter than 32 bytes")
    return key
