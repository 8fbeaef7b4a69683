"""Sample states for every screen, for `bronco kiosk --screenshots` (documentation, translators)."""

from __future__ import annotations

from typing import Any

from kiosk.viewmodels.context import Patron
from kiosk.viewmodels.lockers import device_door_open

PATRON = Patron("María José Núñez", offline=False, blocked=False)

CHECKOUT_ITEMS = [
    {"item_id": "3100002000", "status": "done", "title": "The Left Hand of Darkness",
     "due_date": "2026-12-22T07:30:00", "offline": False, "parts": 1, "missing": []},
    {"item_id": "3100002001", "status": "done", "title": "Cien años de soledad",
     "due_date": "2026-12-22T07:30:00", "offline": False, "parts": 1, "missing": []},
    {"item_id": "3100004001", "status": "incomplete", "title": "Laptop kit: Dell Latitude 5440",
     "parts": 2, "missing": [2]},
    {"item_id": "3100006001", "status": "refused", "title": "Oxford English Dictionary, vol. 3",
     "message": "This item is for use in the library only", "reason": "library_use_only",
     "parts": 1, "missing": []},
    {"item_id": "3100002008", "status": "see_staff", "title": "Silent Spring", "parts": 1,
     "missing": []},
]

RETURN_ITEMS = [
    {"item_id": "3100002000", "status": "done", "title": "The Left Hand of Darkness",
     "message": "", "hold_pickup": "", "in_transit_to": ""},
    {"item_id": "3100007003", "status": "done", "title": "The Fifth Season", "message": "",
     "hold_pickup": "LOCKERS1", "in_transit_to": ""},
    {"item_id": "3100008002", "status": "done", "title": "Gödel, Escher, Bach", "message": "",
     "hold_pickup": "", "in_transit_to": "SCIENCE"},
    {"item_id": "tag:E00401009988", "status": "unreadable", "title": ""},
]

ACCOUNT: dict[str, Any] = {
    "name": PATRON.name,
    "loans": [
        {"item_id": "3100002000", "title": "The Left Hand of Darkness",
         "due_date": "2026-12-22T07:30:00", "overdue": False},
        {"item_id": "3100003001", "title": "Organic Chemistry (course reserve)",
         "due_date": "2026-11-24T12:00:00", "overdue": True},
    ],
    "holds": [{"item_id": "3100007001", "title": "The Overstory", "ready": True},
              {"item_id": "3100007002", "title": "Braiding Sweetgrass", "ready": False}],
    "fines": ["Outstanding fines 2.75"], "fee_amount": "2.75", "blocked": False, "block_reason": "",
}

PICKUP_DOORS = [{"door_id": "A01", "outcome": "opened", "items": ["The Overstory"], "problems": []},
                {"door_id": "A03", "outcome": "opened", "items": ["Educated"], "problems": []}]

STAFF_STATUS = {
    "queue": {"pending": 3, "in_doubt": 0, "open_exceptions": 1},
    "devices": [{"kind": "rfid_reader", "id": "pad", "state": "ok", "last_error": ""},
                {"kind": "lock_board", "id": "A", "state": "ok", "last_error": ""},
                {"kind": "card_reader", "id": "campus", "state": "error",
                 "last_error": "no PC/SC reader matching 'ACR122'"}],
}
STAFF_DOORS = [{"door_id": f"A{n:02d}", "state": "loaded" if n in (1, 3) else "free"}
               for n in range(1, 17)]


SLOT_EVENTS = [
    {"item_id": "3100002000", "title": "The Left Hand of Darkness", "kind": "media_type"},
    {"item_id": "3100007001", "title": "Parable of the Sower", "kind": "hold", "hold": True},
    {"item_id": "3100002001", "title": "Kindred", "kind": "problem", "problem": "part_missing"},
    {"item_id": "9900001", "title": "", "kind": "problem", "problem": "foreign",
     "handed_back": True},
]


def shots(app: Any) -> list[tuple[str, str]]:
    """(picture name, screen) for the screenshot walk: every screen, and at a locker bank the
    code entry as well as the opened doors on the bank's map."""
    out = [(name, name) for name in app.screen_names()]
    if app.ctx.mode == "lockers":
        out.insert(0, ("pickup_code", "pickup"))
    return out


def fill(app: Any, screen: str) -> None:
    """Put the sample state for `screen` (a name from shots()) into its view-model."""
    ctx, vms = app.ctx, app.vms
    if screen == "pickup_code":
        ctx.patron = None
        vms["pickup"].reset()
        vms["pickup"].code = "4071"
        vms["pickup"].changed()
        return
    if screen == "attract":
        app.attract.on_health({"status": "ok", "devices": []})
        return
    if screen not in ("identify",):
        ctx.patron = PATRON
        ctx.remaining_s = ctx.idle_timeout_s
    if screen == "identify":
        vm = vms["identify"]
        vm.barcode, vm.stage, vm.pin = "2900001000", "pin", "12"
    elif screen == "checkout":
        vms["checkout"].items = {i["item_id"]: i for i in CHECKOUT_ITEMS}
        ctx.remaining_s = 9  # shows the countdown warning
    elif screen == "return":
        ctx.patron = None
        vms["return"].items = {i["item_id"]: i for i in RETURN_ITEMS}
    elif screen == "account":
        vms["account"].account, vms["account"].loading = ACCOUNT, False
        vms["account"].selected = {"3100002000"}
    elif screen == "pickup":
        vms["pickup"].doors = PICKUP_DOORS
    elif screen == "tech_return":
        # The kiosk's own words, in the session's language, as the screen builds them.
        vms["tech_return"].message = device_door_open("A15")
    elif screen == "receipt":
        ctx.last_items = CHECKOUT_ITEMS[:2]
    elif screen == "returns":
        ctx.patron = None
        vm = vms["returns"]
        vm.taken, vm.why = [], ""
        for event in SLOT_EVENTS:  # the station's codes; the words are the kiosk's
            vm.on_event({"type": "returned", **event})
    elif screen == "staff":
        vms["staff"].status, vms["staff"].doors = STAFF_STATUS, STAFF_DOORS
    ctx.changed()
    for vm in vms.values():
        vm.changed()
