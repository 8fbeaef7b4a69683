"""The locker bank: its doors (bank_core.py) with every flow on them - loading, pickup, the desk's
actions and expiry, tech lending - as one object the station and the routes use."""

from __future__ import annotations

from bridge.lockers.desk import Desk
from bridge.lockers.lending import Lending
from bridge.lockers.loading import Loading
from bridge.lockers.pickup import Pickup


class LockerBank(Loading, Pickup, Desk, Lending):
    """Everything on a locker bank; built by bridge/lockers/capability.py."""
