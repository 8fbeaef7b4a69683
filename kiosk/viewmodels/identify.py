"""Sign-in: a card barcode (scanner or keypad), a campus card tap, then the PIN. A staff card's
tap asks for the staff PIN here too, then opens the maintenance screen."""

from __future__ import annotations

from typing import Any

from kiosk.api import ApiError
from kiosk.i18n import gettext as _
from kiosk.viewmodels.context import KioskContext, Patron
from kiosk.viewmodels.observable import Observable

# The station's answer for a wrong PIN (a staff card's) or a card it does not know: the same words
# for both, so that card numbers cannot be found by trying them.
WRONG_PIN = ("Card number or PIN not recognised", "Incorrect PIN")


class IdentifyVM(Observable):
    def __init__(self, ctx: KioskContext, require_pin: bool = True) -> None:
        super().__init__()
        self.ctx, self.require_pin = ctx, require_pin
        self.reset()

    def reset(self) -> None:
        self.stage = "card"  # card | pin
        self.barcode = self.pin = self.card_tap = self.error = ""
        self.staff = False  # the PIN being typed is a staff card's
        self.busy = False
        self.changed()

    @property
    def prompt(self) -> str:
        if self.stage == "pin":
            return _("Enter your PIN")
        return _("Scan your library card, tap your campus card, or type your card number")

    @property
    def shown(self) -> str:
        return "•" * len(self.pin) if self.stage == "pin" else self.barcode

    def key(self, digit: str) -> None:
        self.ctx.touch()
        self.ctx.tone()  # card numbers and PINs are never spoken
        self.error = ""
        if self.stage == "pin":
            self.pin = (self.pin + digit)[:12]
        else:
            self.barcode = (self.barcode + digit)[:20]
        self.changed()

    def backspace(self) -> None:
        if self.stage == "pin":
            self.pin = self.pin[:-1]
        else:
            self.barcode = self.barcode[:-1]
        self.changed()

    def scanned(self, text: str) -> None:
        """The barcode scanner types the card number and Enter."""
        self.barcode, self.stage = text.strip(), "card"
        self.submit()

    def typed(self, text: str) -> None:
        """Digits and Enter from a hardware keypad: the PIN while one is asked for."""
        if self.stage == "pin":
            self.pin = text.strip()[:12]
            self.submit()
        else:
            self.scanned(text)

    def staff_tapped(self, tap: str) -> None:
        """A staff card: its staff PIN is always asked for."""
        self.card_tap, self.barcode, self.staff = tap, "", True
        self.stage, self.pin, self.error = "pin", "", ""
        self.changed()

    def card_tapped(self, tap: str) -> None:
        self.card_tap, self.barcode, self.staff = tap, "", False
        if self.require_pin:
            self.stage, self.error = "pin", ""
            self.ctx.say(self.prompt, None)
            self.changed()
        else:
            self._sign_in()

    def submit(self) -> None:
        if self.busy:
            return
        if self.stage == "card":
            if not self.barcode:
                self.error = _("Please scan or type your card number")
                self.changed()
                return
            if self.require_pin:
                self.stage = "pin"
                self.ctx.say(self.prompt, None)
                self.changed()
                return
        elif not self.pin:
            self.error = _("Please enter your PIN")
            self.ctx.say(self.error, None)
            self.changed()
            return
        self._sign_in()

    def _sign_in(self) -> None:
        self.busy, self.error = True, ""
        self.changed()
        barcode, pin, tap = self.barcode or None, self.pin or None, self.card_tap or None
        if self.staff:
            self.ctx.run(lambda: self.ctx.api.staff_card(tap or "", pin or ""),
                         lambda _r: self._staff_signed_in(), self._refused)
            return
        self.ctx.run(lambda: self.ctx.api.sign_in(barcode=barcode, pin=pin, card_tap=tap),
                     self._signed_in, self._refused)

    def _staff_signed_in(self) -> None:
        self.busy = False
        self.reset()
        self.ctx.open_maintenance()

    def _signed_in(self, session: dict[str, Any]) -> None:
        self.busy = False
        self.ctx.start_session(Patron(session["name"], session["offline"], session["blocked"],
                                      session.get("message", "")))
        self.ctx.cue("ok")
        self.reset()
        self.ctx.navigate("pickup" if self.ctx.mode == "lockers" else "menu")

    def _refused(self, error: ApiError) -> None:
        self.busy = False
        if error.unreachable:
            self.error = _("The station is not reachable. Please try again in a moment.")
        elif error.code == "card_locked":
            self.error = _("This card is locked after too many wrong PINs. Please see the "
                           "service desk, or try again later.")
        elif error.code == "kiosk_wait":
            self.error = _("Too many cards or PINs were not recognised here. Please wait a "
                           "moment and try again, or see the service desk.")
        elif error.detail in WRONG_PIN:
            self.error = _("Card number or PIN not recognised")
        else:
            self.error = error.detail
        self.pin = ""
        if self.card_tap or error.detail not in WRONG_PIN or error.code:
            # A tap is used once, so a refused one needs a new tap; a wrong PIN after a scan
            # keeps the card number and asks for the PIN again.
            self.stage, self.barcode, self.card_tap, self.staff = "card", "", "", False
        self.ctx.cue("error")
        self.ctx.say(self.error, None)
        self.changed()
