"""schemathesis generates requests from the station's own OpenAPI document: none may get a 500."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.bridge.circulation.test_crash_replay import station_profile_file
from tests.conftest import bronco, free_port, stop, wait_http

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    profile = station_profile_file(tmp, free_port())  # no ILS there: the station is offline
    env = {**os.environ, "BRONCO_STAFF_PASSWORD": "fuzzing-password-1"}
    subprocess.run(bronco("staff", "add", "fuzz", "--role", "admin", "--profile", str(profile)),
                   env=env, check=True, capture_output=True)
    token = subprocess.run(bronco("staff", "token", "fuzz", "--profile", str(profile)),
                           check=True, capture_output=True, text=True).stdout.strip()
    port = free_port()
    with (tmp / "station.log").open("wb") as log:
        proc = subprocess.Popen(bronco("station", "--profile", str(profile), "--port", str(port)),
                                stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", proc)
        yield url, token
    finally:
        stop(proc)


def test_no_request_makes_the_station_fail(station: tuple[str, str]) -> None:
    url, token = station
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def no_server_error(case) -> None:
            for headers in ({}, {"Authorization": f"Bearer {token}"}):
                response = case.call(base_url=url, headers=headers)
                assert response.status_code < 500, (
                    case.method, case.path, response.status_code, response.text[:300])

        no_server_error()
