"""The hub's API on a real PostgreSQL server, written as what it prevents: a station enrolling
with a guessed or reused code, a revoked station still pushing, a resend doubling events, events
out of order, and a command for one station reaching another."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from bench.postgres_server import PostgresServer
from hub.app import create_hub_app
from hub.fleet import MAX_WRONG_CODES, create_staff_token
from hub.fleet import audit_log as fleet_audit
from hub.profile import HubProfile, HubSettings


def client_for(engine: Engine, url: str, peer: str = "127.0.0.1") -> TestClient:
    return TestClient(create_hub_app(HubProfile(hub=HubSettings(database_url=url)), engine),
                      client=(peer, 50000))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def code_for(client: TestClient, admin: str, station: str) -> str:
    reply = client.post(f"/api/v1/stations/{station}/enrolment-code", headers=bearer(admin))
    assert reply.status_code == 200, reply.text
    return reply.json()["code"]


def enrol(client: TestClient, station: str, code: str) -> str:
    reply = client.post("/api/v1/enrol", json={"station_id": station, "code": code})
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


def event(seq: int, kind: str = "ils", **payload: object) -> dict[str, object]:
    return {"event_id": str(uuid.uuid4()), "seq": seq, "kind": kind,
            "at": datetime.now(UTC).isoformat(), "payload": payload or {"online": True}}


def test_guessing_enrolment_codes_slows_the_guesser_only_and_survives_a_restart(
        hub_engine: Engine, hub_url: str) -> None:
    """The attack: five wrong codes typed for k1's id used to stop k1's real code working; now
    the guesser's address waits, and the real station enrols from its own."""
    guesser = client_for(hub_engine, hub_url, peer="10.9.9.9")
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    desk = create_staff_token(hub_engine, "desk1", "desk")
    assert guesser.post("/api/v1/stations/k1/enrolment-code", headers=bearer(desk)).status_code == 403
    assert guesser.post("/api/v1/stations/k1/enrolment-code").status_code == 401
    right = code_for(guesser, admin, "k1")
    other = code_for(guesser, admin, "k2")
    answers = [guesser.post("/api/v1/enrol", json={"station_id": "k1",
                                                   "code": f"AAAA-BBBB-CCC{n}"}).status_code
               for n in range(MAX_WRONG_CODES + 3)]
    assert answers[:MAX_WRONG_CODES] == [403] * MAX_WRONG_CODES and 429 in answers
    # Counted in the database: a restarted hub still makes the guesser wait, even with a code.
    restarted = client_for(hub_engine, hub_url, peer="10.9.9.9")
    assert restarted.post("/api/v1/enrol",
                          json={"station_id": "k1", "code": right}).status_code == 429
    # The real k1, from its own address, enrols with its code: the guesser locked nobody out.
    station = client_for(hub_engine, hub_url, peer="10.1.1.1")
    assert station.post("/api/v1/enrol", json={"station_id": "k1", "code": other}).status_code == 403
    enrol(station, "k1", right)
    enrol(station, "k2", other)
    assert station.post("/api/v1/enrol", json={"station_id": "k2", "code": other}).status_code == 403
    # Audited, but never under the name of the station the anonymous caller typed.
    refused = [row for row in fleet_audit(hub_engine) if row["action"] == "enrol_refused"]
    assert refused and all(row["who"] == "(not enrolled)" for row in refused)


