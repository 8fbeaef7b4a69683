"""The kiosk's screens: thin Kivy views that draw their view-model and forward taps to it. Each
screen also says what it is for (speech), where Back goes, and which controls the keypad reaches.
One module per screen, named as its view-model in kiosk/viewmodels/."""

from kiosk.screens.account import AccountScreen
from kiosk.screens.attract import AttractScreen
from kiosk.screens.base import Blank, KioskScreen
from kiosk.screens.goodbye import GoodbyeScreen
from kiosk.screens.identify import IdentifyScreen
from kiosk.screens.menu import MenuScreen
from kiosk.screens.pad import PadScreen
from kiosk.screens.pickup import PickupScreen
from kiosk.screens.receipt import ReceiptScreen
from kiosk.screens.returns import ReturnsScreen
from kiosk.screens.staff import StaffScreen
from kiosk.screens.tech_return import TechReturnScreen

__all__ = [
    "AccountScreen",
    "AttractScreen",
    "Blank",
    "GoodbyeScreen",
    "IdentifyScreen",
    "KioskScreen",
    "MenuScreen",
    "PadScreen",
    "PickupScreen",
    "ReceiptScreen",
    "ReturnsScreen",
    "StaffScreen",
    "TechReturnScreen",
]
