from __future__ import annotations

from kiosk.i18n import set_language
from kiosk.viewmodels.attract import AttractViewModel, Link

HEALTHY = {"status": "ok", "devices": [{"id": "pad", "state": "ok"}]}


def test_starts_connecting_then_ready() -> None:
    set_language("en")
    vm = AttractViewModel("Main floor")
    calls = []
    vm.subscribe(lambda: calls.append(vm.link))
    assert vm.link is Link.CONNECTING and not vm.can_start
    vm.on_health(HEALTHY)
    assert vm.link is Link.READY and vm.can_start
    assert vm.headline == "Welcome to the library"
    assert calls == [Link.READY]


def test_first_failure_while_connecting_is_unavailable() -> None:
    vm = AttractViewModel()
    vm.on_health(None)
    assert vm.link is Link.UNAVAILABLE and not vm.can_start
    assert vm.headline == "Temporarily unavailable"
    assert "service desk" in vm.message


def test_one_missed_poll_is_a_blip_two_are_an_outage() -> None:
    vm = AttractViewModel()
    vm.on_health(HEALTHY)
    vm.on_health(None)
    assert vm.link is Link.READY
    vm.on_health(None)
    assert vm.link is Link.UNAVAILABLE
    vm.on_health(HEALTHY)  # recovers by itself
    assert vm.link is Link.READY and vm.failed_checks == 0


def test_degraded_station_still_serves_and_says_staff_are_needed() -> None:
    vm = AttractViewModel()
    vm.on_health({"status": "degraded", "devices": [
        {"id": "pad", "state": "ok"}, {"id": "A", "state": "error"},
    ]})
    assert vm.link is Link.DEGRADED and vm.can_start
    assert vm.problem_devices == ["A"]
    assert "staff" in vm.status_line


def test_a_poll_that_changes_nothing_redraws_nothing() -> None:
    """The kiosk polls the station every 2 s; redrawing the screen each time kept an idle Pi busy."""
    vm = AttractViewModel("Main floor")
    redraws = []
    vm.subscribe(lambda: redraws.append(vm.link))
    for _ in range(5):
        vm.on_health(HEALTHY)
    assert redraws == [Link.READY]
    vm.on_health({"status": "degraded", "devices": [{"id": "pad", "state": "error"}]})
    vm.on_health({"status": "degraded", "devices": [{"id": "pad", "state": "error"}]})
    assert redraws == [Link.READY, Link.DEGRADED]
