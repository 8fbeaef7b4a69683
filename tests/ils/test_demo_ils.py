"""The demo ILS's circulation rules, driven through our SIP2 adapter over real TCP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ils.demo_server.data import load_library
from ils.demo_server.library import Library
from ils.demo_server.server import DemoIlsServer
from ils.errors import IlsRejected
from ils.sip2.client import Sip2Settings
from ils.sip2_adapter import Sip2Adapter

MARIA, MARIA_PIN = "2900001000", "1234"
FRANCOIS = "2900001001"
BLOCKED, FINES = "2900001003", "2900001004"
BOOK, BOOK2 = "3100002000", "3100002001"
HELD_FOR_MARIA, HELD_FOR_FRANCOIS = "3100007001", "3100007003"
RESERVE, LAPTOP, REFERENCE, MISSING = "3100003001", "3100004001", "3100006001", "3100006002"
ILL_ITEM, BRANCH_COPY = "3100008001", "3100008002"


@pytest.fixture
async def ils(tmp_path: Path) -> AsyncIterator[tuple[Sip2Adapter, DemoIlsServer]]:
    server = DemoIlsServer(load_library(), ledger=tmp_path / "ledger.jsonl", encoding="utf-8")
    port = await server.start("127.0.0.1", 0)
    adapter = Sip2Adapter(Sip2Settings(
        port=port, encoding="utf-8", login_user="kiosk", login_password="demo",
        location_code="KIOSK1", strict=True, pool_size=2,
    ))
    await adapter.start()
    yield adapter, server
    await adapter.close()
    await server.close()


async def test_status_and_supported_messages(ils) -> None:
    adapter, _ = ils
    status = await adapter.status()
    assert status.online and status.offline_ok and status.institution_id == "DEMO"
    assert {"93", "99", "63", "11", "09", "29", "65", "17", "37", "35"} <= status.supported
    assert "15" not in status.supported  # holds are not placed through the demo ILS


async def test_patron_identification(ils) -> None:
    adapter, _ = ils
    patron = await adapter.authenticate_patron(MARIA, MARIA_PIN)
    assert patron.name == "María José Núñez" and patron.pin_ok and not patron.blocked
    with pytest.raises(IlsRejected, match="Incorrect PIN"):
        await adapter.authenticate_patron(MARIA, "9999")
    with pytest.raises(IlsRejected, match="not recognised"):
        await adapter.authenticate_patron("0000000000")
    blocked = await adapter.authenticate_patron(BLOCKED, "4567")
    assert blocked.blocked and "expired" in blocked.block_reason
    fined = await adapter.authenticate_patron(FINES, "5678")
    assert fined.blocked and fined.fee_amount == "12.50" and "Fines" in fined.block_reason


async def test_checkout_rules(ils) -> None:
    adapter, _ = ils
    out = await adapter.checkout(MARIA, BOOK)
    assert out.title == "The Left Hand of Darkness" and not out.renewal
    again = await adapter.checkout(MARIA, BOOK)  # same patron again: a renewal
    assert again.renewal
    refusals = {
        (BLOCKED, BOOK2): "expired",
        (FINES, BOOK2): "Fines",
        (FRANCOIS, BOOK): "someone else",
        (FRANCOIS, HELD_FOR_MARIA): "on hold for another patron",
        (MARIA, REFERENCE): "in the library only",
        (MARIA, MISSING): "cannot be checked out",
        (MARIA, "NO-SUCH-ITEM"): "Item not found",
    }
    for (patron, item), reason in refusals.items():
        with pytest.raises(IlsRejected, match=reason):
            await adapter.checkout(patron, item)
    held = await adapter.checkout(MARIA, HELD_FOR_MARIA)  # the hold's own patron may
    assert held.item_id == HELD_FOR_MARIA


async def test_account_lists_loans_holds_and_fines(ils) -> None:
    adapter, _ = ils
    await adapter.checkout(MARIA, BOOK)
    await adapter.checkin(HELD_FOR_MARIA, location="LOCKERS1")  # trapped: ready for pickup
    account = await adapter.patron_account(MARIA, MARIA_PIN)
    assert [(loan.item_id, loan.title) for loan in account.loans] == [(BOOK, "The Left Hand of Darkness")]
    assert account.loans[0].due_date
    assert {(h.item_id, h.ready) for h in account.holds} == {
        (HELD_FOR_MARIA, True), ("3100007002", False),
    }
    fined = await adapter.patron_account("2900001005", "6789")
    assert [f.description for f in fined.fines] == ["Outstanding fines 2.75"]


async def test_checkin_hold_trap_names_the_patron(ils) -> None:
    adapter, _ = ils
    here = await adapter.checkin(HELD_FOR_FRANCOIS, location="LOCKERS1")
    assert here.hold is not None
    assert (here.hold.patron_id, here.hold.patron_name, here.hold.pickup_location) == (
        FRANCOIS, "François Lefèvre", "LOCKERS1")
    assert here.sort_bin == "HOLDS" and here.alert
    info = await adapter.item_info(HELD_FOR_FRANCOIS)
    assert info.circulation_status == 8  # waiting on the hold shelf


async def test_checkin_in_transit_and_plain_return(ils) -> None:
    adapter, _ = ils
    away = await adapter.checkin(BRANCH_COPY, location="KIOSK1")
    assert away.hold is None and away.in_transit_to == "SCIENCE" and away.sort_bin == "TRANSIT"
    assert (await adapter.item_info(BRANCH_COPY)).circulation_status == 10
    await adapter.checkout(MARIA, BOOK)
    back = await adapter.checkin(BOOK)
    assert back.hold is None and not back.in_transit_to and back.previous_patron_id == MARIA
    assert back.sort_bin == "STACKS" and back.resensitize
    with pytest.raises(IlsRejected, match="Item not found"):
        await adapter.checkin("NO-SUCH-ITEM")


async def test_renew_limits_and_renew_all(ils) -> None:
    adapter, _ = ils
    await adapter.checkout(MARIA, BOOK)
    await adapter.checkout(MARIA, RESERVE)  # 2-hour reserve: no renewals
    assert (await adapter.renew(MARIA, BOOK)).renewal
    with pytest.raises(IlsRejected, match="Renewal limit"):
        await adapter.renew(MARIA, RESERVE)
    with pytest.raises(IlsRejected, match="do not have"):
        await adapter.renew(FRANCOIS, BOOK)
    result = await adapter.renew_all(MARIA, pin=MARIA_PIN)
    assert result.renewed == [BOOK] and result.unrenewed == [RESERVE]


async def test_fee_paid_and_end_session(ils) -> None:
    adapter, _ = ils
    paid = await adapter.fee_paid(FINES, "2.50")
    assert paid.accepted
    assert (await adapter.authenticate_patron(FINES)).fee_amount == "10.00"
    with pytest.raises(IlsRejected, match="between"):
        await adapter.fee_paid(FINES, "100.00")
    await adapter.end_session(MARIA)


async def test_no_block_replay_takes_the_given_dates(ils, tmp_path: Path) -> None:
    adapter, _server = ils
    when = datetime(2026, 11, 20, 21, 15, 0).astimezone()  # the library's local time
    due = datetime(2026, 12, 18, 21, 15, 0).astimezone()
    # Offline, the kiosk lent a blocked patron an item on hold for someone else: replay accepts.
    out = await adapter.checkout(BLOCKED, HELD_FOR_FRANCOIS, no_block=True, transaction_date=when,
                                 due_date=due)
    assert out.due_date == due and out.due_text == "20261218    211500"
    back = await adapter.checkin(BOOK2, no_block=True, transaction_date=when, return_date=when)
    assert back.item_id == BOOK2
    # The ledger carries what the ILS was told.
    lines = [json.loads(x) for x in (tmp_path / "ledger.jsonl").read_text().splitlines()]
    checkout = next(r for r in lines if r["op"] == "checkout")
    assert checkout["no_block"] is True
    assert checkout["transaction_date"] == "2026-11-20T21:15:00"
    assert checkout["nb_due_date"] == "2026-12-18T21:15:00" and checkout["due"] == "2026-12-18T21:15:00"
    checkin = next(r for r in lines if r["op"] == "checkin")
    assert checkin["no_block"] is True and checkin["return_date"] == "2026-11-20T21:15:00"


def test_due_dates_follow_loan_rules_and_the_calendar() -> None:
    library = Library(load_library())
    reserve = library.items[RESERVE]
    # Friday 17:00 + 2 h = 19:00, after Friday's 18:00 closing; Saturday opens at 10:00.
    friday = datetime(2026, 11, 27, 17, 0)
    assert library.due_date(friday, reserve) == datetime(2026, 11, 28, 10, 0)
    # Saturday 17:00 + 2 h: Sunday is closed, Monday opens 07:30.
    assert library.due_date(datetime(2026, 11, 28, 17, 0), reserve) == datetime(2026, 11, 30, 7, 30)
    # Within opening hours it is exactly the loan period.
    tuesday = datetime(2026, 11, 24, 10, 0)
    assert library.due_date(tuesday, reserve) == tuesday + timedelta(hours=2)
    laptop = library.items[LAPTOP]
    assert library.due_date(tuesday, laptop) == tuesday + timedelta(days=1)
    assert laptop.parts == 2


def test_sample_data_has_what_the_workflows_need() -> None:
    data = load_library()
    assert len(data.patrons) >= 24 and len(data.items) >= 24
    assert any(p.blocked for p in data.patrons) and any(p.fines for p in data.patrons)
    assert any(i.parts == 2 and i.loan_rule.startswith("tech") for i in data.items)
    assert data.loan_rules["reserve_2h"].minutes == 120
    assert sum(h.pickup == "LOCKERS1" for h in data.holds) >= 3
