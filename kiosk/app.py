"""The Kivy application: wires view-models to screens, the station link, the event stream, the
barcode scanner (a keyboard), the EZ Access keypad, speech, the idle countdown and sound cues."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Keyboard, Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import FadeTransition, ScreenManager

from kiosk import icons, screens
from kiosk.api import ApiError, StationApi
from kiosk.credential import read_enrolment
from kiosk.events import EventStream
from kiosk.focus import FocusRing
from kiosk.i18n import gettext as _
from kiosk.i18n import set_language
from kiosk.keypad import KeyMap
from kiosk.sounds import SoundCues
from kiosk.speech.jack import JackWatcher
from kiosk.speech.player import KivyPlayer
from kiosk.speech.speaker import Speaker
from kiosk.speech.synth import SpeechCache
from kiosk.station_link import StationLink
from kiosk.theme import HIGH_CONTRAST, branded
from kiosk.viewmodels.account import AccountVM
from kiosk.viewmodels.attract import AttractViewModel
from kiosk.viewmodels.bank import BankDoor
from kiosk.viewmodels.context import KioskContext
from kiosk.viewmodels.identify import IdentifyVM
from kiosk.viewmodels.lockers import PickupVM, TechReturnVM
from kiosk.viewmodels.menu import MenuVM
from kiosk.viewmodels.pad import CheckoutVM, ReturnVM
from kiosk.viewmodels.receipt import GoodbyeVM, ReceiptVM
from kiosk.viewmodels.returns import ReturnsVM
from kiosk.viewmodels.staff import StaffVM
from station_core.profile import Profile

log = logging.getLogger(__name__)
KV = Path(__file__).parent / "kv" / "screens.kv"
GOODBYE_S = 5.0
ENTER_KEYS = (13, 271)  # Enter and keypad Enter: a scanner ends a barcode with either


def bank_of(profile: Profile) -> list[BankDoor]:
    return [BankDoor(d.id, d.row, d.column, d.accessible) for d in profile.doors
            if d.row is not None and d.column is not None]


class KioskApp(App):
    theme = ObjectProperty(branded(None))
    text_scale = NumericProperty(1.0)
    icons = BooleanProperty(False)
    logo = StringProperty("")

    def __init__(self, profile: Profile, station_url: str, language: str = "en",
                 speech_cache: Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        self.station_url = station_url
        self.title = "Bronco Station"
        settings = profile.kiosk
        enrolment = read_enrolment(settings.credential_file)
        credential = enrolment.credential if enrolment else ""
        tls = enrolment.ssl_context() if enrolment else None
        self.kiosk_id = enrolment.kiosk_id if enrolment else profile.station.id
        self.api = StationApi(station_url, credential=credential, tls=tls)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kiosk-call")
        self._speech_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-speech")
        self.cues = SoundCues(enabled=settings.sound)
        self.player = KivyPlayer()
        self.speaker = Speaker(
            SpeechCache(speech_cache), dict(settings.voices), play=self.player.play,
            stop=self.player.stop, tone=self.player.tone,
            background=lambda work: self._speech_pool.submit(work),
            deliver=lambda work: Clock.schedule_once(lambda _dt: work()),
            always=settings.speech == "always")
        self.speaker.language = language
        self.speaker.on_change = self._speech_changed
        self.standard_theme = branded(settings.branding)
        self.logo = str(settings.branding.logo) if settings.branding and settings.branding.logo \
            else ""
        self.ctx = KioskContext(
            api=self.api, run=self._run, navigate=self.navigate, cue=self.cues.play,
            say=self.speaker.say, tone=self.speaker.digit,
            idle_timeout_s=settings.idle_timeout_s, warning_s=settings.warning_s,
            has_lockers=bool(profile.doors), mode=settings.mode, language=language,
            languages=tuple(settings.languages), high_contrast=settings.high_contrast,
            text_scale=float(settings.text_scale), speech_mode=self.speaker.active,
            on_language=set_language, open_maintenance=lambda: self.vms["staff"].enter(),
        )
        self.ctx.on_session_end = self._session_ended
        self.theme = HIGH_CONTRAST if self.ctx.high_contrast else self.standard_theme
        self.text_scale = self.ctx.text_scale
        self.ctx.subscribe(self._apply_settings)
        self.attract = AttractViewModel(profile.station.name or profile.station.id)
        bank = bank_of(profile)
        self.vms: dict[str, Any] = {
            "identify": IdentifyVM(self.ctx), "menu": MenuVM(self.ctx),
            "checkout": CheckoutVM(self.ctx), "return": ReturnVM(self.ctx),
            "account": AccountVM(self.ctx, settings.currency),
            "pickup": PickupVM(self.ctx, profile.lockers.pickup_code_digits, bank),
            "tech_return": TechReturnVM(self.ctx, bank), "receipt": ReceiptVM(self.ctx),
            "goodbye": GoodbyeVM(self.ctx), "staff": StaffVM(self.ctx),
            "returns": ReturnsVM(self.ctx),
        }
        self.keymap = KeyMap(settings.keypad, Keyboard.keycodes)
        self.focus = FocusRing(lambda: self.theme.focus)
        self.link = StationLink(station_url, self._health_from_thread, tls=tls)
        self.events = EventStream(station_url, self._event_from_thread, credential, tls)
        self.jack = JackWatcher(lambda plugged: Clock.schedule_once(
            lambda _dt: self.speaker.headphones_changed(plugged)), card=settings.headphone_card)
        self.first_health = False
        self.manager: ScreenManager | None = None
        self.root_layout: FloatLayout | None = None
        self.blank: screens.Blank | None = None
        self._scanned = ""
        self._goodbye: Any = None
        self._spoken_for = ""  # a screen whose words were said before it was entered

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
        before = self.attract.headline
        self.attract.on_health(health)
        if self.attract.headline != before and self.current == "attract" and self.manager:
            self.speaker.say(*self.manager.current_screen.intro())  # "Welcome", "Unavailable"
        offline = bool(health) and not health.get("ils", {}).get("online", True)
        if offline != self.ctx.offline:
            self.ctx.offline = offline
            self.ctx.changed()
        if health is None and self.ctx.patron is not None:
            self.ctx.patron = None  # the station restarted: its sessions are gone
            self.navigate(self.ctx.home)

    def _event_from_thread(self, event: dict[str, Any]) -> None:
        Clock.schedule_once(lambda _dt: self.on_station_event(event))

    def on_station_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        current = self.current
        if kind == "pad_item" and current in ("checkout", "return"):
            self.vms[current].on_event(event)
        elif kind in ("returned", "returns_slot", "returns_line") and self.ctx.mode == "returns":
            self.vms["returns"].on_event(event)
        elif kind == "card" and event.get("tap"):
            if event.get("staff"):
                self.navigate("identify")
                self.vms["identify"].staff_tapped(event["tap"])
            elif current in ("attract", "identify") or (current == "pickup" and
                                                        self.ctx.patron is None):
                self.navigate("identify")
                self.vms["identify"].card_tapped(event["tap"])
        elif kind == "ils":
            self.ctx.offline = not event.get("online", True)
            self.ctx.changed()

    # -- navigation, speech and focus ------------------------------------------------------------
    @property
    def current(self) -> str:
        return self.manager.current if self.manager else ""

    def navigate(self, name: str) -> None:
        if self.manager is None:
            return
        if self._goodbye is not None:
            self._goodbye.cancel()
            self._goodbye = None
        if name == "goodbye":
            self._goodbye = Clock.schedule_once(lambda _dt: self.navigate(self.ctx.home), GOODBYE_S)
        if self.manager.current == name:
            self.manager.current_screen.refresh()
            self._entered(self.manager.current_screen)
        else:
            self.manager.current = name

    def _entered(self, screen: Any) -> None:
        """A new screen: focus starts before its first control; speech says what it is for."""
        self.focus.collect(*screen.focus_roots(), keep=False)
        if self._spoken_for != screen.name:
            self.speaker.say(*screen.intro())
        self._spoken_for = ""

    def screen_redrawn(self, screen: Any) -> None:
        self.focus.collect(*screen.focus_roots(), keep=True)

    def _speech_changed(self) -> None:
        self.ctx.speech_mode = self.speaker.active
        Window.allow_screensaver = not self.speaker.active  # 508 405.1: never blank by itself
        if self.ctx.patron is not None:
            self.ctx.touch()  # the longer speech-mode timeout starts now
        self.ctx.changed()
        if self.speaker.active and self.manager is not None:
            screen = self.manager.current_screen
            public, private = screen.intro()
            self.speaker.say(f"{public} {screen.help_text()}", f"{private} {screen.help_text()}")

    def _session_ended(self) -> None:
        farewell = self.manager.current_screen.intro() if self.manager is not None else None
        if farewell is not None and self.speaker.last in farewell:
            farewell = None  # just said (the screen did not change)
        self.speaker.end_session(farewell)
        self._spoken_for = self.current  # said already: entering it says nothing more

    def blank_screen(self) -> None:
        """The patron hides the screen (privacy while listening); any key or touch shows it."""
        if self.root_layout is None or self.blank is not None:
            return
        self.blank = screens.Blank()
        self.root_layout.add_widget(self.blank)
        self.speaker.say(_("The screen is hidden. Press any key or touch the screen to show it."))

    def unblank(self) -> bool:
        if self.blank is None or self.root_layout is None:
            return False
        self.root_layout.remove_widget(self.blank)
        self.blank = None
        return True

    # -- keys: the scanner and the keypad --------------------------------------------------------
    def _on_key_up(self, _window: Any, key: int, _scancode: int) -> bool:
        self.keymap.released(key)
        return True

    def _on_key(self, _window: Any, key: int, _scancode: int, codepoint: str | None,
                _modifiers: list[str]) -> bool:
        if not self.keymap.pressed(key):
            return True  # a held key does not repeat (508 407.4)
        self.speaker.silence()  # any key interrupts speech (508 402.2.4)
        if self.ctx.patron is not None:
            self.ctx.touch()
        if self.unblank():
            return True
        if key in ENTER_KEYS and self._scanned.strip():
            text, self._scanned = self._scanned.strip(), ""
            self.scanned(text)
            return True
        function = self.keymap.function(key)
        if function is not None:
            self.keypad(function)
            return True
        if key in ENTER_KEYS:
            return True
        if codepoint and codepoint.isprintable():
            self._scanned += codepoint
        return True

    def keypad(self, function: str) -> None:
        screen = self.manager.current_screen if self.manager else None
        if screen is None:
            return
        speaker = self.speaker
        if function in ("up", "down"):
            self.focus.collect(*screen.focus_roots(), keep=True)
            if self.focus.move(-1 if function == "up" else 1) is not None:
                speaker.say(self.focus.description())
        elif function == "select":
            if self.focus.current is None:
                if self.focus.move(1) is not None:
                    speaker.say(self.focus.description())
            else:
                self.focus.activate()
        elif function == "back":
            screen.back()
        elif function == "help":
            if not speaker.active:
                speaker.request()  # speaks the screen and how to use the keys
            else:
                public, private = screen.intro()
                speaker.say(f"{public} {screen.help_text()}", f"{private} {screen.help_text()}")
        elif function == "repeat":
            speaker.repeat()
        elif function == "volume_up":
            speaker.louder()
        elif function == "volume_down":
            speaker.quieter()

    def scanned(self, text: str) -> None:
        current = self.current
        if current in ("attract", "identify") or (current == "pickup" and self.ctx.patron is None
                                                  and not text.isdigit()):
            self.navigate("identify")
            self.vms["identify"].typed(text) if current == "identify" else \
                self.vms["identify"].scanned(text)
        elif current == "pickup" and self.ctx.patron is None:
            vm = self.vms["pickup"]
            if len(text) == vm.digits:
                vm.typed(text)  # a pickup code typed on a hardware keypad
            else:
                self.navigate("identify")
                self.vms["identify"].scanned(text)  # a library card
        elif current == "tech_return":
            self.vms["tech_return"].scanned(text)
        elif current == "checkout":
            self._run(lambda: self.api.checkout(text), lambda r: self.vms["checkout"].on_event(
                {"type": "pad_item", "item_id": r["item_id"], "status": "done" if r["ok"] else "refused",
                 "title": r["title"], "due_date": r["due_date"], "message": r["message"],
                 "reason": r.get("reason", ""), "offline": r["offline"], "parts": 1,
                 "missing": []}), lambda e: None)
        elif current == "return":
            self._run(lambda: self.api.checkin(text), lambda r: self.vms["return"].on_event(
                {"type": "pad_item", "item_id": r["item_id"], "status": "done" if r["ok"] else "refused",
                 "title": r["title"], "message": r["message"], "reason": r.get("reason", ""),
                 "offline": r["offline"], "hold_pickup": r["hold_pickup"],
                 "in_transit_to": r["in_transit_to"]}), lambda e: None)

    # -- the countdown, heartbeat and the patron's settings --------------------------------------
    def _tick(self, dt: float) -> None:
        self.ctx.tick(dt)

    def _heartbeat(self, _dt: float) -> None:
        screen = self.current
        self._run(lambda: self.api.heartbeat(self.kiosk_id, screen, self.ctx.offline),
                  lambda _r: None, lambda _e: None)

    def _apply_settings(self) -> None:
        wanted = HIGH_CONTRAST if self.ctx.high_contrast else self.standard_theme
        redraw = self.theme is not wanted or self.text_scale != self.ctx.text_scale
        self.theme, self.text_scale = wanted, self.ctx.text_scale
        self.speaker.language = self.ctx.language
        if redraw and self.manager is not None:
            self.manager.current_screen.refresh()

    # -- Kivy ------------------------------------------------------------------------------------
    def build(self) -> FloatLayout:
        self.icons = icons.register()
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
            s.ReturnsScreen(self.ctx, self.vms["returns"]),
        ):
            self.manager.add_widget(screen)
        self.manager.current = self.ctx.home
        self.manager.bind(current=lambda *_a: Clock.schedule_once(
            lambda _dt: self._entered(self.manager.current_screen)))
        self.ctx.on_language = self._language
        Window.bind(on_key_down=self._on_key, on_key_up=self._on_key_up)
        Window.bind(on_touch_down=self._touched)
        self.root_layout = FloatLayout()
        self.root_layout.add_widget(self.manager)
        return self.root_layout

    def _touched(self, *_args: Any) -> bool:
        self.speaker.silence()
        if self.ctx.patron:
            self.ctx.touch()
        return self.unblank()  # a touch on the blanked screen only shows it again

    def _language(self, language: str) -> None:
        set_language(language)
        self.speaker.language = language
        if self.manager is not None:
            self.manager.current_screen.refresh()
            self.speaker.say(*self.manager.current_screen.intro())

    def screen_names(self) -> list[str]:
        return list(self.manager.screen_names) if self.manager else []

    def on_start(self) -> None:
        from kivy.core.window import Window

        def drawn(*_args: Any) -> None:  # the first frame is on the screen
            self.link.drawn = True
            Window.unbind(on_flip=drawn)

        Window.bind(on_flip=drawn)
        self.link.start()
        self.events.start()
        self.jack.start()
        Clock.schedule_interval(self._tick, 1.0)
        Clock.schedule_interval(self._heartbeat, 5.0)
        if self.manager is not None:
            Clock.schedule_once(lambda _dt: self._entered(self.manager.current_screen))
        if self.ctx.mode == "returns":
            self._run(self.api.returns_status, self.vms["returns"].status, lambda _e: None)

    def on_stop(self) -> None:
        self.link.stop()
        self.events.stop()
        self.jack.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._speech_pool.shutdown(wait=False, cancel_futures=True)
