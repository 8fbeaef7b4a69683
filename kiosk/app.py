"""The Kivy application: builds screens over view-models and wires them to the station link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import FadeTransition, Screen, ScreenManager

from bronco.profile import Profile
from kiosk.i18n import gettext as _
from kiosk.station_link import StationLink
from kiosk.theme import HIGH_CONTRAST, STANDARD
from kiosk.viewmodels.attract import AttractViewModel

KV_DIR = Path(__file__).parent / "kv"


class AttractScreen(Screen):
    station_name = StringProperty("")
    headline = StringProperty("")
    message = StringProperty("")
    status_line = StringProperty("")
    link = StringProperty("connecting")
    link_text = StringProperty("")
    start_label = StringProperty("")
    can_start = BooleanProperty(False)

    def __init__(self, vm: AttractViewModel, **kwargs: Any) -> None:
        super().__init__(name="attract", **kwargs)
        self.vm = vm
        vm.subscribe(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        vm = self.vm
        self.station_name = vm.station_name
        self.headline, self.message, self.status_line = vm.headline, vm.message, vm.status_line
        self.link, self.can_start = vm.link.value, vm.can_start
        self.link_text = {
            "ready": _("Station connected"), "degraded": _("Station connected"),
            "connecting": _("Connecting…"), "unavailable": _("Station not reachable"),
        }[vm.link.value]
        self.start_label = _("Start")

    def start(self) -> None:
        """Patron identification arrives with the kiosk workflows."""


class KioskApp(App):
    theme = ObjectProperty(STANDARD)

    def __init__(self, profile: Profile, station_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        self.station_url = station_url
        self.title = "Bronco Station"
        self.theme = HIGH_CONTRAST if profile.kiosk.high_contrast else STANDARD
        self.attract = AttractViewModel(profile.station.name or profile.station.id)
        self.link = StationLink(station_url, self._health_from_thread)
        self.first_health = False
        self.manager: ScreenManager | None = None

    def _health_from_thread(self, health: dict[str, Any] | None) -> None:
        # The link polls on its own thread; view-models change on Kivy's main thread only.
        Clock.schedule_once(lambda _dt: self._apply_health(health))

    def _apply_health(self, health: dict[str, Any] | None) -> None:
        self.first_health = True
        self.attract.on_health(health)

    def build(self) -> ScreenManager:
        Builder.load_file(str(KV_DIR / "attract.kv"))
        self.manager = ScreenManager(transition=FadeTransition(duration=0.15))
        self.manager.add_widget(AttractScreen(self.attract))
        return self.manager

    def screen_names(self) -> list[str]:
        return list(self.manager.screen_names) if self.manager else []

    def on_start(self) -> None:
        self.link.start()

    def on_stop(self) -> None:
        self.link.stop()
