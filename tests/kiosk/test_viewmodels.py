"""Every screen's logic, without Kivy, on a scripted station API."""

from __future__ import annotations

import pytest

from kiosk.api import ApiError
from kiosk.i18n import set_language
from kiosk.viewmodels.account import AccountVM
from kiosk.viewmodels.context import KioskContext, Patron
from kiosk.viewmodels.identify import IdentifyVM
from kiosk.viewmodels.lockers import PickupVM, TechReturnVM
from kiosk.viewmodels.menu import MenuVM
from kiosk.viewmodels.pad import CheckoutVM, ReturnVM, due_text
from kiosk.viewmodels.receipt import GoodbyeVM, ReceiptVM
from kiosk.viewmodels.staff import StaffVM
from tests.kiosk.fake_api import FakeApi

SESSION = {"token": "t", "name": "María José Núñez", "offline": False, "blocked": False,
           "message": "", "idle_timeout_s": 60}


@pytest.fixture(autouse=True)
def english() -> None:
    set_language("en")


def context(api: FakeApi, **kw) -> tuple[KioskContext, list[str], list[str]]:
    screens: list[str] = []
    cues: list[str] = []
    ctx = KioskContext(api=api, navigate=screens.append, cue=cues.append, **kw)
    return ctx, screens, cues


def test_identify_with_barcode_then_pin() -> None:
    api = FakeApi(sign_in=SESSION)
    ctx, screens, cues = context(api)
    vm = IdentifyVM(ctx)
    vm.submit()
    assert vm.error == "Please scan or type your card number"
    for digit in "2900001000":
        vm.key(digit)
    vm.submit()
    assert vm.stage == "pin" and vm.prompt == "Enter your PIN"
    for digit in "1234":
        vm.key(digit)
    assert vm.shown == "••••"  # the PIN is never shown
    vm.submit()
    assert api.calls[-1] == ("sign_in", (), {"barcode": "2900001000", "pin": "1234", "card_tap": None})
    assert screens == ["menu"] and cues == ["ok"] and ctx.patron.name == "María José Núñez"
    assert vm.stage == "card" and vm.pin == ""


def test_identify_wrong_pin_keeps_the_card_and_a_scanner_signs_in() -> None:
    api = FakeApi(sign_in=ApiError(403, "Card number or PIN not recognised"))
    ctx, _screens, cues = context(api)
    vm = IdentifyVM(ctx)
    vm.scanned("2900001000\n")
    assert vm.stage == "pin" and vm.barcode == "2900001000"
    vm.key("9")
    vm.submit()
    assert vm.error == "Card number or PIN not recognised"
    assert vm.stage == "pin" and vm.pin == "" and cues == ["error"]
    api.answers["sign_in"] = ApiError(0, "unreachable")
    vm.key("1")
    vm.submit()
    assert "not reachable" in vm.error and vm.stage == "card"


def test_card_tap_asks_for_the_pin_unless_not_required() -> None:
    api = FakeApi(sign_in=SESSION)
    ctx, screens, _ = context(api)
    vm = IdentifyVM(ctx)
    vm.card_tapped("tap-one")
    assert vm.stage == "pin" and not api.calls
    no_pin = IdentifyVM(ctx, require_pin=False)
    no_pin.card_tapped("tap-two")
    assert api.calls[-1][2] == {"barcode": None, "pin": None, "card_tap": "tap-two"}
    assert screens == ["menu"]


def test_a_staff_tap_asks_for_the_staff_pin_then_opens_maintenance() -> None:
    opened: list[bool] = []
    api = FakeApi()
    ctx, _screens, _ = context(api)
    ctx.open_maintenance = lambda: opened.append(True)
    vm = IdentifyVM(ctx, require_pin=False)  # a staff PIN is asked for even so
    vm.staff_tapped("staff-tap")
    assert vm.stage == "pin" and vm.staff and not api.calls
    for digit in "2468":
        vm.key(digit)
    vm.submit()
    assert api.calls[-1] == ("staff_card", ("staff-tap", "2468"), {}) and opened == [True]


def test_a_locked_card_is_said_in_the_kiosks_words() -> None:
    api = FakeApi(sign_in=ApiError(423, "This card is locked...", "card_locked", 900))
    ctx, _screens, _ = context(api)
    vm = IdentifyVM(ctx)
    vm.scanned("2900001000")
    vm.key("1")
    vm.submit()
    assert "too many wrong PINs" in vm.error and vm.stage == "card"


def test_session_countdown_warns_then_ends_the_session() -> None:
    api = FakeApi()
    ctx, screens, _ = context(api, idle_timeout_s=20, warning_s=5)
    ctx.start_session(Patron("A", False, False))
    ctx.tick(14)
    assert not ctx.warning and ctx.remaining_s == 6
    ctx.tick(2)
    assert ctx.warning
    ctx.touch()  # the patron tapped: back to the full time
    assert ctx.remaining_s == 20 and not ctx.warning
    ctx.tick(25)
    assert ctx.patron is None and screens == ["attract"] and "sign_out" in api.names()


