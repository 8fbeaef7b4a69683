"""What the kiosk says and when, without Kivy: real plurals and babel dates in both languages,
refusals in the patron's language, where a door is, private details, and the session timeouts
(WCAG 2.2.1) on a fake clock."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kiosk.i18n import set_language
from kiosk.viewmodels.account import AccountVM
from kiosk.viewmodels.bank import BankDoor
from kiosk.viewmodels.context import KioskContext, Patron
from kiosk.viewmodels.lockers import PickupVM
from kiosk.viewmodels.pad import CheckoutVM, ReturnVM
from kiosk.viewmodels.receipt import ReceiptVM
from tests.conftest import ROOT
from tests.kiosk.fake_api import FakeApi

ES_PO = ROOT / "kiosk" / "locale" / "es" / "LC_MESSAGES" / "kiosk.po"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    set_language("en")
    yield
    set_language("en")


def speaking_context(**kw: object) -> tuple[KioskContext, list[tuple[str, str | None]]]:
    said: list[tuple[str, str | None]] = []
    ctx = KioskContext(api=FakeApi(sign_out=None), say=lambda t, p=None: said.append((t, p)),
                       **kw)  # type: ignore[arg-type]
    return ctx, said


def test_no_message_in_any_catalogue_says_s_in_brackets() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from translations import template  # the same extraction the catalogues come from
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    source = [m.id for m in template() if m.id]
    with ES_PO.open("rb") as fh:
        spanish = [m.string for m in read_po(fh, locale="es") if m.id]
    texts = [t for item in source + spanish for t in (item if isinstance(item, tuple) else (item,))]
    assert len(texts) > 100
    assert [t for t in texts if re.search(r"\((s|es)\)", t)] == []


@pytest.mark.parametrize(("language", "one", "two"), [
    ("en", "1 item borrowed.", "2 items borrowed."),
    ("es", "1 documento prestado.", "2 documentos prestados."),
])
def test_plural_forms_follow_each_language(language: str, one: str, two: str) -> None:
    set_language(language)
    ctx, _said = speaking_context()
    vm = CheckoutVM(ctx)
    vm.items = {"a": {"item_id": "a", "status": "done"}}
    assert vm.summary == one
    vm.items["b"] = {"item_id": "b", "status": "done"}
    assert vm.summary == two


@pytest.mark.parametrize(("language", "due"), [
    ("en", "Due Dec 22, 2026, 7:30\u202fAM"),
    ("es", "Vence el 22 dic 2026, 7:30"),
])
def test_dates_are_written_for_the_language(language: str, due: str) -> None:
    set_language(language)
    ctx, _said = speaking_context()
    vm = CheckoutVM(ctx)
    assert vm.done_text({"due_date": "2026-12-22T07:30:00", "offline": False}) == due


def test_fines_are_money_in_the_language() -> None:
    ctx, _said = speaking_context()
    vm = AccountVM(ctx, currency="USD")
    vm.account = {"loans": [], "holds": [], "fee_amount": "2.75"}
    assert vm.fines == "Fines: $2.75"
    set_language("es")
    assert vm.fines == "Multas: 2,75\u00a0US$"


def test_a_known_refusal_is_said_in_spanish_and_an_unknown_one_in_the_ils_words() -> None:
    set_language("es")
    ctx, said = speaking_context()
    vm = CheckoutVM(ctx)
    vm.on_event({"type": "pad_item", "item_id": "31", "status": "refused", "title": "Beloved",
                 "message": "This item is on hold for another patron", "reason": "hold_for_other"})
    vm.on_event({"type": "pad_item", "item_id": "32", "status": "refused", "title": "Ulysses",
                 "message": "Code 7: call Jo", "reason": ""})
    results = {what: result for what, result, _s in vm.rows}
    assert results["Beloved"] == "Este documento está reservado para otro usuario."
    assert results["Ulysses"] == "Code 7: call Jo"
    # Heard as it arrives; the title only into headphones.
    assert said[0] == ("Un documento: Este documento está reservado para otro usuario.",
                       "Beloved: Este documento está reservado para otro usuario.")


def test_a_return_result_is_heard_and_shown() -> None:
    ctx, said = speaking_context()
    vm = ReturnVM(ctx)
    vm.on_event({"type": "pad_item", "item_id": "31", "status": "done", "title": "Beloved",
                 "hold_pickup": "MAIN", "in_transit_to": ""})
    assert vm.rows[0][1].startswith("Returned. On hold for someone else")
    assert said == [("An item: " + vm.rows[0][1], "Beloved: " + vm.rows[0][1])]


def test_the_receipt_speaks_every_title_and_due_date() -> None:
    ctx, _said = speaking_context()
    ctx.last_items = [{"item_id": "1", "title": "Beloved", "due_date": "2026-12-22T07:30:00"},
                      {"item_id": "2", "title": "Kindred", "due_date": "2026-12-29T07:30:00"}]
    vm = ReceiptVM(ctx)
    assert vm.summary == "You borrowed 2 items today."
    assert vm.lines == ["Beloved: due Dec 22, 2026, 7:30\u202fAM",
                        "Kindred: due Dec 29, 2026, 7:30\u202fAM"]


@pytest.mark.parametrize(("language", "line"), [
    ("en", "Door B05 is open, second column, third row from the top: take your 2 items and "
           "close the door."),
    ("es", "La puerta B05 está abierta, segunda columna, tercera fila desde arriba: tome sus 2 "
           "documentos y cierre la puerta."),
])
def test_an_opened_door_says_where_it_is(language: str, line: str) -> None:
    set_language(language)
    ctx, said = speaking_context()
    bank = [BankDoor("B05", row=3, column=2), BankDoor("B01", row=1, column=1, accessible=True)]
    vm = PickupVM(ctx, digits=10, bank=bank)
    vm._opened([{"door_id": "B05", "outcome": "opened", "items": ["a", "b"], "problems": []}])
    assert vm.lines == [line]
    assert said[-1] == (line, None)
    assert vm.opened_doors == {"B05"}


def test_code_digits_are_tones_and_shown_as_dots() -> None:
    tones: list[int] = []
    ctx, said = speaking_context()
    ctx.tone = lambda: tones.append(1)
    vm = PickupVM(ctx, digits=10)
    for digit in "4071":
        vm.key(digit)
    assert len(tones) == 4 and vm.masked == "••••______"
    assert not any(re.search(r"[0-9]{2,}", text) for text, _p in said)


# -- timeouts --------------------------------------------------------------------------------------
def signed_in(**kw: object) -> tuple[KioskContext, list[tuple[str, str | None]], list[str]]:
    screens: list[str] = []
    ctx, said = speaking_context(navigate=screens.append, **kw)
    ctx.start_session(Patron("Ana", offline=False, blocked=False))
    return ctx, said, screens


def test_the_warning_comes_20_s_before_the_end_shown_and_heard() -> None:
    ctx, said, screens = signed_in(idle_timeout_s=60, warning_s=20)
    for _second in range(39):
        ctx.tick(1)
    assert not ctx.warning and said == []
    ctx.tick(1)  # 20 s left
    assert ctx.warning and ctx.remaining_s == 20
    assert said == [("Are you still there? Your session ends in 20 seconds. Press any key or "
                     "touch the screen to continue.", None)]
    for _second in range(19):
        ctx.tick(1)
    assert ctx.patron is not None and len(said) == 1  # heard once, not every second
    ctx.tick(1)
    assert ctx.patron is None and screens == ["attract"]


def test_one_key_extends_the_session_again_and_again() -> None:
    ctx, said, _screens = signed_in(idle_timeout_s=60, warning_s=20)
    for _extension in range(12):  # WCAG 2.2.1: at least ten times
        for _second in range(45):
            ctx.tick(1)
        assert ctx.warning
        ctx.touch()  # any key or touch
        assert not ctx.warning and ctx.remaining_s == 60
    assert ctx.patron is not None and len(said) == 12


def test_speech_mode_doubles_the_timeouts() -> None:
    ctx, _said, _screens = signed_in(idle_timeout_s=60, warning_s=20)
    ctx.speech_mode = True
    ctx.touch()
    assert ctx.remaining_s == 120
    for _second in range(79):
        ctx.tick(1)
    assert not ctx.warning
    ctx.tick(1)
    assert ctx.warning and ctx.remaining_s == 40


def test_the_patrons_settings_do_not_outlive_the_session() -> None:
    languages: list[str] = []
    ctx, _said, _screens = signed_in(on_language=languages.append)
    ctx.set_language("es")
    ctx.toggle_contrast()
    ctx.cycle_text_size()
    ctx.cycle_text_size()
    assert (ctx.language, ctx.high_contrast, ctx.text_scale) == ("es", True, 2.0)
    ended: list[bool] = []
    ctx.on_session_end = lambda: ended.append(True)
    ctx.end_session()
    assert (ctx.language, ctx.high_contrast, ctx.text_scale) == ("en", False, 1.0)
    assert ended == [True] and languages[-1] == "en"


def test_translations_script_sees_plurals() -> None:
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "translations.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout
    with ES_PO.open("rb") as fh:
        plural = [m for m in read_po(fh, locale="es") if isinstance(m.id, tuple)]
    assert len(plural) >= 10 and all(len(m.string) == 2 and all(m.string) for m in plural)


def test_po_file_exists() -> None:
    assert Path(ES_PO).is_file()
