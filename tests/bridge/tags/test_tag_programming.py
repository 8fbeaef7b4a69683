"""Tag programming at the station, as a technical services assistant does it: the title from the
demo ILS over SIP2, blank tags on the programming pad written and verified, a three-part set, a
foreign tag refused until a confirmed (and audited) overwrite, every verified tag recorded, and the
conversion counts per day and per staff member."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bridge.app import create_app
from rfid.tags import iso28560_3
from rfid.tags.decoding import encode_tag
from rfid.tags.model import TagValue
from tests.bridge.circulation.test_crash_replay import station_profile_file
from tests.bridge.circulation.test_kiosk_api import BOOKS, online
from tests.conftest import (
    DemoIls,
    bronco,
    free_port,
    start_demo_ils,
    station_profile,
    stop,
    wait_for,
    wait_http,
)

PASSWORD = "a long staff password"
DISC_SET = "3100005002"  # Cosmos, 4 discs
LAPTOP_KITS = ("3100004001", "3100004002")  # laptop + charger each


def log_in(client: TestClient, user: str) -> dict[str, str]:
    station = client.app.state.station
    if not station.auth.user_exists(user):
        station.auth.create_user(user, PASSWORD, "desk")
    csrf = client.post("/api/v1/staff/login",
                       json={"username": user, "password": PASSWORD}).json()["csrf_token"]
    return {"X-CSRF-Token": csrf}


@pytest.fixture
def station(tmp_path: Path, demo_ils: DemoIls):
    app = create_app(station_profile(tmp_path, ils_port=demo_ils.port))
    with TestClient(app) as client:
        wait_for(lambda: online(client))
        yield client, app.state.station


def test_a_blank_tag_is_programmed_with_the_ils_title_and_recorded(station) -> None:
    client, st = station
    csrf = log_in(client, "cataloguer1")
    pad = st.device("rfid_reader", "techpad")
    tag = pad.put_tag("E0040100000000A1", secured=False)
    assert client.get(f"/api/v1/staff/tags/items/{BOOKS[0]}").json()["title"] == \
        "The Left Hand of Darkness"
    assert client.get("/api/v1/staff/tags/pad").json()[0]["finding"] == "blank"
    done = client.post("/api/v1/staff/tags/program", json={"item_id": BOOKS[0]},
                       headers=csrf).json()
    assert done["done"] and done["title"] == "The Left Hand of Darkness"
    value = iso28560_3.decode(tag.data)  # the site's model, read from the tag itself
    # The ISIL US-DEMO, laid out as ISO 28560-3 has it: the country prefix in its own field.
    assert (value.item_id, value.owner_library, value.country) == (BOOKS[0], "DEMO", "US")
    assert tag.secured
    # The pad now shows the tag as this item's.
    assert client.get("/api/v1/staff/tags/pad", params={"item_id": BOOKS[0]}).json()[0] == \
        {"uid": "E0040100000000A1", "finding": "same_item", "detail": "", "item_id": BOOKS[0]}


def test_a_set_with_its_part_count_from_the_ils_and_wrong_counts(station) -> None:
    client, st = station
    csrf = log_in(client, "cataloguer1")
    pad = st.device("rfid_reader", "techpad")
    for n in range(2):
        pad.put_tag(f"E0040100000000B{n}")
    unknown = client.post("/api/v1/staff/tags/program", json={"item_id": "3199999999", "parts": 3},
                          headers=csrf)
    assert unknown.status_code == 409 and "does not know item 3199999999" in unknown.json()["detail"]
    # The demo ILS sends the number of pieces (profile: parts_field = "XP"): a 4-disc set.
    assert client.get(f"/api/v1/staff/tags/items/{DISC_SET}").json()["parts"] == 4
    short = client.post("/api/v1/staff/tags/program", json={"item_id": DISC_SET}, headers=csrf)
    assert short.status_code == 409 and "has 4 parts but 2 tags are" in short.json()["detail"]
    wrong = client.post("/api/v1/staff/tags/program", json={"item_id": DISC_SET, "parts": 3},
                        headers=csrf)
    assert wrong.status_code == 409 and "has 4 pieces, not 3" in wrong.json()["detail"]
    assert not any(t.data for t in pad.tags.values())  # nothing written
    pad.put_tag("E0040100000000B2")
    pad.put_tag("E0040100000000B3")
    done = client.post("/api/v1/staff/tags/program", json={"item_id": DISC_SET},
                       headers=csrf).json()
    assert done["done"] and [t["part"] for t in done["tags"]] == [1, 2, 3, 4]
    parts = sorted((iso28560_3.decode(t.data).part, iso28560_3.decode(t.data).parts)
                   for t in pad.tags.values())
    assert parts == [(1, 4), (2, 4), (3, 4), (4, 4)]
    counts = client.get("/api/v1/staff/tags/converted").json()
    assert (counts["items"], counts["tags"]) == (1, 4)  # a set counts once as an item


def test_a_foreign_tag_is_refused_then_overwritten_only_with_a_yes_and_audited(station) -> None:
    client, st = station
    csrf = log_in(client, "cataloguer2")
    pad = st.device("rfid_reader", "techpad")
    before = encode_tag(TagValue("4711", "DE-1", "DE", data_model="28560-3"), "28560-3")
    tag = pad.put_tag("E0040100000000C1", before)
    refused = client.post("/api/v1/staff/tags/program", json={"item_id": BOOKS[2]},
                          headers=csrf).json()
    assert not refused["done"] and refused["tags"][0]["outcome"] == "refused"
    assert refused["tags"][0]["finding"] == "foreign" and tag.data == before
    forced = client.post("/api/v1/staff/tags/program",
                         json={"item_id": BOOKS[2], "overwrite": True}, headers=csrf).json()
    assert forced["done"]
    audit = client.get("/api/v1/staff/audit").json()
    overwritten = [a for a in audit if a["action"] == "tag_overwritten"]
    assert len(overwritten) == 1 and overwritten[0]["actor"] == "cataloguer2"
    assert "foreign" in overwritten[0]["detail"]


def test_conversion_counts_per_day_and_staff_member_with_csv(station) -> None:
    client, st = station
    pad = st.device("rfid_reader", "techpad")
    for user, items in (("cataloguer1", BOOKS[:2]), ("cataloguer2", BOOKS[2:3])):
        csrf = log_in(client, user)
        for n, item in enumerate(items):
            pad.clear()
            pad.put_tag(f"E00401000000{user[-1]}D{n:02d}")
            assert client.post("/api/v1/staff/tags/program", json={"item_id": item},
                               headers=csrf).json()["done"]
    counts = client.get("/api/v1/staff/tags/converted").json()
    today = date.today().isoformat()
    assert counts["by_staff"] == {"cataloguer1": 2, "cataloguer2": 1}
    assert counts["by_day"][today] == {"items": 3, "tags": 3}
    assert len(counts["by_day"]) == 30  # every day of the range, the empty ones too
    rows = client.get("/api/v1/staff/tags/converted.csv").text.splitlines()
    assert f"day,{today},3,3" in rows and "staff,cataloguer1,2," in rows
    for query in ("to=0001-01-01", "from=2026-01-02&to=2026-01-01", "from=1990-01-01"):
        assert client.get(f"/api/v1/staff/tags/converted.csv?{query}").status_code == 422


def test_an_outsider_cannot_program_or_read_the_pad(station) -> None:
    client, _ = station
    outsider = TestClient(client.app)
    assert outsider.post("/api/v1/staff/tags/program", json={"item_id": BOOKS[0]}).status_code == 401
    assert outsider.get("/api/v1/staff/tags/pad").status_code == 401
    log_in(client, "cataloguer1")
    # Signed in, but a forged form without the CSRF token writes nothing.
    assert client.post("/api/v1/staff/tags/program", json={"item_id": BOOKS[0]}).status_code == 403


def cataloguer_station(tmp_path: Path, ils_port: int) -> tuple[subprocess.Popen[bytes], int, str]:
    """A station process with a cataloguer's bearer token."""
    profile = station_profile_file(tmp_path, ils_port)
    env = {**os.environ, "BRONCO_STAFF_PASSWORD": PASSWORD}
    subprocess.run(bronco("staff", "add", "cataloguer1", "--profile", str(profile)), env=env,
                   check=True, capture_output=True)
    token = subprocess.run(bronco("staff", "token", "cataloguer1", "--profile", str(profile)),
                           capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    station = subprocess.Popen(bronco("station", "--profile", str(profile), "--port", str(port)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return station, port, token


def test_bronco_tag_program_from_a_script(tmp_path: Path) -> None:
    ils = start_demo_ils(tmp_path)
    station, port, token = cataloguer_station(tmp_path, ils.port)
    url = f"http://127.0.0.1:{port}"

    def program(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(bronco("tag", "program", *args, "--station", url), text=True,
                              capture_output=True, timeout=60,
                              env={**os.environ, "BRONCO_STAFF_TOKEN": token})
    try:
        wait_http(f"{url}/healthz", station)
        wait_for(lambda: not httpx.get(f"{url}/api/v1/status").json()["offline"])
        for uid in ("E0040100000000E1", "E0040100000000E2"):
            httpx.post(f"{url}/sim/readers/techpad/tags", json={"uid": uid, "data": ""})
        done = program(LAPTOP_KITS[0])  # two pieces, as the ILS says
        assert done.returncode == 0, done.stderr
        assert "Laptop kit: Dell" in done.stdout and done.stdout.count("verified") == 2
        # The same tags for another item: refused, exit 1, nothing overwritten.
        refused = program(LAPTOP_KITS[1], "--parts", "2", "--json")
        assert refused.returncode == 1
        assert {t["finding"] for t in json.loads(refused.stdout)["tags"]} == {"other_item"}
        wrong = program(BOOKS[1])  # one part, two tags on the pad
        assert wrong.returncode == 1 and "1 part but 2 tags" in wrong.stderr
    finally:
        station.kill()
        station.wait()
        stop(ils.proc)


LONG_BARCODE = "31000000000000000099"  # 20 characters: more than 28560-3's 16


def test_what_cannot_be_written_is_a_clear_refusal_never_a_500(tmp_path: Path) -> None:
    """Before: a barcode the ILS knows but the data model cannot hold answered 500 on program and
    on the pad check, `bronco tag program` died with a JSON traceback, and a GS1 pad checked
    with no item planned item "?" and answered 500 whenever a tag lay there."""
    from ils.demo_server import __file__ as demo_server

    sample = (Path(demo_server).parent / "sample_library.toml").read_text()
    data = tmp_path / "library.toml"
    data.write_text(sample + f'\n[[items]]\nbarcode = "{LONG_BARCODE}"\ntitle = "Long Barcode"\n'
                             'loan_rule = "regular"\n')
    ils = start_demo_ils(tmp_path, "--data", str(data))
    station, port, token = cataloguer_station(tmp_path, ils.port)
    url, staff = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    try:
        wait_http(f"{url}/healthz", station)
        wait_for(lambda: not httpx.get(f"{url}/api/v1/status").json()["offline"])
        httpx.post(f"{url}/sim/readers/techpad/tags", json={"uid": "E0040100000000F1", "data": ""})
        known = httpx.get(f"{url}/api/v1/staff/tags/items/{LONG_BARCODE}", headers=staff)
        assert known.status_code == 200  # the ILS knows it...
        program = httpx.post(f"{url}/api/v1/staff/tags/program", headers=staff,
                             json={"item_id": LONG_BARCODE})
        assert program.status_code == 422 and "16" in program.json()["detail"]  # ...the tag cannot
        checked = httpx.get(f"{url}/api/v1/staff/tags/pad", headers=staff,
                            params={"item_id": LONG_BARCODE})
        assert checked.status_code == 422
        cli = subprocess.run(bronco("tag", "program", LONG_BARCODE, "--station", url), text=True,
                             capture_output=True, timeout=60,
                             env={**os.environ, "BRONCO_STAFF_TOKEN": token})
        assert cli.returncode == 1 and "Traceback" not in cli.stderr
        assert "cannot be written" in cli.stderr
    finally:
        station.kill()
        station.wait()
        stop(ils.proc)