def test_menu_offers_lockers_only_where_there_are_some() -> None:
    ctx, screens, _ = context(FakeApi())
    ctx.start_session(Patron("María José Núñez", offline=True, blocked=False))
    vm = MenuVM(ctx)
    assert vm.greeting == "Hello, María"
    assert "offline" in vm.notice
    assert [k for k, _ in vm.options] == ["checkout", "account", "finish"]
    ctx.has_lockers = True
    assert "pickup" in [k for k, _ in vm.options]
    vm.choose("finish")
    assert screens == ["receipt"]


def test_checkout_list_follows_pad_events() -> None:
    api = FakeApi(pad={"mode": "checkout", "items": []})
    ctx, screens, cues = context(api)
    vm = CheckoutVM(ctx)
    vm.start()
    assert api.calls[0] == ("pad", ("checkout",), {})
    vm.on_event({"type": "pad_item", "item_id": "B1", "status": "done", "title": "Kindred",
                 "due_date": "2026-12-22T07:30:00", "offline": False})
    vm.on_event({"type": "pad_item", "item_id": "KIT", "status": "incomplete", "title": "",
                 "parts": 2, "missing": [2]})
    vm.on_event({"type": "pad_item", "item_id": "X", "status": "see_staff", "title": "Beloved"})
    vm.on_event({"type": "pad_item", "item_id": "tag:E004", "status": "unreadable", "title": ""})
    assert vm.rows == [
        ("Kindred", "Due Dec 22, 2026, 7:30\u202fAM", "done"),
        ("KIT", "Part 2 of 2 is missing: put every part on the pad", "incomplete"),
        ("Beloved", "Please take this item to the service desk", "see_staff"),
        ("An item", "Its tag cannot be read: take it to the service desk", "unreadable"),
    ]
    assert vm.counts == (1, 3) and cues == ["ok", "attention", "attention", "attention"]
    vm.finish()
    assert api.calls[-1] == ("pad", ("stop",), {}) and screens == ["receipt"]
    assert [i["item_id"] for i in ctx.last_items] == ["B1"]


def test_return_shows_hold_and_transit_instructions() -> None:
    ctx, screens, _ = context(FakeApi(pad={"mode": "return", "items": []}))
    vm = ReturnVM(ctx)
    vm.start()
    vm.on_event({"type": "pad_item", "item_id": "H", "status": "done", "title": "Held",
                 "hold_pickup": "LOCKERS1", "in_transit_to": ""})
    vm.on_event({"type": "pad_item", "item_id": "T", "status": "done", "title": "Far",
                 "hold_pickup": "", "in_transit_to": "SCIENCE"})
    assert [r[1] for r in vm.rows] == [
        "Returned. On hold for someone else: put it in the holds bin",
        "Returned. It belongs elsewhere: put it in the transit bin"]
    vm.finish()
    assert screens == ["goodbye"]


def test_account_renew_selected_and_all() -> None:
    account = {"loans": [{"item_id": "A", "title": "One", "due_date": "2026-12-22T07:30:00",
                          "overdue": False},
                         {"item_id": "B", "title": "Two", "due_date": "2026-11-20T12:00:00",
                          "overdue": True}],
               "holds": [{"item_id": "H1", "title": "Ready", "ready": True},
                         {"item_id": "H2", "title": "", "ready": False}],
               "fines": [], "fee_amount": "0.00", "blocked": False, "block_reason": ""}
    api = FakeApi(account=account, renew=[
        {"item_id": "A", "ok": True, "due_date": "2027-01-19T07:30:00", "message": ""}])
    ctx, _, cues = context(api)
    vm = AccountVM(ctx)
    vm.load()
    assert vm.loans == [("A", "One", "Due Dec 22, 2026, 7:30\u202fAM", False),
                        ("B", "Two", "Overdue since Nov 20, 2026, 12:00\u202fPM", False)]
    assert vm.holds == (["Ready"], ["H2"]) and vm.fines == "No fines"
    vm.renew_selected()
    assert "renew" not in api.names()  # nothing chosen yet
    vm.toggle("A")
    assert vm.loans[0][3] is True
    vm.renew_selected()
    assert api.calls[-2] == ("renew", (["A"],), {})
    assert vm.loans[0][2] == "Renewed: due Jan 19, 2027, 7:30\u202fAM" and cues == ["ok"]
    api.answers["renew"] = [{"item_id": "B", "ok": False, "due_date": "",
                             "message": "Renewal limit reached"}]
    vm.renew_all()
    assert ("renew", (None,), {}) in api.calls and vm.loans[1][2] == "Renewal limit reached"
    api.answers["account"] = ApiError(409, "Your account cannot be shown while offline.")
    vm.load()
    assert vm.error.startswith("Your account cannot be shown")


