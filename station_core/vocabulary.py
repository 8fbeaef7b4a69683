"""The words staff read for door states, door actions and audit entries: one list, used by the
locker grid and its legend, the door dialog, the reports and their CSV files, so a door is never
"reserved" in one place and "being loaded" in another.

Program identifiers (`out_of_service`) stay in the database and the API; people see these.
"""

from __future__ import annotations

from dataclasses import dataclass

DOOR_STATES: dict[str, str] = {
    "free": "Free",
    "reserved": "Being loaded",
    "loaded": "Waiting for pickup",
    "picked_up": "Being picked up",
    "expired": "Expired, to reclaim",
    "out_of_service": "Out of service",
    "stocked": "Device ready to lend",
    "returning": "Device being returned",
    "return_unconfirmed": "Device return to confirm",
}

# What the door switch says, shown over the state: a door standing open is seen at a glance.
DOOR_SENSOR: dict[str, str] = {
    "open": "Door open", "closed": "Door closed", "unknown": "Sensor not answering",
    "unsensed": "No door sensor: opens cannot be confirmed",
}


@dataclass(frozen=True)
class DoorAction:
    name: str
    label: str
    destructive: bool = False  # undoes a patron's hold or takes a door away: confirmed first
    needs_reason: bool = False


OPEN = DoorAction("open", "Open door", needs_reason=True)
RECLAIM = DoorAction("reclaim", "Reclaim expired hold", destructive=True)
MOVE = DoorAction("move", "Move to another door")
CANCEL = DoorAction("cancel", "Cancel assignment", destructive=True)
OUT_OF_SERVICE = DoorAction("out_of_service", "Take out of service", destructive=True)
BACK_IN_SERVICE = DoorAction("back_in_service", "Back in service")
DEVICE_THERE = DoorAction("device_present", "Device is in the door")
DEVICE_MISSING = DoorAction("device_missing", "Device is not there", destructive=True)

# Only what makes sense in each state (the station refuses the rest anyway).
ACTIONS_BY_STATE: dict[str, tuple[DoorAction, ...]] = {
    "free": (OPEN, OUT_OF_SERVICE),
    "reserved": (OPEN, MOVE, CANCEL),
    "loaded": (OPEN, MOVE, CANCEL),
    "picked_up": (OPEN,),
    "expired": (RECLAIM, OPEN),
    "out_of_service": (BACK_IN_SERVICE, OPEN),
    "stocked": (OPEN,),
    "returning": (OPEN,),
    "return_unconfirmed": (DEVICE_THERE, DEVICE_MISSING, OPEN),
}


def door_state(state: str) -> str:
    return DOOR_STATES.get(state, state.replace("_", " ").capitalize())


def door_actions(state: str) -> tuple[DoorAction, ...]:
    return ACTIONS_BY_STATE.get(state, (OPEN,))


AUDIT_ACTIONS: dict[str, str] = {
    "login": "Signed in", "login_failed": "Failed sign-in", "logout": "Signed out",
    "door_open": "Door opened", "reclaim": "Expired hold reclaimed",
    "cancel_assignment": "Assignment cancelled", "move": "Hold moved to another door",
    "out_of_service": "Door taken out of service", "back_in_service": "Door back in service",
    "load_hold_shelf": "Hold sent to the hold shelf (no door fits)",
    "stock_device": "Device stocked", "device_return_confirmed": "Device return confirmed",
    "device_return_refused": "Device return refused", "pickup_codes_alert": "Many wrong pickup codes",
    "staff_user_created": "Staff account created", "staff_card_set": "Staff card set",
    "token_created": "API token created", "queue_replay": "Queue sent by hand",
    "exception_retry": "Exception retried", "exception_resolved": "Exception resolved",
    "card_locked": "Card locked after wrong PINs", "card_unlocked": "Card unlocked",
    "kiosk_code_made": "Kiosk enrolment code made", "kiosk_enrolled": "Kiosk enrolled",
    "kiosk_revoked": "Kiosk revoked", "maintenance_session": "Maintenance session at a kiosk",
    "report_sent": "Monthly report sent", "calendar_refresh": "Library calendar read again",
    "tag_overwritten": "Tag overwritten (held other data)",
}


def audit_action(action: str) -> str:
    return AUDIT_ACTIONS.get(action, action.replace("_", " ").capitalize())


TRANSACTION_KINDS: dict[str, str] = {"checkout": "Checkout", "checkin": "Return", "renew": "Renewal"}

# Why transactions were refused (ils/refusals.py codes, and the station's own), for statistics.
REFUSAL_LABELS: dict[str, str] = {
    "hold_for_other": "On hold for another patron", "library_use_only": "Library use only",
    "not_circulating": "Does not circulate", "checked_out_to_other": "On loan to someone else",
    "loan_limit": "Loan limit reached", "renewal_limit": "No renewals left",
    "unknown_item": "Item not known to the ILS", "patron_blocked": "Patron blocked",
    "fines": "Fines owed", "card_expired": "Card expired", "offline_limit": "Offline limit reached",
    "ils_offline": "ILS offline", "records_queued": "Earlier records still queued",
    "unconfirmed": "ILS did not answer", "not_supported": "Not offered by the ILS",
    "other": "Other reasons",
}

METRIC_LABELS: dict[str, str] = {
    "checkouts": "Checkouts", "returns": "Returns", "renewals": "Renewals",
    "kiosk_sessions": "Kiosk sessions", "locker_loaded": "Holds loaded into lockers",
    "locker_picked_up": "Locker pickups", "locker_expired": "Locker holds expired uncollected",
    "device_loans": "Tech-device loans", "refused": "Refused transactions",
    "offline_minutes": "Minutes offline", "book_drop": "Returned through the book drop",
}

BOOK_DROP_PROBLEMS: dict[str, str] = {  # bridge/returns/rules.py's problem codes
    "unreadable": "Tag unreadable", "foreign": "Another library's item",
    "part_missing": "A part of the set missing", "unsecured": "Security not set",
    "refused": "Refused by the ILS", "flagged": "Flagged by the ILS for staff",
    "no_bin": "No bin takes it",
}
