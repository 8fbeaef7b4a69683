"""One way in: the adapter a station talks to, built from its profile's `[ils]` section. The
station names no protocol; a library system spoken over something other than SIP2 is a new
branch here and an adapter beside sip2_adapter.py."""

from __future__ import annotations

from ils.adapter import IlsAdapter
from ils.dialects import dialect
from ils.sip2.client import Sip2Settings
from ils.sip2_adapter import Sip2Adapter
from station_core.profile import Profile


def sip2_settings(profile: Profile) -> Sip2Settings:
    ils = profile.ils
    spoken = dialect(ils.dialect)
    return Sip2Settings(
        host=ils.host, port=ils.port, tls=ils.tls, tls_verify=ils.tls_verify, ca_file=ils.ca_file,
        client_cert=ils.client_cert, client_key=ils.client_key,
        encoding=ils.encoding or spoken.encoding,
        error_detection=spoken.error_detection if ils.error_detection is None else ils.error_detection,
        terminator="\r\n" if ils.terminator == "crlf" else "\r", dialect=ils.dialect,
        strict=not ils.lenient, login_user=ils.login_user,
        login_password=profile.ils_password(),
        location_code=ils.login_location or profile.station.location_code,
        institution_id=profile.station.institution_id, timeout_s=ils.timeout_s,
        connect_timeout_s=min(ils.timeout_s, 3.0), retries=ils.retries, pool_size=ils.pool_size,
    )


def connect(profile: Profile) -> IlsAdapter:
    """The profile's library system, not yet connected (the station's ILS link logs it in)."""
    return Sip2Adapter(sip2_settings(profile))
