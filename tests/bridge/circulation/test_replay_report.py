"""The staff report after an offline replay: what the ILS accepted, refused (in its own words)
and changed (a due date other than the patron was told), per transaction, as JSON and CSV, with
no patron in it. Checked against the demo ILS's own ledger."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from bridge.local_time import local_iso
from tests.bridge.circulation.test_kiosk_api import BOOKS, MARIA, client_for, online, sign_in
from tests.conftest import free_port, start_demo_ils, stop, wait_for

PASSWORD = "a long staff password"
UNKNOWN_ITEM = "3199999999"  # well-formed, so taken offline; the ILS has never heard of it


def test_the_replay_report_says_what_the_ils_made_of_each_offline_transaction(tmp_path: Path) -> None:
    port = free_port()
    ils = start_demo_ils(tmp_path, "--own-due-dates", port=port)
    try:
        with client_for(tmp_path, port, offline={"barcode_pattern": "^[0-9]+$"}) as client:
            station = client.app.state.station
            station.auth.create_user("desk1", PASSWORD, "desk")
            wait_for(lambda: online(client))
            headers = {"X-Kiosk-Session": sign_in(client)["token"]}
            assert client.post("/api/v1/checkout", json={"item_id": BOOKS[0]},
                               headers=headers).json()["ok"]
            wait_for(lambda: station.circulation._background == set())
            stop(ils.proc)
            wait_for(lambda: not online(client), timeout_s=5)

            headers = {"X-Kiosk-Session": sign_in(client)["token"]}
            told = {}
            for item in (BOOKS[1], UNKNOWN_ITEM):
                out = client.post("/api/v1/checkout", json={"item_id": item}, headers=headers).json()
                assert out["ok"] and out["offline"], out
                told[item] = out["due_date"]
            assert client.post("/api/v1/checkin", json={"item_id": BOOKS[0]}).json()["offline"]

            ils = start_demo_ils(tmp_path, "--own-due-dates", port=port)
            wait_for(lambda: online(client), timeout_s=5)
            wait_for(lambda: client.get("/api/v1/status").json()["queue"]["pending"] == 0, 10)

            client.post("/api/v1/staff/login", json={"username": "desk1", "password": PASSWORD})
            runs = client.get("/api/v1/staff/replays").json()
            assert len(runs) == 1
            run = runs[0]
            assert (run["accepted"], run["refused"], run["changed"]) == (1, 1, 1)
            lines = {line["item_id"]: line for line in
                     client.get(f"/api/v1/staff/replays/{run['id']}").json()}
            exported = list(csv.DictReader(io.StringIO(
                client.get(f"/api/v1/staff/replays/{run['id']}/csv").text)))
            assert client.get("/api/v1/staff/replays/999").status_code == 404
        records = ils.records()
    finally:
        stop(ils.proc)

    # The ILS's ledger, read independently: what it did with each replayed transaction.
    replayed = {(r["op"], r["item"]): r for r in records if r.get("no_block")}
    refused = replayed[("checkout", UNKNOWN_ITEM)]
    assert not refused["ok"]
    assert lines[UNKNOWN_ITEM]["result"] == "refused"
    assert lines[UNKNOWN_ITEM]["message"] == refused["message"]  # the ILS's own words

    lent = replayed[("checkout", BOOKS[1])]
    assert lent["ok"] and lent["due"] != told[BOOKS[1]]  # the ILS applied its loan rule
    changed = lines[BOOKS[1]]
    assert changed["result"] == "changed"
    assert changed["promised_due"] == told[BOOKS[1]]
    assert changed["ils_due"] == local_iso(datetime.fromisoformat(lent["due"]).astimezone())
    assert changed["title"]  # staff see which book, to tell the patron

    assert lines[BOOKS[0]]["kind"] == "checkin" and lines[BOOKS[0]]["result"] == "accepted"
    assert {row["item_id"]: row["result"] for row in exported} == \
        {item: line["result"] for item, line in lines.items()}
    assert MARIA not in str(lines) and MARIA not in str(exported)  # never the patron
