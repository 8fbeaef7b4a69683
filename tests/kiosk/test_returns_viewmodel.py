"""The return slot's screen without Kivy: what the patron reads and hears for each item the
station took, why the slot waits, and the receipt - in English and in Spanish."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiosk.i18n import set_language
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.returns import ReturnsVM
from tests.kiosk.fake_api import FakeApi


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    set_language("en")
    yield
    set_language("en")


def slot(api: FakeApi) -> tuple[ReturnsVM, list[str], list[str]]:
    said: list[str] = []
    cues: list[str] = []
    ctx = KioskContext(api=api, mode="returns", cue=cues.append,
                       say=lambda text, private=None: said.append(text))
    return ReturnsVM(ctx), said, cues


def test_each_item_is_shown_and_said_as_it_is_taken() -> None:
    vm, said, cues = slot(FakeApi())
    assert vm.ctx.home == "returns"
    vm.on_event({"type": "returned", "item_id": "3100002000", "title": "The Overstory",
                 "kind": "everything_else"})
    vm.on_event({"type": "returned", "item_id": "3100007001", "title": "Kindred", "kind": "hold",
                 "hold": True})
    vm.on_event({"type": "returned", "item_id": "9900001", "title": "", "problem": "foreign",
                 "handed_back": True})
    assert vm.lines[2] == "The Overstory: returned, thank you."  # the newest comes first
    assert "waiting" in vm.lines[1] and "another library" in vm.lines[0]
    assert "take it back" in vm.lines[0]  # it came back out of the slot
    assert said == vm.lines[::-1] and cues == ["ok", "ok", "error"]
    assert vm.offers_receipt


def test_the_slot_says_why_it_waits() -> None:
    vm, said, cues = slot(FakeApi())
    vm.on_event({"type": "returns_slot", "paused": "one_at_a_time"})
    assert "at a time" in vm.paused and said[-1] == vm.paused
    vm.on_event({"type": "returns_slot", "paused": ""})
    vm.on_event({"type": "returns_line", "state": "bin_full"})
    assert "paused" in vm.paused and cues == ["attention", "attention"]
    vm.on_event({"type": "returns_line", "state": "running"})
    assert vm.paused == ""


def test_a_receipt_is_asked_of_the_station_and_the_list_starts_again() -> None:
    api = FakeApi(returns_receipt={"sent": True, "items": 1})
    vm, said, _cues = slot(api)
    vm.on_event({"type": "returned", "item_id": "3100002000", "title": "The Overstory"})
    vm.choose("email")
    assert api.calls[-1] == ("returns_receipt", ("email",), {})
    assert vm.lines == [] and "receipt" in vm.message and said[-1] == vm.message
    api.answers["returns_receipt"] = {"sent": False, "why": "no_email"}
    vm.on_event({"type": "returned", "item_id": "3100002001", "title": "Kindred"})
    vm.choose("email")
    assert "email address" in vm.message


def test_a_spanish_session_reads_and_hears_spanish() -> None:
    vm, said, _cues = slot(FakeApi())
    vm.on_event({"type": "returned", "item_id": "3100002001", "title": "Kindred"})
    set_language("es")  # what is already on the screen reads in Spanish now
    assert vm.lines == ["Kindred: devuelto, gracias."]
    vm.on_event({"type": "returned", "item_id": "3100002000", "title": "The Overstory"})
    vm.on_event({"type": "returned", "item_id": "", "problem": "unreadable", "handed_back": True})
    vm.on_event({"type": "returns_slot", "paused": "one_at_a_time"})
    assert vm.lines[1] == "The Overstory: devuelto, gracias."
    assert vm.lines[0].startswith("Este ejemplar: no se pudo leer")
    assert "uno en uno" in vm.paused and said[-1] == vm.paused
    vm.choose("none")
    assert vm.message == "¡Gracias!" and said[-1] == vm.message
