"""Our SIP2 client against pysip2's server, an implementation we did not write."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from pysip2 import (
    CHECKIN,
    CHECKOUT,
    ITEM_INFORMATION,
    LOGIN,
    PATRON_INFORMATION,
    RENEW,
    CheckinResponse,
    CheckoutResponse,
    ItemInformationResponse,
    LoginResponse,
    PatronInformationResponse,
    RenewResponse,
    SIP2Server,
)

from ils.errors import IlsRejected
from ils.sip2.client import Sip2Settings
from ils.sip2_adapter import Sip2Adapter
from tests.ils.sip2_proxy import FrameProxy, corrupt_checksum

PATRONS = {"2900001": ("María Muñoz", "1234"), "2900002": ("Ngọc Trần", "9999")}


def build_server(encoding: str) -> tuple[SIP2Server, list[tuple[str, str]]]:
    app = SIP2Server(institution_id="PEER", library_name="pysip2 library", encoding=encoding,
                     login_required=True, offline_ok=True)
    seen: list[tuple[str, str]] = []

    @app.route(LOGIN)
    def login(req, ctx):
        ok = req.login_user_id == "kiosk" and req.login_password == "secret"
        return LoginResponse(ok="1" if ok else "0")

    @app.route(PATRON_INFORMATION)
    def patron_info(req, ctx):
        name, pin = PATRONS.get(req.patron_identifier, ("", ""))
        return PatronInformationResponse(
            patron_status=" " * 14, language="001", transaction_date=ctx.now_18(),
            hold_items_count="0000", overdue_items_count="0000", charged_items_count="0001",
            fine_items_count="0000", recall_items_count="0000", unavailable_holds_count="0000",
            institution_id="PEER", patron_identifier=req.patron_identifier, personal_name=name,
            valid_patron="Y" if name else "N",
            valid_patron_password="Y" if req.patron_password == pin else "N",
            charged_items=("ITEM-1",) if req.summary[2] == "Y" else (),
        )

    @app.route(CHECKOUT)
    def checkout(req, ctx):
        seen.append(("checkout", req.item_identifier))
        ok = req.item_identifier != "REFUSED"
        return CheckoutResponse(
            ok="1" if ok else "0", renewal_ok="N", magnetic_media="N", desensitize="Y",
            transaction_date=ctx.now_18(), institution_id="PEER",
            patron_identifier=req.patron_identifier, item_identifier=req.item_identifier,
            title_identifier="Cien años de soledad", due_date="20261201    235900",
            screen_message=() if ok else ("Item is on hold for another patron",),
        )

    @app.route(CHECKIN)
    def checkin(req, ctx):
        seen.append(("checkin", req.item_identifier))
        return CheckinResponse(
            ok="1", resensitize="Y", magnetic_media="N", alert="N", transaction_date=ctx.now_18(),
            institution_id="PEER", item_identifier=req.item_identifier, permanent_location="STACKS",
            sort_bin="B2",
        )

    @app.route(RENEW)
    def renew(req, ctx):
        return RenewResponse(
            ok="1", renewal_ok="Y", magnetic_media="N", desensitize="Y",
            transaction_date=ctx.now_18(), institution_id="PEER",
            patron_identifier=req.patron_identifier, item_identifier=req.item_identifier or "",
            title_identifier="Cien años de soledad", due_date="20261215    235900",
        )

    @app.route(ITEM_INFORMATION)
    def item_info(req, ctx):
        return ItemInformationResponse(
            circulation_status="04", security_marker="02", fee_type="01",
            transaction_date=ctx.now_18(), item_identifier=req.item_identifier,
            title_identifier="Cien años de soledad", due_date="20261201    235900",
        )

    return app, seen


@contextlib.asynccontextmanager
async def peer(encoding: str) -> AsyncIterator[tuple[int, list[tuple[str, str]]]]:
    app, seen = build_server(encoding)
    async with app.start() as port:
        yield port, seen


def adapter(port: int, encoding: str, **overrides) -> Sip2Adapter:
    settings = Sip2Settings(port=port, encoding=encoding, login_user="kiosk",
                            login_password="secret", location_code="KIOSK1", strict=True,
                            **overrides)
    return Sip2Adapter(settings)


@pytest.mark.parametrize(("encoding", "patron", "name"), [
    ("cp850", "2900001", "María Muñoz"),
    ("utf-8", "2900001", "María Muñoz"),
    ("utf-8", "2900002", "Ngọc Trần"),
])
async def test_login_status_and_patron_names(encoding: str, patron: str, name: str) -> None:
    async with peer(encoding) as (port, _):
        ils = adapter(port, encoding)
        status = await ils.start()
        try:
            assert status.online and status.offline_ok and status.institution_id == "PEER"
            assert "11" in status.supported and "35" not in status.supported
            found = await ils.authenticate_patron(patron, PATRONS[patron][1])
            assert found.name == name and found.pin_ok is True
            account = await ils.patron_account(patron, PATRONS[patron][1])
            assert [loan.item_id for loan in account.loans] == ["ITEM-1"]
            assert account.loans[0].title == "Cien años de soledad"
            with pytest.raises(IlsRejected, match="Incorrect PIN"):
                await ils.authenticate_patron(patron, "0000")
        finally:
            await ils.close()


async def test_wrong_login_is_rejected() -> None:
    async with peer("cp850") as (port, _):
        ils = Sip2Adapter(Sip2Settings(port=port, login_user="kiosk", login_password="wrong"))
        with pytest.raises(IlsRejected, match="login"):
            await ils.start()
        await ils.close()


async def test_checkout_checkin_renew() -> None:
    async with peer("cp850") as (port, seen):
        ils = adapter(port, "cp850")
        await ils.start()
        try:
            result = await ils.checkout("2900001", "ITEM-9")
            assert result.title == "Cien años de soledad"
            assert result.due_date == datetime(2026, 12, 1, 23, 59).astimezone()
            assert result.desensitize is True
            with pytest.raises(IlsRejected) as refused:
                await ils.checkout("2900001", "REFUSED")
            assert refused.value.screen_message == "Item is on hold for another patron"
            back = await ils.checkin("ITEM-9")
            assert back.sort_bin == "B2" and back.hold is None and back.resensitize
            renewed = await ils.renew("2900001", "ITEM-9")
            assert renewed.renewal and renewed.due_date == datetime(2026, 12, 15, 23, 59).astimezone()
            info = await ils.item_info("ITEM-9")
            assert info.checked_out and info.status_text == "charged"
        finally:
            await ils.close()
    assert seen == [("checkout", "ITEM-9"), ("checkout", "REFUSED"), ("checkin", "ITEM-9")]


async def test_bad_checksum_on_a_reply_is_answered_with_97_and_pysip2_resends() -> None:
    corrupted = []

    def corrupt_first_checkout_reply(frame: bytes) -> bytes:
        if frame.startswith(b"12") and not corrupted:
            corrupted.append(frame)
            return corrupt_checksum(frame)
        return frame

    requests: list[bytes] = []
    async with peer("cp850") as (port, seen), FrameProxy(port, to_client=corrupt_first_checkout_reply,
                          to_server=lambda f: requests.append(f) or f) as proxy:
        ils = adapter(proxy.port, "cp850")
        await ils.start()
        try:
            result = await ils.checkout("2900001", "ITEM-5")
        finally:
            await ils.close()
    assert corrupted and result.item_id == "ITEM-5"
    assert [r[:2] for r in requests].count(b"97") == 1
    assert seen == [("checkout", "ITEM-5")]  # resent reply, not a second checkout


async def test_bad_checksum_on_a_request_gets_96_and_we_resend() -> None:
    corrupted = []

    def corrupt_first_checkin(frame: bytes) -> bytes:
        if frame.startswith(b"09") and not corrupted:
            corrupted.append(frame)
            return corrupt_checksum(frame)
        return frame

    replies: list[bytes] = []
    async with peer("cp850") as (port, seen), FrameProxy(port, to_server=corrupt_first_checkin,
                          to_client=lambda f: replies.append(f) or f) as proxy:
        ils = adapter(proxy.port, "cp850")
        await ils.start()
        try:
            result = await ils.checkin("ITEM-7")
        finally:
            await ils.close()
    assert corrupted and result.item_id == "ITEM-7"
    assert any(r.startswith(b"96") for r in replies)
    assert seen == [("checkin", "ITEM-7")]
