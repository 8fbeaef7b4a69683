"""The Kivy application: wires view-models to screens, the station link, the event stream,
the barcode scanner (a keyboard), the idle countdown and sound cues."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import FadeTransition, ScreenManager

from kiosk import screens
from kiosk.api import ApiError, StationApi
from kiosk.credential import read_enrolment
from kiosk.events import EventStream
from kiosk.i18n import set_language
from kiosk.sounds import SoundCues
from kiosk.station_link import StationLink
from kiosk.theme import HIGH_CONTRAST, STANDARD
from kiosk.viewmodels.account import AccountVM
from kiosk.viewmodels.attract import AttractViewModel
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.identify import IdentifyVM
from kiosk.viewmodels.lockers import PickupVM, TechReturnVM
from kiosk.viewmodels.menu import MenuVM
from kiosk.viewmodels.pad import CheckoutVM, ReturnVM
from kiosk.viewmodels.receipt import GoodbyeVM, ReceiptVM
from kiosk.viewmodels.staff import StaffVM
from station_core.profile import Profile

log = logging.getLogger(__name__)
KV = Path(__file__).parent / "kv" / "screens.kv"
GOODBYE_S = 5.0


class KioskApp(App):
    theme = ObjectProperty(STANDARD)

    def __init__(self, profile: Profile, station_url: str, language: str = "en",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        self.station_url = station_url
        self.title = "Bronco Station"
        enrolment = read_enrolment(profile.kiosk.credential_file)
        credential = enrolment.credential if enrolment else ""
        tls = enrolment.ssl_context() if enrolment else None
        self.kiosk_id = enrolment.kiosk_id if enrolment else profile.station.id
        self.api = StationApi(station_url, credential=credential, tls=tls)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kiosk-call")
        self.cues = SoundCues(enabled=profile.kiosk.sound)
        self.ctx = KioskContext(
            api=self.api, run=self._run, navigate=self.navigate, cue=self.cues.play,
            idle_timeout_s=profile.kiosk.idle_timeout_s, warning_s=profile.kiosk.warning_s,
            has_lockers=bool(profile.doors), language=language,
            high_contrast=profile.kiosk.high_contrast, on_language=set_language,
            open_maintenance=lambda: self.vms["staff"].enter(),
        )
        self.theme = HIGH_CONTRAST if self.ctx.high_contrast else STANDARD
        self.ctx.subscribe(self._apply_theme)
        self.attract = AttractViewModel(profile.station.name or profile.station.id)
        self.vms: dict[str, Any] = {
            "identify": IdentifyVM(self.ctx), "menu": MenuVM(self.ctx),
            "checkout": CheckoutVM(self.ctx), "return": ReturnVM(self.ctx),
            "account": AccountVM(self.ctx), "pickup": PickupVM(self.ctx, profile.lockers.pickup_code_digits),
            "tech_return": TechReturnVM(self.ctx), "receipt": ReceiptVM(self.ctx),
            "goodbye": GoodbyeVM(self.ctx), "staff": StaffVM(self.ctx),
        }
        self.link = StationLink(station_url, self._health_from_thread, tls=tls)
        self.events = EventStream(station_url, self._event_from_thread, credential, tls)
        self.first_health = False
        self.manager: ScreenManager | None = None
        self._scanned = ""
        self._goodbye: Any = None

    # -- threads -> the UI thread ------------------------------------------------------------------
    def _run(self, call: Any, done: Any, failed: Any) -> None:
        def work() -> None:
            try:
                result = call()
            except ApiError as exc:
                refusal = exc
                Clock.schedule_once(lambda _dt: failed(refusal))
                return
            except Exception as exc:  # a bug must not freeze the kiosk: show it as a refusal
                log.exception("kiosk call failed")
                error = ApiError(500, str(exc))
                Clock.schedule_once(lambda _dt: failed(error))
                return
            Clock.schedule_once(lambda _dt: done(result))

        self._pool.submit(work)

    def _health_from_thread(self, health: dict[str, Any] | None) -> None:
        Clock.schedule_once(lambda _dt: self._apply_health(health))

    def _apply_health(self, health: dict[str, Any] | None) -> None:
        self.first_health = True
        self.attract.on_health(health)
        offline = bool(health) and not health.get("ils", {}).get("online", True)
        if offline != self.ctx.offline:
            self.ctx.offline = offline
            self.ctx.changed()
        if health is None and self.ctx.patron is not None:
            self.ctx.patron = None  # the station restarted: its sessions are gone
            self.navigate("attract")

    def _event_from_thread(self, event: dict[str, Any]) -> None:
        Clock.schedule_once(lambda _dt: self.on_station_event(event))

    def on_station_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        current = self.manager.current if self.manager else ""
        if kind == "pad_item" and current in ("checkout", "return"):
            self.vms[current].on_event(event)
        elif kind == "card" and event.get("tap"):
            if event.get("staff"):
                self.navigate("identify")
                self.vms["identify"].staff_tapped(event["tap"])
            elif current in ("attract", "identify"):
                self.navigate("identify")
                self.vms["identify"].card_tapped(event["tap"])
        elif kind == "ils":
            self.ctx.offline = not event.get("online", True)
            self.ctx.changed()

    # -- navigation, scanner, countdown ----------------------------------------------------------
    def navigate(self, name: str) -> None:
        if self.manager is None:
            return
        if self._goodbye is not None:
            self._goodbye.cancel()
            self._goodbye = None
        if name == "goodbye":
            self._goodbye = Clock.schedule_once(lambda _dt: self.navigate("attract"), GOODBYE_S)
        self.manager.current = name

    def _on_key(self, _window: Any, key: int, _scancode: int, codepoint: str | None,
                _modifiers: list[str]) -> bool:
        """A barcode scanner is a keyboard: gather characters until Enter."""
        if self.ctx.patron is not None:
            self.ctx.touch()
        if key == 13:
            text, self._scanned = self._scanned.strip(), ""
            if text:
                self.scanned(text)
            return True
        if codepoint and codepoint.isprintable():
            self._scanned += codepoint
        return True

    def scanned(self, text: str) -> None:
        current = self.manager.current if self.manager else ""
        if current in ("attract", "identify"):
            self.navigate("identify")
            self.vms["identify"].scanned(text)
        elif current == "tech_return":
            self.vms["tech_return"].scanned(text)
        elif current == "checkout":
            self._run(lambda: self.api.checkout(text), lambda r: self.vms["checkout"].on_event(
                {"type": "pad_item", "item_id": r["item_id"], "status": "done" if r["ok"] else "refused",
                 "title": r["title"], "due_date": r["due_date"], "message": r["message"],
                 "offline": r["offline"], "parts": 1, "missing": []}), lambda e: None)
        elif current == "return":
            self._run(lambda: self.api.checkin(text), lambda r: self.vms["return"].on_event(
                {"type": "pad_item", "item_id": r["item_id"], "status": "done" if r["ok"] else "refused",
                 "title": r["title"], "message": r["message"], "offline": r["offline"],
                 "hold_pickup": r["hold_pickup"], "in_transit_to": r["in_transit_to"]}), lambda e: None)

    def _tick(self, dt: float) -> None:
        self.ctx.tick(dt)

    def _heartbeat(self, _dt: float) -> None:
        screen = self.manager.current if self.manager else ""
        self._run(lambda: self.api.heartbeat(self.kiosk_id, screen, self.ctx.offline),
                  lambda _r: None, lambda _e: None)

    def _apply_theme(self) -> None:
        wanted = HIGH_CONTRAST if self.ctx.high_contrast else STANDARD
        if self.theme is not wanted:
            self.theme = wanted
            if self.manager is not None:
                self.manager.current_screen.refresh()

    # -- Kivy ------------------------------------------------------------------------------------
    def build(self) -> ScreenManager:
        Builder.load_file(str(KV))
        self.manager = ScreenManager(transition=FadeTransition(duration=0.12))
        s = screens
        for screen in (
            s.AttractScreen(self.ctx, self.attract),
            s.IdentifyScreen(self.ctx, self.vms["identify"]),
            s.MenuScreen(self.ctx, self.vms["menu"]),
            s.PadScreen(self.ctx, self.vms["checkout"], "checkout"),
            s.PadScreen(self.ctx, self.vms["return"], "return"),
            s.AccountScreen(self.ctx, self.vms["account"]),
            s.PickupScreen(self.ctx, self.vms["pickup"]),
            s.TechReturnScreen(self.ctx, self.vms["tech_return"]),
            s.ReceiptScreen(self.ctx, self.vms["receipt"]),
            s.GoodbyeScreen(self.ctx, self.vms["goodbye"]),
            s.StaffScreen(self.ctx, self.vms["staff"]),
        ):
            self.manager.add_widget(screen)
        self.ctx.on_language = self._language
        Window.bind(on_key_down=self._on_key)
        Window.bind(on_touch_down=lambda *_a: self.ctx.touch() if self.ctx.patron else None)
        return self.manager

    def _language(self, language: str) -> None:
        set_language(language)
        if self.manager is not None:
            self.manager.current_screen.refresh()

    def screen_names(self) -> list[str]:
        return list(self.manager.screen_names) if self.manager else []

    def on_start(self) -> None:
        self.link.start()
        self.events.start()
        Clock.schedule_interval(self._tick, 1.0)
        Clock.schedule_interval(self._heartbeat, 5.0)

    def on_stop(self) -> None:
        self.link.stop()
        self.events.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
