"""Each test is an attack on the station, as a patron at a kiosk or someone on the library LAN
would try it (issue: the station trusts no client). Each one succeeded against the station before
the defence it names; docs/security.md says what each defence answers."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from bridge.app import create_app
from tests.bridge.circulation.test_kiosk_api import MARIA, MARIA_PIN, online
from tests.conftest import DemoIls, free_port, station_profile, wait_for

FRANCOIS = "2900001001"
STAFF_CARD = "DEADBEEF01"
PASSWORD = "correct horse battery"


def enrolled(client: TestClient, kiosk_id: str) -> dict[str, str]:
    """Enrol a kiosk as staff would (a code from the console), and its credential header."""
    registry = client.app.state.station.kiosk_registry
    code = registry.new_code("admin", kiosk_id)
    answer = client.post("/api/v1/kiosks/enrol", json={"code": code, "kiosk_id": kiosk_id})
    return {"X-Kiosk-Credential": answer.json()["credential"]}


def from_address(client: TestClient, host: str) -> TestClient:
    """The next requests come from another machine (one running app, one event loop)."""
    client._transport.client = (host, 4000)
    return client


@contextmanager
def station_running(profile: Path, *extra: str) -> Iterator[str]:
    """A real `bronco station` process on a free port, and its base URL (HTTPS when it is told
    to listen beyond loopback)."""
    import subprocess

    from tests.conftest import bronco, stop, wait_http, wait_port

    port = free_port()
    proc = subprocess.Popen(bronco("station", "--profile", str(profile), "--port", str(port), *extra),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tls = "--host" in extra
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        if tls:
            wait_port(port, proc)
        else:
            wait_http(f"{url}/healthz", proc)
        yield url
    finally:
        stop(proc)


def untrusting_profiles(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A station that trusts no loopback kiosk, and its kiosk's profile with a credential file."""
    from tests.bridge.circulation.test_crash_replay import station_profile_file

    station_file = station_profile_file(tmp_path, free_port())
    text = station_file.read_text().replace("trust_loopback = true", "trust_loopback = false")
    station_file.write_text(text)
    kiosk_file, credential_file = tmp_path / "kiosk.toml", tmp_path / "kiosk-credential.json"
    kiosk_file.write_text(text.replace("[kiosk]\n", f'[kiosk]\ncredential_file = "{credential_file}"\n'))
    return station_file, kiosk_file, credential_file


def events_until(events, kind: str) -> dict:
    event = events.receive_json()
    while event["type"] != kind:
        event = events.receive_json()
    return event


# -- 1. sessions without a PIN, or for a card UID the client makes up ----------------------------
def test_a_barcode_without_its_pin_gets_no_session(tmp_path: Path, demo_ils: DemoIls) -> None:
    with TestClient(create_app(station_profile(tmp_path, ils_port=demo_ils.port))) as client:
        wait_for(lambda: online(client))
        taken = client.post("/api/v1/sessions", json={"barcode": MARIA})
        assert taken.status_code == 403 and taken.json()["detail"] == "Please enter your PIN"
        assert client.get("/api/v1/account").status_code == 401  # nothing to use


def test_a_card_uid_the_client_asserts_is_no_proof(tmp_path: Path) -> None:
    profile = station_profile(tmp_path, ils_port=free_port(),
                              offline={"patron_policy": "accept_wellformed",
                                       "barcode_pattern": "^[0-9A-F]+$"})
    with TestClient(create_app(profile)) as client:
        assert client.post("/api/v1/sessions",
                           json={"card_uid": "04A1B2C3", "pin": "1234"}).status_code == 422
        forged = client.post("/api/v1/sessions", json={"card_tap": "A" * 32, "pin": "1234"})
        assert forged.status_code == 403  # no tap this station saw