def test_pickup_by_code_and_signed_in() -> None:
    doors = [{"door_id": "A01", "outcome": "opened", "items": ["x", "y"], "problems": []},
             {"door_id": "A02", "outcome": "open_not_detected", "items": [], "problems": []}]
    api = FakeApi(pickup_code=doors, pickup_signed_in=doors[:1])
    ctx, _, cues = context(api)
    vm = PickupVM(ctx, digits=6)
    for digit in "1234":
        vm.key(digit)
    vm.submit()
    assert vm.error == "The pickup code has 6 digits" and "pickup_code" not in api.names()
    vm.key("5")
    vm.key("6")
    vm.submit()
    assert api.calls[-1] == ("pickup_code", ("123456",), {})
    assert vm.lines == ["Door A01 is open: take your 2 items and close the door.",
                        "Door A02 did not open: please call staff."]
    ctx.start_session(Patron("A", False, False))
    vm.start()
    assert api.calls[-1][0] == "pickup_signed_in" and len(vm.lines) == 1
    api.answers["pickup_code"] = ApiError(429, "Too many wrong codes")
    vm.reset()
    for digit in "000000":
        vm.key(digit)
    vm.submit()
    assert vm.error == "Too many wrong codes" and cues[-1] == "error"


def test_tech_return_receipt_goodbye_and_staff() -> None:
    api = FakeApi(return_device={"door_id": "A15", "outcome": "opened"},
                  receipt={"sent": False, "why": "no_printer", "reason": "this kiosk has no printer"},
                  staff_status={"queue": {"pending": 2, "open_exceptions": 1},
                                "devices": [{"kind": "lock_board", "id": "A", "state": "error",
                                             "last_error": "silent"}]},
                  staff_doors=[{"door_id": "A01", "state": "loaded"}],
                  staff_open={"outcome": "opened"})
    ctx, screens, _ = context(api, has_lockers=True)
    tech = TechReturnVM(ctx)
    tech.scanned(" 3100004003 ")
    assert api.calls[-1] == ("return_device", ("3100004003",), {}) and "Door A15 is open" in tech.message
    ctx.start_session(Patron("A", False, False))
    ctx.last_items = [{"item_id": "B1"}]
    receipt = ReceiptVM(ctx)
    assert receipt.summary == "You borrowed 1 item today."
    receipt.choose("print")
    assert "printer" in receipt.message and screens[-1] == "goodbye"
    assert ctx.patron is None
    assert GoodbyeVM(ctx).headline == "Thank you!"
    staff = StaffVM(ctx)
    staff.enter()  # after the staff card and its PIN
    assert screens[-1] == "staff" and staff.queue_line == "Queue: 2 transactions waiting, 1 exception"
    [(device, state)] = staff.device_lines
    assert device == "Lock board A" and "not working" in state and staff.doors
    staff.open_door("A01")
    assert staff.message == "Door A01: opened"
    staff.leave()
    assert api.staff_token == "" and screens[-1] == "attract"


def test_spanish_is_one_switch_away() -> None:
    ctx, _, _ = context(FakeApi())
    languages: list[str] = []
    ctx.on_language = lambda language: (set_language(language), languages.append(language))
    ctx.set_language("es")
    ctx.start_session(Patron("Ana", False, False))
    assert MenuVM(ctx).greeting == "Hola, Ana" and languages == ["es"]
    assert due_text("2026-12-22T07:30:00") == "22 dic 2026, 7:30"
    assert due_text("end of term") == "end of term"  # an ILS's own words pass through


def test_a_device_return_is_told_in_the_sessions_language() -> None:
    """Before: the tech-device return's screenshot said "Door A15 is open: put the device on its
    charger..." in English in a Spanish session (the demo data had its own English copy)."""
    from kiosk.i18n import set_language
    from kiosk.viewmodels.lockers import device_door_open

    try:
        set_language("es")
        spanish = device_door_open("A15")
        set_language("en")
        english = device_door_open("A15")
    finally:
        set_language("en")
    assert "A15" in spanish and "A15" in english and spanish != english
    assert "charger" not in spanish


def test_what_the_station_reports_is_said_in_a_spanish_session() -> None:
    """The station sends codes and states; the kiosk words them in the session's language (a
    receipt that could not be sent, the maintenance screen's devices and a door it opened)."""
    from tests.kiosk.test_kiosk_offscreen import reads_as_english

    api = FakeApi(receipt={"sent": False, "why": "mail_down",
                           "reason": "the mail server is not reachable"},
                  staff_status={"queue": {"pending": 0, "open_exceptions": 0},
                                "devices": [{"kind": "card_reader", "id": "campus", "state": "error",
                                             "last_error": "no PC/SC reader matching 'ACR122'"},
                                            {"kind": "rfid_reader", "id": "pad", "state": "ok",
                                             "last_error": ""}]},
                  staff_doors=[{"door_id": "A01", "state": "loaded"}],
                  staff_open={"outcome": "open_not_detected"})
    ctx, _screens, _ = context(api, has_lockers=True)
    set_language("es")
    try:
        ctx.start_session(Patron("A", False, False))
        receipt = ReceiptVM(ctx)
        receipt.choose("email")
        staff = StaffVM(ctx)
        staff.enter()
        staff.open_door("A01")
        shown = [receipt.message, staff.message,
                 *(f"{device}: {state}" for device, state in staff.device_lines)]
        assert all(shown) and not [text for text in shown if reads_as_english(text)], shown
    finally:
        set_language("en")
