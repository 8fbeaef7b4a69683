"""The kiosk's only way to the station: its HTTP API (and the event WebSocket, in events.py)."""

from __future__ import annotations

import contextlib
import ssl
from typing import Any

import httpx


class ApiError(Exception):
    """The station answered with a refusal (detail is for the patron) or did not answer.
    `code` names a refusal the kiosk says in its own words (e.g. "card_locked")."""

    def __init__(self, status: int, detail: str, code: str = "", retry_after_s: float = 0) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.code, self.retry_after_s = code, retry_after_s

    @property
    def unreachable(self) -> bool:
        return self.status == 0


class StationApi:
    def __init__(self, base_url: str, timeout_s: float = 15.0, credential: str = "",
                 tls: ssl.SSLContext | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # An enrolled kiosk's credential goes with every call (bridge/access/kiosks.py); on HTTPS only
        # the station certificate pinned at enrolment is trusted.
        headers = {"X-Kiosk-Credential": credential} if credential else {}
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s, headers=headers,
                                    verify=tls if tls is not None else True)
        self.session_token = ""
        self.staff_token = ""

    def close(self) -> None:
        self._client.close()

    def enrol(self, code: str, kiosk_id: str, name: str = "") -> str:
        """Trade a one-time code from the console for this kiosk's credential."""
        return self._call("POST", "/api/v1/kiosks/enrol",
                          {"code": code, "kiosk_id": kiosk_id, "name": name})["credential"]

    def _call(self, method: str, path: str, body: Any = None, *, staff: bool = False) -> Any:
        headers = {}
        if self.session_token:
            headers["X-Kiosk-Session"] = self.session_token
        if staff and self.staff_token:
            headers["Authorization"] = f"Bearer {self.staff_token}"
        try:
            response = self._client.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiError(0, "The station is not reachable.") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", "")
            except ValueError:
                detail = ""
            if isinstance(detail, dict):  # a refusal with a code: {"error", "message", ...}
                raise ApiError(response.status_code, str(detail.get("message", "Refused")),
                               str(detail.get("error", "")), float(detail.get("retry_after_s", 0)))
            raise ApiError(response.status_code, detail if isinstance(detail, str) else "Refused")
        return response.json() if response.content else None

    # -- station and session ---------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._call("GET", "/healthz")

    def status(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/status")

    def sign_in(self, *, barcode: str | None = None, pin: str | None = None,
                card_tap: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"barcode": barcode, "pin": pin, "card_tap": card_tap}.items() if v}
        session = self._call("POST", "/api/v1/sessions", body)
        self.session_token = session["token"]
        return session

    def sign_out(self) -> None:
        if self.session_token:
            # Expired, or the station restarted: the session is gone either way.
            with contextlib.suppress(ApiError):
                self._call("DELETE", "/api/v1/sessions/current")
        self.session_token = ""

    def heartbeat(self, kiosk_id: str, screen: str, offline_shown: bool) -> None:
        self._call("POST", f"/api/v1/kiosks/{kiosk_id}/heartbeat",
                   {"screen": screen, "offline_shown": offline_shown, "version": "0.1.0"})

    # -- circulation -----------------------------------------------------------------------------
    def account(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/account")

    def renew(self, item_ids: list[str] | None = None) -> list[dict[str, Any]]:
        body = {"all": True} if item_ids is None else {"item_ids": item_ids}
        return self._call("POST", "/api/v1/renew", body)

    def checkin(self, item_id: str) -> dict[str, Any]:
        return self._call("POST", "/api/v1/checkin", {"item_id": item_id})

    def checkout(self, item_id: str) -> dict[str, Any]:
        return self._call("POST", "/api/v1/checkout", {"item_id": item_id})

    def pad(self, mode: str | None = None) -> dict[str, Any]:
        """mode: None (just read), "checkout", "return" or "stop"."""
        return self._call("GET", "/api/v1/pad") if mode is None else \
            self._call("POST", f"/api/v1/pad/{mode}")

    def receipt(self, kind: str) -> dict[str, Any]:
        return self._call("POST", "/api/v1/receipt", {"kind": kind})

    def returns_receipt(self, kind: str) -> dict[str, Any]:
        """A receipt of what just went through the return slot."""
        return self._call("POST", "/api/v1/returns/receipt", {"kind": kind})

    def returns_status(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/returns/status")

    # -- lockers ---------------------------------------------------------------------------------
    def pickup_code(self, code: str) -> list[dict[str, Any]]:
        return self._call("POST", "/api/v1/lockers/pickup/code", {"code": code})

    def pickup_signed_in(self) -> list[dict[str, Any]]:
        return self._call("POST", "/api/v1/lockers/pickup")

    def return_device(self, item_id: str) -> dict[str, Any]:
        return self._call("POST", "/api/v1/lockers/devices/return", {"item_id": item_id})

    # -- staff maintenance -----------------------------------------------------------------------
    def staff_card(self, card_tap: str, pin: str) -> None:
        self.staff_token = self._call("POST", "/api/v1/maintenance/session",
                                      {"card_tap": card_tap, "pin": pin})["token"]

    def staff_status(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/staff/status", staff=True)

    def staff_doors(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/staff/lockers", staff=True)

    def staff_open(self, door_id: str, reason: str) -> dict[str, Any]:
        return self._call("POST", f"/api/v1/staff/lockers/{door_id}/open", {"reason": reason},
                          staff=True)
