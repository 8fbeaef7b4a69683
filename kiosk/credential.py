"""What this kiosk got when it enrolled with the station - its id and its credential - kept in a
0600 file (the profile's `kiosk.credential_file`)."""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from pathlib import Path

from station_core.durable_files import write_durably


@dataclass(frozen=True)
class Enrolment:
    kiosk_id: str
    credential: str
    certificate: str = ""  # the station's certificate (PEM), pinned at enrolment when on HTTPS

    def ssl_context(self) -> ssl.SSLContext | None:
        """Trust exactly the pinned certificate (it is the station's identity, so the host name
        it was reached by does not matter); None on plain HTTP."""
        if not self.certificate:
            return None
        context = ssl.create_default_context(cadata=self.certificate)
        context.check_hostname = False
        return context


def read_enrolment(path: Path | None) -> Enrolment | None:
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return Enrolment(str(data["kiosk_id"]), str(data["credential"]),
                         str(data.get("certificate", "")))
    except (ValueError, KeyError, TypeError):
        return None


def save_enrolment(path: Path, enrolment: Enrolment) -> None:
    write_durably(path, json.dumps({"kiosk_id": enrolment.kiosk_id,
                                    "credential": enrolment.credential,
                                    "certificate": enrolment.certificate}).encode())