# -- 2. the event stream gave away card UIDs; a replayed staff UID opened any door ---------------
def test_the_event_stream_carries_no_uid_and_a_staff_tap_needs_its_pin(tmp_path: Path) -> None:
    app = create_app(station_profile(tmp_path, ils_port=free_port(),
                                     kiosk={"staff_cards": [STAFF_CARD]}))
    with TestClient(app) as client, client.websocket_connect("/api/v1/events") as events:
        station = app.state.station
        station.auth.create_user("desk1", PASSWORD, "desk")
        station.auth.set_staff_card(station.key, STAFF_CARD, "desk1", "2468")
        station.device("card_reader", "campus").present_card(STAFF_CARD)
        heard = events_until(events, "card")
        assert STAFF_CARD not in str(heard).upper()
        # What an eavesdropper could replay: the UID (refused outright), the tap without the PIN.
        assert client.post("/api/v1/maintenance/session",
                           json={"card_uid": STAFF_CARD}).status_code == 422
        assert client.post("/api/v1/maintenance/session",
                           json={"card_tap": heard["tap"]}).status_code == 422
        guessed = client.post("/api/v1/maintenance/session", json={"card_tap": heard["tap"],
                                                                   "pin": "0000"})
        assert guessed.status_code == 403
        # The tap was spent on the wrong guess: the right PIN with it opens nothing either.
        assert client.post("/api/v1/maintenance/session", json={
            "card_tap": heard["tap"], "pin": "2468"}).status_code == 403


# -- 3. unlimited PIN guesses -------------------------------------------------------------------
def test_guessing_a_pin_locks_that_card_only_and_a_restart_forgives_nothing(
        tmp_path: Path, demo_ils: DemoIls) -> None:
    profile = station_profile(tmp_path, ils_port=demo_ils.port)
    with TestClient(create_app(profile)) as client:
        wait_for(lambda: online(client))
        for _ in range(4):
            assert client.post("/api/v1/sessions",
                               json={"barcode": MARIA, "pin": "0000"}).status_code == 403
        fifth = client.post("/api/v1/sessions", json={"barcode": MARIA, "pin": "0001"})
        assert fifth.status_code == 423
        detail = fifth.json()["detail"]
        assert detail["error"] == "card_locked" and detail["retry_after_s"] > 800
        right = client.post("/api/v1/sessions", json={"barcode": MARIA, "pin": MARIA_PIN})
        assert right.status_code == 423  # the right PIN is refused too while locked
        other = client.post("/api/v1/sessions", json={"barcode": FRANCOIS, "pin": "2345"})
        assert other.status_code == 201  # nobody else is locked out
    app = create_app(profile)  # a restart, on the same database
    with TestClient(app) as client:
        wait_for(lambda: online(client))
        still = client.post("/api/v1/sessions", json={"barcode": MARIA, "pin": MARIA_PIN})
        assert still.status_code == 423
        station = app.state.station
        assert "card_locked" in [e.action for e in station.auth.audit_entries()]
        station.auth.create_user("desk1", PASSWORD, "desk")
        staff = {"X-CSRF-Token": client.post("/api/v1/staff/login", json={
            "username": "desk1", "password": PASSWORD}).json()["csrf_token"]}
        locked = client.get("/api/v1/staff/locked-cards").json()
        assert [c["label"] for c in locked] == ["card ...1000"]  # never the whole number
        assert client.post("/api/v1/staff/locked-cards/unlock", headers=staff,
                           json={"key": locked[0]["key"]}).json() == {"unlocked": True}
        assert "card_unlocked" in [e.action for e in station.auth.audit_entries()]
        assert client.post("/api/v1/sessions",
                           json={"barcode": MARIA, "pin": MARIA_PIN}).status_code == 201


def test_wrong_pins_offline_count_against_the_card_too(tmp_path: Path) -> None:
    profile = station_profile(tmp_path, ils_port=free_port(), kiosk={"pin_attempts": 3})
    with TestClient(create_app(profile)) as client:
        station = client.app.state.station
        station.circulation.cache.remember(MARIA, MARIA_PIN, blocked=False)  # seen online once
        wait_for(lambda: not online(client))
        for _ in range(2):
            assert client.post("/api/v1/sessions",
                               json={"barcode": MARIA, "pin": "0000"}).status_code == 403
        assert client.post("/api/v1/sessions",
                           json={"barcode": MARIA, "pin": "0000"}).status_code == 423


