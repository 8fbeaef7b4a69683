"""Access at run time: the kiosk registry, the PIN guard, card taps turned into one-time nonces,
and keeping the tables unauthenticated callers add to small."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bridge.access.housekeeping import bound_tables
from bridge.access.kiosks import KioskRegistry
from bridge.access.pin_guard import PinGuard
from bridge.capability import Capability
from bridge.devices.owner import DeviceOwner
from rfid.cards.reader import CardReaderError

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station

HOUSEKEEPING_S = 60.0


def build(station: Station) -> Capability:
    kiosk = station.profile.kiosk
    station.kiosk_registry = KioskRegistry(station.engine)

    def audit(action: str, detail: str) -> None:
        station.auth.audit("station", action, station.profile.station.id, detail)
        if action == "card_locked":  # suspicious for the hub; which card stays here
            station.bus.publish("staff_alert", reason="a card was locked by wrong PINs")

    def spraying(failures: int) -> None:
        station.bus.publish("staff_alert", reason="many wrong PINs across cards at this station",
                            failures_last_hour=failures)

    station.pin_guard = PinGuard(station.attempts, station.key, max_failures=kiosk.pin_attempts,
                                 lock_s=kiosk.pin_lock_minutes * 60, audit=audit,
                                 kiosk_free=kiosk.pin_kiosk_free_failures,
                                 kiosk_max_wait_s=kiosk.pin_kiosk_max_wait_s,
                                 alert_per_hour=kiosk.pin_alert_failures_per_hour, alert=spraying)
    room = Capability("access")
    for (kind, reader_id), owner in station.owners.items():
        if kind == "card_reader" and owner.device is not None:
            room.task(f"card-{reader_id}", lambda r=reader_id, o=owner: card_taps(station, r, o))

    async def housekeeping() -> None:
        await asyncio.to_thread(bound_tables, station.engine, station.profile.privacy.audit_days)
    room.every(HOUSEKEEPING_S, "bounded tables", housekeeping)
    return room


async def card_taps(station: Station, reader_id: str, owner: DeviceOwner) -> None:
    """Taps on a card reader become `card` events for the kiosk (which then signs in)."""
    staff_cards = {c.upper() for c in station.profile.kiosk.staff_cards}
    while True:
        if owner.health.state != "ok":
            await asyncio.sleep(0.5)
            continue
        try:
            card = await owner.device.wait_for_card(1.0)
        except CardReaderError as exc:
            owner.report_failure(exc)
            continue
        if card is not None:
            uid = card.uid.hex().upper()
            staff = uid in staff_cards
            # Only a one-time nonce travels; the UID stays in the station (access/card_taps.py).
            tap = station.taps.issue(uid, reader_id, staff=staff, kiosk=station.profile.kiosk.id)
            station.bus.publish("card", reader=reader_id, tap=tap, staff=staff)
