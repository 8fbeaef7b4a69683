"""Each SIP2 dialect end to end: the demo ILS answers as that ILS does (its messages, encoding,
checksums), the station speaks its dialect, and the kiosk API degrades plainly where the ILS
lacks a message - which is then never sent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bridge.app import create_app
from ils.dialects import DIALECTS
from tests.bridge.circulation.test_kiosk_api import BOOKS, MARIA, online, sign_in
from tests.conftest import start_demo_ils, station_profile, stop, wait_for

NAME = "María José Núñez"


@contextmanager
def station_speaking(tmp_path: Path, dialect: str) -> Iterator[tuple[TestClient, dict, Any, Any]]:
    """A station on the demo ILS in `dialect`, María signed in: (client, her headers, the
    profile, the demo ILS)."""
    ils = start_demo_ils(tmp_path, "--dialect", dialect)
    try:
        profile = station_profile(tmp_path, ils_port=ils.port, ils={
            "dialect": dialect, "encoding": None, "error_detection": None})
        with TestClient(create_app(profile)) as client:
            wait_for(lambda: online(client))
            yield client, {"X-Kiosk-Session": sign_in(client)["token"]}, profile, ils
    finally:
        stop(ils.proc)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_a_patron_session_in_each_dialect(tmp_path: Path, dialect: str) -> None:
    # The demo's own default is UTF-8; a generic SIP2 server speaks the standard's cp850.
    encoding = ["--encoding", "cp850"] if dialect == "generic" else []
    ils = start_demo_ils(tmp_path, "--dialect", dialect, *encoding)
    try:
        profile = station_profile(tmp_path, ils_port=ils.port, ils={
            "dialect": dialect, "encoding": None, "error_detection": None})
        with TestClient(create_app(profile)) as client:
            wait_for(lambda: online(client))
            session = sign_in(client)
            # Both ends agree on the dialect's encoding: ASCII (Evergreen) loses the accents
            # the same way on both sides; the others carry them.
            assert session["name"] == (NAME.encode("ascii", "replace").decode()
                                       if DIALECTS[dialect].encoding == "ascii" else NAME)
            headers = {"X-Kiosk-Session": session["token"]}
            out = client.post("/api/v1/checkout", json={"item_id": BOOKS[0]},
                              headers=headers).json()
            assert out["ok"], out
            account = client.get("/api/v1/account", headers=headers).json()
            assert [loan["item_id"] for loan in account["loans"]] == [BOOKS[0]]
            renewed = client.post("/api/v1/renew", json={"item_ids": [BOOKS[0]]},
                                  headers=headers).json()
            if dialect == "folio":  # edge-sip2 has no Renew: a plain refusal, nothing sent
                assert account["can_renew"] is False
                assert account["loans"][0]["title"] == ""  # and no Item Information either
                assert renewed[0]["ok"] is False and renewed[0]["reason"] == "not_supported"
                assert "not available at this kiosk" in renewed[0]["message"]
            else:
                assert account["can_renew"] is True
                assert account["loans"][0]["title"] == "The Left Hand of Darkness"
                assert renewed[0]["ok"] is True, renewed
            assert client.delete("/api/v1/sessions/current", headers=headers).status_code == 204
            back = client.post("/api/v1/checkin", json={"item_id": BOOKS[0]}).json()
            assert back["ok"], back
    finally:
        stop(ils.proc)
    ops = [r["op"] for r in ils.records()]
    assert "unsupported" not in ops, [r for r in ils.records() if r["op"] == "unsupported"]
    assert ops.count("checkout") == 1 and ops.count("checkin") == 1
    assert ops.count("renew") == (0 if dialect == "folio" else 1)
    assert MARIA  # the patron whose name crossed the wire


def test_the_demo_ils_records_a_message_its_dialect_lacks(tmp_path: Path) -> None:
    """The ledger check above can fail: a client that sends Renew to 'FOLIO' is caught."""
    import asyncio

    from ils.sip2.client import Sip2Connection, Sip2Settings
    from ils.sip2.codec import now
    from ils.sip2.messages import RenewRequest

    ils = start_demo_ils(tmp_path, "--dialect", "folio")
    try:
        async def send_renew() -> str:
            connection = Sip2Connection(Sip2Settings(port=ils.port, encoding="cp850",
                                                     error_detection=False, login_user="kiosk",
                                                     login_password="demo"), "test")
            await connection.connect()
            reply = await connection.request(RenewRequest(
                transaction_date=now(), nb_due_date=now(), institution_id="DEMO",
                patron_id=MARIA, item_id=BOOKS[0]))
            await connection.close()
            return reply.command

        asyncio.run(send_renew())
    except Exception:  # the server answers 96; the client may give up: either way it was sent
        pass
    finally:
        stop(ils.proc)
    assert {"op": "unsupported", "command": "29"}.items() <= next(
        r for r in ils.records() if r["op"] == "unsupported").items()


@pytest.mark.parametrize("dialect", ["folio", "generic", "koha"])
def test_holds_not_yet_filled_are_never_shown_ready(tmp_path: Path, dialect: str) -> None:
    """Before: with FOLIO (which lists every open request among the hold items) each of Maria's
    holds was listed twice, once "ready" - and a patron told "ready" goes to the lockers for
    nothing."""
    encoding = ["--encoding", "cp850"] if dialect == "generic" else []
    ils = start_demo_ils(tmp_path, "--dialect", dialect, *encoding)
    try:
        profile = station_profile(tmp_path, ils_port=ils.port, ils={
            "dialect": dialect, "encoding": None, "error_detection": None})
        with TestClient(create_app(profile)) as client:
            wait_for(lambda: online(client))
            headers = {"X-Kiosk-Session": sign_in(client)["token"]}
            holds = client.get("/api/v1/account", headers=headers).json()["holds"]
        items = [h["item_id"] for h in holds]
        assert len(items) == len(set(items)), holds  # each hold once
        waiting = {h["item_id"]: h["ready"] for h in holds}
        assert waiting.get("3100007001") is False and waiting.get("3100007002") is False, holds
    finally:
        stop(ils.proc)


def test_a_checkout_alma_turns_into_a_renewal_is_journaled_as_one(tmp_path: Path) -> None:
    """Alma renews an item the patron checks out again. Journaled as a checkout, a lost answer
    would be "confirmed" by item information (the item is out either way) though the loan was
    never extended; journaled as a renewal it keeps the due date it started from."""
    import sqlite3

    with station_speaking(tmp_path, "alma") as (client, headers, profile, ils):
        first = client.post("/api/v1/checkout", json={"item_id": BOOKS[1]}, headers=headers)
        again = client.post("/api/v1/checkout", json={"item_id": BOOKS[1]}, headers=headers)
        assert first.json()["ok"] and again.json()["ok"], again.json()
        database = profile.server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT kind, due_before IS NOT NULL, state FROM circ_transaction "
                            "WHERE item_id = ? ORDER BY seq", (BOOKS[1],)).fetchall()
    assert rows == [("checkout", 0, "done"), ("renew", 1, "done")], rows
    renewals = [r for r in ils.records() if r["op"] == "checkout" and r.get("renewal")]
    assert len(renewals) == 1  # the ILS did renew it


def test_sierra_takes_back_at_the_kiosk_only_what_needs_no_staff(tmp_path: Path) -> None:
    """As Sierra comes (no "SIP2 Checkin of Items with Special Conditions"): an item on loan is
    checked in; one a patron is waiting for is not - the kiosk says to bring it to the desk -
    and one already in is refused without a word from the ILS. The generic demo ILS takes all."""
    from tests.bridge.lockers.test_locker_flows import MARIA_HOLDS

    results = {}
    for dialect in ("sierra", "generic"):
        with station_speaking(tmp_path, dialect) as (client, headers, _profile, _ils):
            assert client.post("/api/v1/checkout", json={"item_id": BOOKS[0]},
                               headers=headers).json()["ok"]
            results[dialect] = [client.post("/api/v1/checkin", json={"item_id": item}).json()
                                for item in (BOOKS[0], MARIA_HOLDS[0], BOOKS[0])]
    loaned, held, again = results["sierra"]
    assert loaned["ok"] is True
    assert held["ok"] is False and held["message"]  # a hold to shelve: at the desk
    assert again["ok"] is False  # already in: not checked in again
    assert all(r["ok"] for r in results["generic"][:2])


def test_polaris_sends_its_own_patron_fields(tmp_path: Path) -> None:
    import asyncio

    from ils.sip2.client import Sip2Connection, Sip2Settings
    from ils.sip2.codec import now
    from ils.sip2.messages import PatronInformationRequest

    async def fields(dialect: str) -> set[str]:
        ils = start_demo_ils(tmp_path, "--dialect", dialect)
        try:
            connection = Sip2Connection(Sip2Settings(port=ils.port, encoding="utf-8",
                                                     login_user="kiosk", login_password="demo"),
                                        "test")
            await connection.connect()
            reply = await connection.request(PatronInformationRequest(
                transaction_date=now(), institution_id="DEMO", patron_id=MARIA))
            await connection.close()
            return {code for code, _value in reply.extra}
        finally:
            stop(ils.proc)

    assert {"PA", "PE", "PX", "PY", "FA"} <= asyncio.run(fields("polaris"))
    assert not {"PA", "PE", "PX", "PY", "FA"} & asyncio.run(fields("generic"))