# -- 4. pickup codes: one kiosk locked every patron out; a forged address evaded the limit -------
def test_wrong_codes_at_one_kiosk_do_not_stop_another(tmp_path: Path) -> None:
    profile = station_profile(tmp_path, ils_port=free_port())
    with TestClient(create_app(profile)) as client:
        lobby, bank_kiosk = enrolled(client, "lobby"), enrolled(client, "bank")
        from_address(client, "10.0.0.9")  # on the LAN: no loopback trust

        def code(guess: str, kiosk: dict[str, str], **extra: str) -> int:
            return client.post("/api/v1/lockers/pickup/code", json={"code": guess},
                               headers={**kiosk, **extra}).status_code

        assert [code(f"123456789{n}", lobby) for n in range(3)] == [403, 403, 403]
        assert code("1234567893", lobby) == 429
        assert code("1234567894", lobby, **{"X-Forwarded-For": "10.0.0.77"}) == 429  # no escape
        assert code("1234567895", bank_kiosk) == 403  # the bank's kiosk is not slowed
    with TestClient(create_app(profile)) as client:  # restart
        from_address(client, "10.0.0.9")
        assert client.post("/api/v1/lockers/pickup/code", json={"code": "1234567896"},
                           headers=lobby).status_code == 429


def test_a_burst_of_wrong_codes_across_the_bank_alerts_staff(tmp_path: Path) -> None:
    app = create_app(station_profile(tmp_path, ils_port=free_port(),
                                     lockers={"code_alert_failures_per_hour": 6}))
    with TestClient(app) as client, client.websocket_connect("/api/v1/events") as events:
        for n in range(6):
            client.post("/api/v1/lockers/pickup/code", json={"code": f"99999999{n:02d}"},
                        headers=enrolled(client, f"kiosk-{n}"))
        alert = events_until(events, "staff_alert")
        assert "pickup codes" in alert["reason"] and alert["failures_last_hour"] >= 6
        audit = [e.action for e in app.state.station.auth.audit_entries()]
        assert audit.count("pickup_codes_alert") == 1  # once, not per guess