def test_an_enrolled_station_is_replaced_only_by_an_admins_explicit_code(
        hub_engine: Engine, hub_url: str) -> None:
    """The attack: a code made for a new station, used with an existing station's id, replaced
    its token (and un-revoked it)."""
    client = client_for(hub_engine, hub_url)
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    token = enrol(client, "k1", code_for(client, admin, "k1"))
    again = client.post("/api/v1/stations/k1/enrolment-code", headers=bearer(admin))
    assert again.status_code == 409  # k1 is enrolled: no code for it without "replace"
    still = client.post("/api/v1/fleet/events", json={"events": [event(1)]}, headers=bearer(token))
    assert still.status_code == 200
    replacing = client.post("/api/v1/stations/k1/enrolment-code?replace=true",
                            headers=bearer(admin)).json()["code"]
    new_token = enrol(client, "k1", replacing)
    assert client.post("/api/v1/fleet/events", json={"events": [event(2)]},
                       headers=bearer(token)).status_code == 401  # the old token ended
    assert client.post("/api/v1/fleet/events", json={"events": [event(2)]},
                       headers=bearer(new_token)).status_code == 200


def test_a_revoked_station_can_neither_push_nor_pull(hub_engine: Engine, hub_url: str) -> None:
    client = client_for(hub_engine, hub_url)
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    token = enrol(client, "k1", code_for(client, admin, "k1"))
    assert client.post("/api/v1/fleet/events", json={"events": [event(1)]},
                       headers=bearer(token)).json() == {"acked": 1}
    assert client.post("/api/v1/stations/k1/revoke", headers=bearer(admin)).status_code == 200
    assert client.post("/api/v1/fleet/events", json={"events": [event(2)]},
                       headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/fleet/commands", headers=bearer(token)).status_code == 401
    listed = {s["id"]: s for s in client.get("/api/v1/stations", headers=bearer(admin)).json()}
    assert listed["k1"]["revoked"] and listed["k1"]["events"] == 1


def test_a_resend_is_stored_once_and_a_gap_waits(hub_engine: Engine, hub_url: str) -> None:
    client = client_for(hub_engine, hub_url)
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    token = enrol(client, "k1", code_for(client, admin, "k1"))
    first = [event(1), event(2), event(3, "checkout", ok=True, offline=False)]
    assert client.post("/api/v1/fleet/events", json={"events": first},
                       headers=bearer(token)).json() == {"acked": 3}
    # The station did not hear the answer and sends 2..4 again (with 4 new): nothing doubles.
    again = [*first[1:], event(4)]
    assert client.post("/api/v1/fleet/events", json={"events": again},
                       headers=bearer(token)).json() == {"acked": 4}
    # 6 before 5: not stored until 5 is there, so the hub's order is the station's.
    assert client.post("/api/v1/fleet/events", json={"events": [event(6)]},
                       headers=bearer(token)).json() == {"acked": 4}
    stored = client.get("/api/v1/stations/k1/events", headers=bearer(admin)).json()
    assert [e["seq"] for e in stored] == [1, 2, 3, 4]
    assert stored[2]["payload"] == {"ok": True, "offline": False}


def test_a_station_that_reported_to_a_lost_hub_is_taken_up_where_its_outbox_stands(
        hub_engine: Engine, hub_url: str) -> None:
    """The hub's database was lost and rebuilt: a station's outbox goes on from 41 (1..40 were
    acknowledged by the old hub). The new hub starts there instead of waiting for 1 forever."""
    client = client_for(hub_engine, hub_url)
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    token = enrol(client, "k1", code_for(client, admin, "k1"))
    sent = [event(41), event(42)]
    assert client.post("/api/v1/fleet/events", json={"events": sent},
                       headers=bearer(token)).json() == {"acked": 42}
    # From then on the order holds as for any station: a gap waits.
    assert client.post("/api/v1/fleet/events", json={"events": [event(44)]},
                       headers=bearer(token)).json() == {"acked": 42}
    stored = client.get("/api/v1/stations/k1/events", headers=bearer(admin)).json()
    assert [e["event_id"] for e in stored] == [e["event_id"] for e in sent]


def test_a_database_connection_cut_under_the_hub_costs_one_503_and_no_event(
        hub_engine: Engine, hub_url: str, postgres: PostgresServer) -> None:
    """PostgreSQL restarts (here: every hub connection is cut): the push that meets a dead
    connection is refused with 503, not stored half; the next is served on a new connection."""
    client = client_for(hub_engine, hub_url)
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    token = enrol(client, "k1", code_for(client, admin, "k1"))
    assert client.post("/api/v1/fleet/events", json={"events": [event(1)]},
                       headers=bearer(token)).json() == {"acked": 1}
    with create_engine(postgres.url, isolation_level="AUTOCOMMIT").connect() as conn:
        cut = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = 'hub'")).scalar()
    assert cut >= 1
    batch = [event(2), event(3)]
    first = client.post("/api/v1/fleet/events", json={"events": batch}, headers=bearer(token))
    assert first.status_code == 503 and first.headers["retry-after"] == "1"
    again = client.post("/api/v1/fleet/events", json={"events": batch}, headers=bearer(token))
    assert again.json() == {"acked": 3}
    stored = client.get("/api/v1/stations/k1/events", headers=bearer(admin)).json()
    assert [e["seq"] for e in stored] == [1, 2, 3]


def test_a_command_for_station_b_never_reaches_station_a(hub_engine: Engine, hub_url: str) -> None:
    client = client_for(hub_engine, hub_url)
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    desk = create_staff_token(hub_engine, "desk1", "desk")
    a = enrol(client, "bank-a", code_for(client, admin, "bank-a"))
    b = enrol(client, "bank-b", code_for(client, admin, "bank-b"))
    queued = client.post("/api/v1/stations/bank-b/commands", headers=bearer(desk),
                         json={"kind": "open_door", "args": {"door": "A01", "reason": "stuck"}})
    command_id = queued.json()["id"]
    assert client.get("/api/v1/fleet/commands", headers=bearer(a)).json() == []
    # A cannot claim B's command done either.
    assert client.post(f"/api/v1/fleet/commands/{command_id}", json={"ok": True},
                       headers=bearer(a)).status_code == 404
    [delivered] = client.get("/api/v1/fleet/commands", headers=bearer(b)).json()
    assert (delivered["id"], delivered["kind"], delivered["by"]) == (command_id, "open_door", "desk1")
    assert client.post(f"/api/v1/fleet/commands/{command_id}", json={"ok": True},
                       headers=bearer(b)).status_code == 200
    assert client.get(f"/api/v1/commands/{command_id}", headers=bearer(desk)).json()["done"]
    assert client.get("/api/v1/fleet/commands", headers=bearer(b)).json() == []
    audited = [(e["who"], e["action"], e["target"])
               for e in client.get("/api/v1/audit", headers=bearer(admin)).json()]
    assert ("desk1", "command_open_door", "bank-b") in audited
    assert ("station:bank-b", "done_open_door", str(command_id)) in audited
    assert client.get("/api/v1/audit", headers=bearer(desk)).status_code == 403
    unknown = client.post("/api/v1/stations/bank-b/commands", headers=bearer(desk),
                          json={"kind": "format_disk", "args": {}})
    assert unknown.status_code == 422
    # Numbers beyond a database integer are refused plainly, never a server error.
    huge = 2**63
    assert client.get(f"/api/v1/commands/{huge}", headers=bearer(desk)).status_code == 422
    assert client.post(f"/api/v1/fleet/commands/{huge}", json={"ok": True},
                       headers=bearer(b)).status_code == 422
    assert client.get(f"/api/v1/stations/bank-b/events?after={huge}",
                      headers=bearer(desk)).status_code == 422


def test_a_reimaged_station_starts_a_new_sequence_and_no_event_is_lost(
        hub_engine: Engine, hub_url: str) -> None:
    """Found by the hub checks: a station that reported up to seq 34, lost its database and was
    enrolled again, numbered its events from 1 again; the hub took seq 1..34 for resends,
    acknowledged them, and three checkouts at seq 25-27 never arrived."""
    client = client_for(hub_engine, hub_url)
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    token = enrol(client, "k1", code_for(client, admin, "k1"))
    before = [event(n) for n in range(1, 35)]
    assert client.post("/api/v1/fleet/events", json={"events": before, "epoch": "aaaa"},
                       headers=bearer(token)).json() == {"acked": 34}
    # The SD card died: a new card, a new database (a new epoch), enrolled again by an admin.
    replacing = client.post("/api/v1/stations/k1/enrolment-code?replace=true",
                            headers=bearer(admin)).json()["code"]
    token = enrol(client, "k1", replacing)
    after = [event(n) for n in range(1, 25)]
    after += [event(n, "checkout", ok=True, offline=True, in_session=True) for n in range(25, 28)]
    assert client.post("/api/v1/fleet/events", json={"events": after, "epoch": "bbbb"},
                       headers=bearer(token)).json() == {"acked": 27}
    stored = client.get("/api/v1/stations/k1/events?limit=500", headers=bearer(admin)).json()
    stored += client.get(f"/api/v1/stations/k1/events?after={stored[-1]['seq']}",
                         headers=bearer(admin)).json()
    assert len(stored) == 34 + 27
    assert [e["kind"] for e in stored].count("checkout") == 3
    # A resend within the new sequence is still a resend.
    assert client.post("/api/v1/fleet/events", json={"events": after[-2:], "epoch": "bbbb"},
                       headers=bearer(token)).json() == {"acked": 27}
    listed = {s["id"]: s for s in client.get("/api/v1/stations", headers=bearer(admin)).json()}
    assert listed["k1"]["events"] == 61
    assert any(row["action"] == "new_sequence" for row in fleet_audit(hub_engine))
    # Restored from a copy whose last two events were unacknowledged when it was taken: the new
    # sequence sends them again, under their own ids, before a new one. Stored once, nothing stuck.
    again = [{**after[-2], "seq": 1}, {**after[-1], "seq": 2}, event(3, "ils", online=False)]
    again.append({**again[-1], "seq": 4})  # and the same id twice in one push
    assert client.post("/api/v1/fleet/events", json={"events": again, "epoch": "cccc"},
                       headers=bearer(token)).json() == {"acked": 4}
    listed = {s["id"]: s for s in client.get("/api/v1/stations", headers=bearer(admin)).json()}
    assert listed["k1"]["events"] == 62


def test_a_station_keeps_and_fetches_only_its_own_state_copy(hub_engine: Engine, hub_url: str) -> None:
    """The attack: a compromised station sends a copy in another station's name (that station's
    new card would restore the attacker's lockers and queue), or fetches another's copy."""
    from station_core.sealing import recovery_key_pair, seal

    client = client_for(hub_engine, hub_url)
    admin = create_staff_token(hub_engine, "it-admin", "admin")
    k1 = enrol(client, "k1", code_for(client, admin, "k1"))
    k2 = enrol(client, "k2", code_for(client, admin, "k2"))
    _, public = recovery_key_pair()

    def sealed(station: str, at: str) -> bytes:
        return seal(b"state", station_id=station, taken_at=at, station_key=b"k" * 32,
                    recovery_public=public.decode())

    forged = client.put("/api/v1/fleet/state-copy", content=sealed("k2", "2026-12-07T10:00:00+00:00"),
                        headers=bearer(k1))
    assert forged.status_code == 403
    assert client.get("/api/v1/fleet/state-copy", headers=bearer(k2)).status_code == 404
    own = sealed("k1", "2026-12-07T10:00:00+00:00")
    assert client.put("/api/v1/fleet/state-copy", content=own, headers=bearer(k1)).json()["kept"]
    # An older copy arriving late never replaces a newer one.
    late = client.put("/api/v1/fleet/state-copy", content=sealed("k1", "2026-12-07T09:00:00+00:00"),
                      headers=bearer(k1))
    assert late.json()["kept"] is False
    assert client.get("/api/v1/fleet/state-copy", headers=bearer(k1)).content == own
    assert client.put("/api/v1/fleet/state-copy", content=b"not a copy",
                      headers=bearer(k1)).status_code == 422
