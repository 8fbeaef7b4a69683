"""SQLite for a one-machine trial (the fleet demo without PostgreSQL): the hub's migrations run on
it and a station enrols, pushes and is listed."""

from __future__ import annotations

from pathlib import Path

from hub.db import open_hub_database
from hub.fleet import create_staff_token
from tests.hub.test_hub_api import bearer, client_for, code_for, enrol, event


def test_the_hub_runs_a_trial_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = open_hub_database(url)
    client = client_for(engine, url)
    admin = create_staff_token(engine, "it", "admin")
    token = enrol(client, "k1", code_for(client, admin, "k1"))
    pushed = client.post("/api/v1/fleet/events", headers=bearer(token),
                         json={"events": [event(1), event(2, "status", version="1.2")]})
    assert pushed.json() == {"acked": 2}
    listed = client.get("/api/v1/stations", headers=bearer(admin)).json()
    assert [(s["id"], s["version"], s["online"]) for s in listed] == [("k1", "1.2", True)]
    engine.dispose()
    assert open_hub_database(url).dialect.name == "sqlite"  # migrations run again: nothing to do