def test_the_proxy_header_is_not_believed_by_the_running_station(tmp_path: Path) -> None:
    """Through uvicorn itself: X-Forwarded-For from loopback used to be taken as the peer."""

    from tests.bridge.circulation.test_crash_replay import station_profile_file

    profile = station_profile_file(tmp_path, free_port())
    with station_running(profile) as url:
        answers = [httpx.post(f"{url}/api/v1/lockers/pickup/code", json={"code": f"55555555{n:02d}"},
                              headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code
                   for n in range(6)]
        assert answers[:3] == [403, 403, 403] and 429 in answers[3:]


# -- 5. a '|' or a CR broke SIP2 and jammed the queue -------------------------------------------
@pytest.mark.parametrize("value", ["3100002000|AOevil", "31000\r20000", "3100\x00002000"])
def test_sip2_delimiters_are_refused_before_anything_is_journaled(tmp_path: Path, value: str) -> None:
    profile = station_profile(tmp_path, ils_port=free_port(),
                              offline={"patron_policy": "accept_wellformed",
                                       "barcode_pattern": "^[0-9]+$"})
    with TestClient(create_app(profile)) as client:
        station = client.app.state.station
        session = client.post("/api/v1/sessions", json={"barcode": "2900009999", "pin": "1234"})
        headers = {"X-Kiosk-Session": session.json()["token"]}
        before = station.journal.count()
        assert client.post("/api/v1/sessions",
                           json={"barcode": value, "pin": "1234"}).status_code == 422
        assert client.post("/api/v1/sessions",
                           json={"barcode": "2900009999", "pin": "12\r|4"}).status_code == 422
        assert client.post("/api/v1/checkin", json={"item_id": value}).status_code == 422
        assert client.post("/api/v1/checkout", json={"item_id": value},
                           headers=headers).status_code == 422
        assert client.post("/api/v1/renew", json={"item_ids": [value]},
                           headers=headers).status_code == 422
        assert station.journal.count() == before  # nothing journaled, nothing to jam the queue


# -- 6. staff logins: a restart forgot, a name could be locked out, typed names were kept ----------
def test_staff_login_guessing_slows_but_never_locks_a_colleague_out(tmp_path: Path) -> None:
    profile = station_profile(tmp_path, ils_port=free_port(),
                              staff={"login_max_failures": 3, "lockout_minutes": 1})
    app = create_app(profile)
    with TestClient(app) as client:
        app.state.station.auth.create_user("desk1", PASSWORD, "desk")
        attacker = from_address(client, "10.0.2.1")
        for _ in range(20):
            attacker.post("/api/v1/staff/login", json={"username": "desk1", "password": "guess"})
        slowed = attacker.post("/api/v1/staff/login", json={"username": "desk1", "password": "x"})
        assert slowed.status_code == 429
        assert int(slowed.headers["Retry-After"]) <= 61  # a wait capped at a minute, not a lockout
    with TestClient(create_app(profile)) as client:  # restart: still slowed
        colleague = from_address(client, "10.0.2.2")
        assert colleague.post("/api/v1/staff/login", json={
            "username": "desk1", "password": PASSWORD}).status_code == 429


def test_a_password_typed_in_the_user_field_is_not_kept(tmp_path: Path) -> None:
    app = create_app(station_profile(tmp_path, ils_port=free_port()))
    with TestClient(app) as client:
        client.post("/api/v1/staff/login", json={"username": "my-Secret-Pa55", "password": "x"})
        audit = app.state.station.auth.audit_entries()
        assert audit[0].action == "login_failed" and "my-Secret-Pa55" not in str(
            [(e.actor, e.target, e.detail) for e in audit])


def test_a_copied_database_holds_no_key_to_its_hashes(tmp_path: Path, demo_ils: DemoIls) -> None:
    profile = station_profile(tmp_path, ils_port=demo_ils.port)
    app = create_app(profile)
    with TestClient(app) as client:
        wait_for(lambda: online(client))
        assert client.post("/api/v1/sessions",
                           json={"barcode": MARIA, "pin": MARIA_PIN}).status_code == 201
        wait_for(lambda: not app.state.station.circulation._background)
        engine = app.state.station.engine
        with engine.connect() as conn:
            settings = dict(conn.execute(text("SELECT key, value FROM station_setting")).all())
            cached = conn.execute(text("SELECT barcode_hash FROM patron_cache")).scalars().all()
    assert "patron_hash_key" not in settings and len(cached) == 1
    key_file = tmp_path / "station.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert bytes.fromhex(key_file.read_text().strip()) == app.state.station.key


# -- 7. a device "return" of any string cleared a laptop loan -------------------------------------
def test_a_device_return_opens_no_door_for_an_item_not_on_loan(tmp_path: Path,
                                                               demo_ils: DemoIls) -> None:
    with TestClient(create_app(station_profile(tmp_path, ils_port=demo_ils.port))) as client:
        wait_for(lambda: online(client))
        for item in ("not-a-real-item", "3100002000"):  # unknown; known but not on loan
            refused = client.post("/api/v1/lockers/devices/return", json={"item_id": item})
            assert refused.status_code == 409
        assert not [r for r in demo_ils.records() if r["op"] == "checkin"]


# -- 8. the pad, /sim, caching of staff pages, idle staff sessions --------------------------------
def test_another_session_cannot_read_or_stop_a_patrons_pad(tmp_path: Path, demo_ils: DemoIls) -> None:
    with TestClient(create_app(station_profile(tmp_path, ils_port=demo_ils.port))) as client:
        wait_for(lambda: online(client))
        maria = {"X-Kiosk-Session": client.post("/api/v1/sessions", json={
            "barcode": MARIA, "pin": MARIA_PIN}).json()["token"]}
        client.post("/api/v1/pad/checkout", headers=maria)
        assert client.get("/api/v1/pad").status_code == 403
        assert client.post("/api/v1/pad/stop").status_code == 403
        assert client.get("/api/v1/pad", headers=maria).json()["mode"] == "checkout"


def test_sim_controls_exist_only_when_the_profile_asks(tmp_path: Path) -> None:
    profile = station_profile(tmp_path, ils_port=free_port())
    no_sim = profile.model_copy(update={"server": profile.server.model_copy(
        update={"simulators": False})})
    with TestClient(create_app(no_sim)) as client:
        assert client.post("/sim/card-readers/campus/tap", json={"uid": "04A1B2C3"}).status_code == 404


def test_staff_answers_are_never_cached_and_idle_sessions_end(tmp_path: Path) -> None:
    app = create_app(station_profile(tmp_path, ils_port=free_port()))
    with TestClient(app) as client:
        station = app.state.station
        station.auth.create_user("desk1", PASSWORD, "desk")
        client.post("/api/v1/staff/login", json={"username": "desk1", "password": PASSWORD})
        page = client.get("/api/v1/staff/audit")
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        with station.engine.begin() as conn:  # fifteen idle minutes pass
            conn.execute(text("UPDATE staff_token SET expires_at = :t"),
                         {"t": "2000-01-01 00:00:00.000000"})
        assert client.get("/api/v1/staff/audit").status_code == 401


def test_bronco_staff_card_sets_a_pin_the_station_checks(tmp_path: Path) -> None:
    import os
    import subprocess

    from tests.bridge.circulation.test_crash_replay import station_profile_file
    from tests.conftest import bronco

    profile = station_profile_file(tmp_path, free_port())
    env = {**os.environ, "BRONCO_STAFF_PASSWORD": PASSWORD, "BRONCO_STAFF_CARD_PIN": "97531"}
    subprocess.run(bronco("staff", "add", "desk1", "--profile", str(profile)), env=env, check=True,
                   capture_output=True)
    done = subprocess.run(bronco("staff", "card", STAFF_CARD, "desk1", "--profile", str(profile)),
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "...EF01" in done.stdout, done.stderr
    from station_core.profile import load_profile

    app = create_app(load_profile(profile))
    with TestClient(app) as client:
        station = app.state.station
        card = station.auth.staff_card(station.key, STAFF_CARD)
        assert card is not None and card.username == "desk1"
        assert station.auth.verify_card_pin(card, "97531") and not \
            station.auth.verify_card_pin(card, "13579")
        assert "97531" not in card.pin_hash
        client.get("/healthz")


def test_no_accepted_body_fails_the_station_or_jams_the_queue(tmp_path: Path) -> None:
    """Hypothesis throws any text at the circulation calls while the ILS is away; whatever was
    accepted must then drain to the ILS (done or a staff exception), and nothing may be a 500."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.conftest import start_demo_ils, stop

    port = free_port()
    profile = station_profile(tmp_path, ils_port=port,
                              offline={"patron_policy": "accept_wellformed",
                                       "barcode_pattern": "^.+$",
                                       "max_checkouts_per_session": 10_000})
    with TestClient(create_app(profile), raise_server_exceptions=False) as client:
        token = client.post("/api/v1/sessions", json={"barcode": "2900009999", "pin": "1234"}
                            ).json()["token"]
        headers = {"X-Kiosk-Session": token}

        @given(value=st.text(max_size=80), pin=st.text(max_size=40),
               path=st.sampled_from(["/api/v1/checkin", "/api/v1/checkout"]))
        @settings(max_examples=150, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def anything(value: str, pin: str, path: str) -> None:
            answer = client.post(path, json={"item_id": value}, headers=headers)
            assert answer.status_code in (200, 422), (path, value, answer.text[:200])
            signed = client.post("/api/v1/sessions", json={"barcode": value, "pin": pin})
            assert signed.status_code < 500, (value, pin, signed.text[:200])

        anything()
        queued = client.app.state.station.journal.count()
        assert queued > 0  # some bodies were accepted and journaled
        journal = client.app.state.station.journal

        def drained() -> bool:
            """Every accepted row reached the ILS: done, a staff exception, or waiting behind its
            own item's exception (issue 15) - none stuck for any other reason."""
            held = journal.items_with_open_exceptions()
            return all(t.item_id in held for t in journal.unsettled())

        ils = start_demo_ils(tmp_path, port=port)
        try:
            wait_for(drained, 60)
            assert client.get("/api/v1/status").json()["queue"]["in_doubt"] == 0
        finally:
            stop(ils.proc)


# -- kiosks are devices the station knows -----------------------------------------------------
def test_a_machine_on_the_lan_that_is_not_an_enrolled_kiosk_gets_nothing(tmp_path: Path) -> None:
    from starlette.websockets import WebSocketDisconnect

    with TestClient(create_app(station_profile(tmp_path, ils_port=free_port()))) as client:
        stranger = from_address(client, "10.0.3.1")
        for method, path, body in [
            ("POST", "/api/v1/sessions", {"barcode": MARIA, "pin": MARIA_PIN}),
            ("POST", "/api/v1/checkin", {"item_id": "3100002000"}),
            ("GET", "/api/v1/status", None), ("GET", "/api/v1/pad", None),
            ("POST", "/api/v1/lockers/pickup/code", {"code": "1234567890"}),
            ("POST", "/api/v1/kiosks/fake-1/heartbeat", {}),
        ]:
            assert stranger.request(method, path, json=body).status_code == 401, path
        with pytest.raises(WebSocketDisconnect) as closed, \
                stranger.websocket_connect("/api/v1/events") as events:
            events.receive_json()
        assert closed.value.code == 4401


def test_enrolment_codes_are_one_time_guessing_them_is_slowed_and_revocation_is_at_once(
        tmp_path: Path) -> None:
    app = create_app(station_profile(tmp_path, ils_port=free_port()))
    with TestClient(app) as client:
        station = app.state.station
        station.auth.create_user("admin1", PASSWORD, "admin")
        staff = {"X-CSRF-Token": client.post("/api/v1/staff/login", json={
            "username": "admin1", "password": PASSWORD}).json()["csrf_token"]}
        code = client.post("/api/v1/staff/kiosks/enrolment-code", headers=staff,
                           json={"kiosk_id": "lobby"}).json()["code"]
        lan = from_address(client, "10.0.4.1")
        first = lan.post("/api/v1/kiosks/enrol", json={"code": code, "kiosk_id": "lobby"})
        assert first.status_code == 201
        credential = {"X-Kiosk-Credential": first.json()["credential"]}
        assert lan.post("/api/v1/kiosks/enrol",
                        json={"code": code, "kiosk_id": "thief"}).status_code == 403  # spent
        assert lan.get("/api/v1/status", headers=credential).status_code == 200
        assert lan.post("/api/v1/kiosks/lobby/heartbeat", json={},
                        headers=credential).status_code == 204
        assert lan.post("/api/v1/kiosks/other/heartbeat", json={},
                        headers=credential).status_code == 403  # only for itself
        guesses = [lan.post("/api/v1/kiosks/enrol", json={"code": f"AAAA-BBBB-CCCC-{n:04d}",
                                                          "kiosk_id": "x"}).status_code
                   for n in range(8)]
        assert 429 in guesses
        listed = client.get("/api/v1/staff/kiosks").json()
        assert [k["kiosk_id"] for k in listed] == ["lobby"] and listed[0]["last_seen"]
        from_address(client, "127.0.0.1")
        assert client.post("/api/v1/staff/kiosks/lobby/revoke", headers=staff).json()["revoked"]
        lan = from_address(client, "10.0.4.1")
        assert lan.get("/api/v1/status", headers=credential).status_code == 401
        assert {"kiosk_enrolled", "kiosk_revoked"} <= {e.action for e in station.auth.audit_entries()}


def test_loopback_is_trusted_only_where_the_profile_says_so(tmp_path: Path) -> None:
    profile = station_profile(tmp_path, ils_port=free_port(), kiosk={"trust_loopback": False})
    with TestClient(create_app(profile)) as client:
        assert client.get("/api/v1/status").status_code == 401
        assert client.get("/api/v1/status", headers=enrolled(client, "k1")).status_code == 200


def test_bronco_kiosk_enrols_and_keeps_its_credential_private(tmp_path: Path) -> None:
    import json
    import subprocess

    from bridge.access.kiosks import KioskRegistry
    from bridge.db.engine import open_database
    from kiosk.api import StationApi
    from tests.conftest import bronco

    station_file, kiosk_file, credential_file = untrusting_profiles(tmp_path)
    with station_running(station_file) as url:
        assert httpx.get(f"{url}/api/v1/status").status_code == 401  # loopback not trusted here
        code = KioskRegistry(open_database(f"sqlite:///{tmp_path}/station.db")).new_code("admin", "lobby-1")
        done = subprocess.run(bronco("kiosk", "--profile", str(kiosk_file), "--station", url,
                                     "--enrol", code, "--kiosk-id", "lobby-1"),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert stat.S_IMODE(credential_file.stat().st_mode) == 0o600
        saved = json.loads(credential_file.read_text())
        assert saved["kiosk_id"] == "lobby-1"
        api = StationApi(url, credential=saved["credential"])
        assert api.status()["station"] == "demo-station"
        api.close()


def test_a_station_on_the_network_speaks_only_https_and_kiosks_pin_its_certificate(
        tmp_path: Path) -> None:
    import json
    import os
    import ssl
    import subprocess

    from bridge.access.kiosks import KioskRegistry
    from bridge.access.tls import fingerprint
    from bridge.db.engine import open_database
    from kiosk.api import StationApi
    from kiosk.credential import read_enrolment
    from tests.conftest import bronco

    station_file, kiosk_file, credential_file = untrusting_profiles(tmp_path)
    env = {**os.environ, "BRONCO_STAFF_PASSWORD": PASSWORD}
    subprocess.run(bronco("staff", "add", "desk1", "--profile", str(station_file)), env=env,
                   check=True, capture_output=True)
    with station_running(station_file, "--host", "0.0.0.0") as url:  # beyond loopback
        with pytest.raises(httpx.HTTPError):  # no plain HTTP at all
            httpx.get(url.replace("https://", "http://") + "/healthz", timeout=5)
        with pytest.raises(httpx.HTTPError):  # and its certificate is nobody's CA's
            httpx.get(f"{url}/healthz", timeout=5)
        code = KioskRegistry(open_database(f"sqlite:///{tmp_path}/station.db")).new_code("admin", "lan-1")
        done = subprocess.run(bronco("kiosk", "--profile", str(kiosk_file), "--station", url,
                                     "--enrol", code, "--kiosk-id", "lan-1"),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        served = (tmp_path / "station-cert.pem").read_bytes()
        assert fingerprint(served) in done.stdout  # what staff compare with the console
        enrolment = read_enrolment(credential_file)
        assert enrolment is not None and enrolment.certificate == served.decode()
        api = StationApi(url, credential=enrolment.credential, tls=enrolment.ssl_context())
        assert api.status()["station"] == "demo-station"
        api.close()
        # A staff cookie over HTTPS is Secure.
        context = ssl.create_default_context(cadata=served.decode())
        context.check_hostname = False
        login = httpx.post(f"{url}/api/v1/staff/login", verify=context,
                           json={"username": "desk1", "password": PASSWORD})
        assert "secure" in login.headers["set-cookie"].lower()
        assert json.loads(credential_file.read_text())["kiosk_id"] == "lan-1"


def test_a_tap_is_for_the_kiosk_at_the_reader_only(tmp_path: Path) -> None:
    profile = station_profile(tmp_path, ils_port=free_port(),
                              kiosk={"id": "desk-kiosk", "trust_loopback": False},
                              offline={"patron_policy": "accept_wellformed",
                                       "barcode_pattern": "^[0-9A-F]+$"})
    app = create_app(profile)
    with TestClient(app) as client:
        own, other = enrolled(client, "desk-kiosk"), enrolled(client, "lobby")
        with client.websocket_connect("/api/v1/events", headers=other) as events:
            app.state.station.device("card_reader", "campus").present_card("04A1B2C3")
            heard = events_until(events, "card")  # another kiosk hears of the tap...
        stolen = client.post("/api/v1/sessions", json={"card_tap": heard["tap"], "pin": "1234"},
                             headers=other)
        assert stolen.status_code == 403  # ...but cannot use it
        with client.websocket_connect("/api/v1/events", headers=own) as events:
            app.state.station.device("card_reader", "campus").present_card("04A1B2C3")
            tap = events_until(events, "card")["tap"]
        assert client.post("/api/v1/sessions", json={"card_tap": tap, "pin": "1234"},
                           headers=own).status_code == 201


def test_ctrl_c_closes_open_event_streams_itself(tmp_path: Path) -> None:
    """An open kiosk stream used to hold Ctrl-C for uvicorn's whole graceful timeout, then die
    with a CancelledError traceback; now the station says goodbye (1001) and exits 0."""
    import signal
    import subprocess

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from tests.bridge.circulation.test_crash_replay import station_profile_file
    from tests.conftest import bronco, wait_http

    profile = station_profile_file(tmp_path, free_port())
    port = free_port()
    proc = subprocess.Popen(bronco("station", "--profile", str(profile), "--port", str(port)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        with connect(f"ws://127.0.0.1:{port}/api/v1/events") as stream:
            proc.send_signal(signal.SIGINT)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    stream.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        assert proc.wait(30) == 0
        assert b"CancelledError" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_bronco_sip2_takes_no_password_on_the_command_line() -> None:
    import subprocess

    from tests.conftest import bronco

    done = subprocess.run(bronco("sip2", "--port", "9", "--password", "secret", "status"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--password" in done.stderr
