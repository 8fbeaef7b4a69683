"""schemathesis generates requests from the hub's own OpenAPI document (on PostgreSQL): none may
get a 500, with no token, a staff admin's token, or a station's."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.hub.conftest import Hub

pytestmark = pytest.mark.slow


def test_no_request_makes_the_hub_fail(tmp_path, hub_url: str) -> None:
    hub = Hub(tmp_path, hub_url)
    hub.start()
    try:
        admin = hub.token("fuzz", "admin")
        code = hub.call("POST", "/api/v1/stations/k1/enrolment-code", admin).json()["code"]
        station = httpx.post(f"{hub.url}/api/v1/enrol", timeout=10,
                             json={"station_id": "k1", "code": code}).json()["token"]
        schema = schemathesis.openapi.from_url(f"{hub.url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 12
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
                      database=None)
            def no_server_error(case) -> None:
                for token in ("", admin, station):
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    response = case.call(base_url=hub.url, headers=headers)
                    assert response.status_code < 500, (
                        case.method, case.path, response.status_code, response.text[:300])

            no_server_error()
    finally:
        hub.kill()
