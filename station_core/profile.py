"""Hardware profiles: one TOML file describes one station and every device it owns.

Profiles are validated strictly (unknown keys are errors) so a typo on a Pi at 3 a.m. is caught by
`bronco profile check` instead of by a door that never opens. Secrets never live in a profile: the
ILS password comes from an environment variable or a separate secrets file.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from station_core.calendar import WEEKDAYS, DatedHours, OpeningHours, parse_day_hours
from station_core.contrast import NON_TEXT, TEXT_AA, parse_hex, ratio
from station_core.registry import (
    CARD_READERS,
    LOCK_BOARDS,
    RFID_READERS,
    SORTERS,
    default_lock_count,
)
from station_core.returns_profile import ReturnsSettings

# Solenoids are intermittent duty: no profile may ask for a longer pulse than this.
HARD_MAX_PULSE_MS = 1000

Identifier = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
KeyName = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[a-z0-9_]+$")]
HexColour = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
WHITE = parse_hex("#FFFFFF")
NEAR_BLACK = parse_hex("#1A1A1A")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StationSettings(Strict):
    id: Identifier
    name: str = ""
    institution_id: str = Field(min_length=1, description="SIP2 AO institution id")
    location_code: str = Field(min_length=1, description="SIP2 location (AP/CP) of this station")
    secrets_file: Path | None = Field(
        default=None, description="TOML file with secrets, e.g. [ils] password = '...'"
    )
    locale: str = Field(default="en_US", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$",
                        description="how the staff console and reports write dates and numbers "
                                    "(times are in the Pi's own time zone: timedatectl)")


def plain_http_refused(url: str | None, allowed: bool, what: str) -> None:
    """A URL that carries a credential or a command must be HTTPS: on plain HTTP anyone on the
    path reads the credential, or sends the station commands. Loopback never leaves the machine;
    a lab may say `allow_insecure_http = true`."""
    if not url or not url.lower().startswith("http://") or allowed:
        return
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or _is_loopback(host):
        return
    raise ValueError(f"{what} must be https:// (it carries a credential or commands); for a lab "
                     "only, set allow_insecure_http = true in this section")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class IlsSettings(Strict):
    driver: Literal["sip2"] = "sip2"
    host: str = "127.0.0.1"
    port: int = Field(default=6001, ge=1, le=65535)
    tls: bool = False
    tls_verify: bool = True
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    dialect: Literal["generic", "alma", "koha", "evergreen", "folio", "sierra", "polaris"] = Field(
        default="generic", description="how this ILS speaks SIP2 (ils/dialects.py, docs/ils.md)")
    encoding: Literal["cp850", "utf-8", "ascii"] | None = Field(
        default=None, description="default: the dialect's (Alma, Koha utf-8; Evergreen ascii; "
                                  "FOLIO and others cp850)")
    error_detection: bool | None = Field(
        default=None, description="AY/AZ checksums; default: the dialect's (FOLIO: off)")
    terminator: Literal["cr", "crlf"] = Field(
        default="cr", description="what ends each message we send (some servers want CR LF)")
    lenient: bool = True
    alma_webhook_secret_env: str = Field(
        default="", pattern=r"^([A-Z_][A-Z0-9_]*)?$",
        description="environment variable holding the Alma webhook secret; empty: no receiver")
    locker_pickup_location: str = Field(
        default="", max_length=64,
        description="the ILS's code for the lockers' pickup location (holds for elsewhere are "
                    "not the lockers' business): Koha's branch code; for Alma the library's code, "
                    "or LIBRARY/DESK when the lockers are a circulation desk in a library; "
                    "empty: every hold-shelf event")
    koha_rest_url: str = Field(
        default="", pattern=r"^(https?://\S+)?$",
        description="Koha's REST API base (https://koha.example.edu/api/v1): its holds are polled "
                    "for the lockers' to-load list; empty: not polled")
    koha_rest_user: str = Field(default="", max_length=64,
                                description="the Koha staff account the poller signs in as "
                                            "(Basic auth; needs circulate permission)")
    koha_rest_password_env: str = Field(default="BRONCO_KOHA_PASSWORD",
                                        pattern=r"^[A-Z_][A-Z0-9_]*$")
    koha_poll_s: float = Field(default=120.0, ge=10.0, le=3600.0,
                               description="seconds between two polls of Koha's holds")
    allow_insecure_http: bool = Field(
        default=False, description="lab only: let koha_rest_url be plain http:// beyond loopback")
    login_user: str = ""
    password_env: str = Field(
        default="BRONCO_ILS_PASSWORD", pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="environment variable holding the SIP2 login password",
    )
    login_location: str = ""
    pool_size: int = Field(default=1, ge=1, le=16)
    timeout_s: float = Field(default=5.0, gt=0, le=120)
    retries: int = Field(default=2, ge=0, le=10)

    @model_validator(mode="after")
    def _koha_needs_a_pickup_library(self) -> IlsSettings:
        if self.koha_rest_url and not self.locker_pickup_location:
            raise ValueError("koha_rest_url needs locker_pickup_location (the lockers' pickup "
                             "library code in Koha): the poller asks for that library's holds")
        plain_http_refused(self.koha_rest_url, self.allow_insecure_http, "ils.koha_rest_url")
        return self


class RfidReaderSettings(Strict):
    id: Identifier
    driver: str = Field(min_length=1)
    url: str = Field(default="", description="pyserial URL for serial readers")
    host: str = Field(default="", description="host name for network (LLRP) readers")
    port: int | None = Field(default=None, ge=1, le=65535)
    role: Literal["checkout", "return", "both", "locker", "programming", "book_drop"] = Field(
        default="both", description="'programming': technical services' pad for writing tags; "
                                    "'book_drop': the reader at a return slot ([returns])")
    tag_scheme: Literal["hf-auto", "28560-3", "28560-2", "28560-4", "gs1"] = Field(
        default="hf-auto", description="library data model on this site's tags")
    poll_ms: int = Field(default=200, ge=50, le=2000, description="inventory period")
    options: dict[str, Any] = Field(default_factory=dict, description="driver settings")

    @model_validator(mode="after")
    def _afi_needs_an_iso_uii(self) -> RfidReaderSettings:
        if self.options.get("security") == "pc-afi" and self.tag_scheme == "gs1":
            raise ValueError("security 'pc-afi' keeps the AFI in the PC word of an ISO 28560-4 "
                             "tag; a GS1 EPC has none: use 'user-word' or 'none'")
        if "access_password" in self.options:
            raise ValueError("a tag access password is a secret: name the environment variable "
                             "that holds it (options.access_password_env, set in station.env), "
                             "not the password itself")
        return self


class LockBoardSettings(Strict):
    id: Identifier
    driver: str = Field(min_length=1)
    url: str = Field(default="", description="pyserial URL, e.g. /dev/serial/by-id/... or socket://")
    address: int = Field(default=0, ge=0, le=255)
    locks: int | None = Field(default=None, ge=1, le=48, description="defaults to the driver's")
    sensors: Literal["doors", "none"] = Field(
        default="doors", description="'none': no door switch is wired to this board; opens of "
                                     "its doors are reported as not confirmed")
    options: dict[str, Any] = Field(default_factory=dict)


class DoorSettings(Strict):
    id: Identifier
    board: Identifier
    lock: int = Field(ge=1, le=48, description="lock number on the board, from 1")
    size: Literal["small", "medium", "large"]
    accessible: bool = False
    sensor: Literal["board", "none"] = Field(
        default="board", description="'board': the board reports this door's state"
    )
    sensor_input: int | None = Field(
        default=None, ge=1, le=48, description="board input wired to the door switch, if not the lock's"
    )
    charging: bool = Field(default=False, description="holds a lent tech device on a charger")
    device_type: str = Field(default="device", max_length=32,
                             description="what a charging door lends (laptop, tablet, hotspot): "
                                         "tech-lending statistics are kept per type")
    row: int | None = Field(default=None, ge=1, le=20,
                            description="where the door is in the bank, counted from the top")
    column: int | None = Field(default=None, ge=1, le=40,
                               description="where the door is in the bank, counted from the left")


class UidRule(Strict):
    """How a card UID becomes a patron barcode."""

    format: Literal["hex", "decimal"] = "hex"
    byte_order: Literal["as_read", "reversed"] = "as_read"
    prefix: str = ""
    pad_to: int = Field(default=0, ge=0, le=32)


class CardReaderSettings(Strict):
    id: Identifier
    driver: str = Field(min_length=1)
    reader_name: str = Field(default="", description="substring of the PC/SC reader name")
    apdu: str = Field(default="FFCA000000", pattern=r"^([0-9A-Fa-f]{2})+$")
    uid_rule: UidRule = Field(default_factory=UidRule)
    options: dict[str, Any] = Field(default_factory=dict)


class KeypadKeys(Strict):
    """The keys a USB kiosk keypad (EZ Access style) sends, by Kivy key name ('up', 'f1', ...)."""

    up: KeyName = "up"
    down: KeyName = "down"
    select: KeyName = "enter"
    back: KeyName = "escape"
    help: KeyName = "f1"
    volume_down: KeyName = "f2"
    volume_up: KeyName = "f3"
    repeat: KeyName = "f4"

    @model_validator(mode="after")
    def _distinct(self) -> KeypadKeys:
        names = list(self.model_dump().values())
        if len(set(names)) != len(names):
            raise ValueError("each keypad function needs its own key")
        return self


class Branding(Strict):
    """The library's look on the kiosk: refused at load when its colours fail WCAG contrast."""

    logo: Path | None = Field(default=None, description="a PNG shown on the attract screen")
    primary: HexColour = Field(description="screen background; white text is drawn on it")
    secondary: HexColour = Field(description="buttons; near-black text is drawn on them")

    @model_validator(mode="after")
    def _contrast(self) -> Branding:
        problems = []
        on_primary = ratio(parse_hex(self.primary), WHITE)
        on_secondary = ratio(parse_hex(self.secondary), NEAR_BLACK)
        between = ratio(parse_hex(self.primary), parse_hex(self.secondary))
        if on_primary < TEXT_AA:
            problems.append(f"white text on primary {self.primary} is {on_primary:.2f}:1")
        if on_secondary < TEXT_AA:
            problems.append(f"dark text on secondary {self.secondary} is {on_secondary:.2f}:1")
        if between < NON_TEXT:
            problems.append(f"buttons ({self.secondary}) against the background are {between:.2f}:1")
        if problems:
            raise ValueError("branding fails WCAG contrast (text needs 4.5:1, buttons 3:1): "
                             + "; ".join(problems))
        return self


class KioskSettings(Strict):
    languages: list[Literal["en", "es"]] = Field(default_factory=lambda: ["en", "es"], min_length=1)
    default_language: Literal["en", "es"] = "en"
    idle_timeout_s: int = Field(default=60, ge=10, le=900)
    warning_s: int = Field(default=20, ge=20, le=120,
                           description="the timeout warning comes this long before the end "
                                       "(WCAG 2.2.1: at least 20 s)")
    mode: Literal["self_check", "lockers", "returns"] = Field(
        default="self_check", description="'lockers': the kiosk at a locker bank opens on pickup; "
                                          "'returns': the screen at a return slot ([returns])")
    speech: Literal["on_request", "always"] = Field(
        default="on_request", description="speech starts with headphones or the help key, or always")
    voices: dict[Literal["en", "es"], Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]] = Field(
        default_factory=lambda: {"en": "en-us", "es": "es-419"},
        description="espeak-ng voice per language")
    headphone_card: str = Field(
        default="", pattern=r"^[A-Za-z0-9_-]*$",
        description="ALSA card whose 'Headphone Jack' control reports headphones (empty: default)")
    keypad: KeypadKeys = Field(default_factory=KeypadKeys)
    text_scale: Literal[1, 1.5, 2] = 1
    branding: Branding | None = None
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217, for fines")
    fullscreen: bool = True
    high_contrast: bool = False
    sound: bool = False
    rfid_reader: str = Field(default="", description="id of the reader under this kiosk's pad")
    card_reader: str = ""
    require_pin: bool = Field(default=True, description="the station refuses a sign-in without a PIN")
    id: str = Field(
        default="", max_length=32, pattern=r"^[A-Za-z0-9_.-]*$",
        description="the enrolled id of the kiosk at this station's card reader: its card taps "
                    "are for that kiosk only (empty: any enrolled or trusted kiosk)")
    trust_loopback: bool = Field(
        default=False, description="a one-box install: a kiosk on this machine needs no enrolment "
                                   "(PINs, taps and limits are enforced all the same)")
    credential_file: Path | None = Field(
        default=None, description="where the kiosk app keeps the credential it got at enrolment")
    pin_attempts: int = Field(default=5, ge=3, le=20, description="wrong PINs before a card locks")
    pin_lock_minutes: int = Field(default=15, ge=1, le=1440)
    pin_kiosk_free_failures: int = Field(
        default=10, ge=3, le=100,
        description="wrong PINs (or unknown cards) at one kiosk in an hour, across every card, "
                    "before that kiosk must wait between tries (PIN spraying)")
    pin_kiosk_max_wait_s: int = Field(default=60, ge=5, le=3600,
                                      description="the longest wait between sign-ins at one kiosk")
    pin_alert_failures_per_hour: int = Field(
        default=20, ge=1, description="wrong PINs across the station in an hour that alert staff")
    staff_cards: list[Annotated[str, Field(pattern=r"^([0-9A-Fa-f]{2}){4,10}$")]] = Field(
        default_factory=list, description="UIDs (hex) of staff cards that open the maintenance screen")
    printer: str = Field(default="", description="receipt printer: a file or device path (ESC/POS)")
    receipt_footer: str = "Thank you for using self-service."

    @model_validator(mode="after")
    def _warning_fits(self) -> KioskSettings:
        if self.idle_timeout_s <= self.warning_s:
            raise ValueError("idle_timeout_s must be longer than warning_s")
        return self


class OfflineLoanRule(Strict):
    """Offline loan period for items whose barcode matches (the ILS's rule is not reachable)."""

    barcode_pattern: str
    minutes: int = Field(ge=1)

    @field_validator("barcode_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return _regex(value)


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


class OfflineSettings(Strict):
    enabled: bool = True
    patron_policy: Literal["cache", "accept_wellformed", "refuse"] = "cache"
    barcode_pattern: str = r"^[0-9A-Za-z]{5,20}$"
    max_checkouts_per_session: int = Field(default=5, ge=0, le=100)
    max_checkouts_per_station: int = Field(default=200, ge=0, le=100_000)
    patron_cache_ttl_hours: int = Field(default=72, ge=0, le=24 * 90)
    loan_minutes: int = Field(default=14 * 24 * 60, ge=1, description="default offline loan period")
    loan_rules: list[OfflineLoanRule] = Field(default_factory=list, description="first match wins")
    ping_interval_s: float = Field(default=0.5, gt=0, le=10, description="ILS health ping period")
    ping_timeout_s: float = Field(default=1.0, gt=0, le=10)

    @field_validator("barcode_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return _regex(value)

    def loan_minutes_for(self, item_id: str) -> int:
        rule = next((r for r in self.loan_rules if re.search(r.barcode_pattern, item_id)), None)
        return rule.minutes if rule else self.loan_minutes


class LockerSettings(Strict):
    pulse_ms: int = Field(default=200, ge=50, le=HARD_MAX_PULSE_MS)
    gap_ms: int = Field(default=75, ge=20, le=1000)
    confirm_timeout_s: float = Field(default=2.0, gt=0, le=10)
    open_retries: int = Field(default=2, ge=0, le=5)
    left_open_alarm_s: int = Field(default=120, ge=10)
    poll_interval_ms: int = Field(default=300, ge=250, le=500)
    checkout_at: Literal["pickup", "load"] = "pickup"
    hold_days: int = Field(default=3, ge=1, le=30)
    reminder_hours: int = Field(default=48, ge=1)
    device_pattern: str = Field(
        default="", description="regex of the barcodes of devices lent from charging doors; a "
                                "return of anything else is refused at the bank")
    pickup_code_digits: int = Field(
        default=10, ge=8, le=12, description="long enough that guessing within a hold's life is "
                                              "negligible (docs/security.md has the arithmetic)")
    code_free_failures: int = Field(default=3, ge=1, le=20,
                                    description="wrong codes at a kiosk before it must wait")
    code_max_wait_s: int = Field(default=60, ge=5, le=3600,
                                 description="the longest wait between codes at one kiosk")
    code_alert_failures_per_hour: int = Field(
        default=20, ge=1, description="wrong codes across the bank in an hour that alert staff")

    @field_validator("device_pattern")
    @classmethod
    def _device_pattern_compiles(cls, value: str) -> str:
        return _regex(value) if value else value


class PrivacySettings(Strict):
    retention_days: int = Field(
        default=0, ge=0, le=365,
        description="days a synced transaction keeps patron and item ids before it becomes a count",
    )
    audit_days: int = Field(default=365, ge=30, le=3650,
                            description="days the audit log keeps an entry")


class StaffSettings(Strict):
    session_minutes: int = Field(default=480, ge=5, le=24 * 60)
    idle_minutes: int = Field(default=15, ge=1, le=24 * 60,
                              description="a console session ends after this long without use")
    login_max_failures: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)


class NoticeSettings(Strict):
    """Patron notices by email (locker assigned, reminder, expired, receipt)."""

    enabled: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    username: str = ""
    password_env: str = Field(default="BRONCO_SMTP_PASSWORD", pattern=r"^[A-Z_][A-Z0-9_]*$")
    sender: str = "library@example.edu"
    language: Literal["en", "es"] = "en"
    library_name: str = "The Library"
    pickup_place: str = "the Bronco Lockers"


class Term(Strict):
    name: str = Field(min_length=1, max_length=40)
    start: date
    end: date


class CalendarException(Strict):
    """A holiday, closure, intersession or short day: `hours` on the days from `start` to `end`
    (on `weekdays` only, when given)."""

    name: str = Field(min_length=1, max_length=60)
    start: date
    end: date | None = Field(default=None, description="the last day (included); none: one day")
    hours: str = Field(default="closed", description="'closed' or 'HH:MM-HH:MM'")
    weekdays: list[Literal[WEEKDAYS]] = Field(  # type: ignore[valid-type]
        default_factory=list, description="only these weekdays in the range; none: every day")

    @field_validator("hours")
    @classmethod
    def _hours_read(cls, value: str) -> str:
        parse_day_hours(value)
        return value

    @model_validator(mode="after")
    def _in_order(self) -> CalendarException:
        self.dated()
        return self

    def dated(self) -> DatedHours:
        return DatedHours(self.name, self.start, self.end or self.start, parse_day_hours(self.hours),
                          frozenset(WEEKDAYS.index(d) for d in self.weekdays))


class CalendarSettings(Strict):
    """Weekly hours (weekday -> 'HH:MM-HH:MM' or 'closed'; no weekday at all = always open), dated
    exceptions, and optionally the library's published iCalendar of closures (docs/calendar.md)."""

    monday: str | None = None
    tuesday: str | None = None
    wednesday: str | None = None
    thursday: str | None = None
    friday: str | None = None
    saturday: str | None = None
    sunday: str | None = None
    exceptions: list[CalendarException] = Field(default_factory=list, max_length=500)
    ical_file: Path | None = Field(
        default=None, description="an iCalendar file of closures and short days on this machine")
    ical_url: str | None = Field(
        default=None, pattern=r"^https?://\S+$",
        description="where the library publishes its iCalendar; fetched and kept for offline use")
    ical_refresh_hours: int = Field(default=6, ge=1, le=168)
    allow_insecure_http: bool = Field(
        default=False, description="lab only: let ical_url be plain http:// beyond loopback")

    @model_validator(mode="after")
    def _one_ical(self) -> CalendarSettings:
        # Closures change due dates and hold expiry: a forged calendar is no small thing.
        plain_http_refused(self.ical_url, self.allow_insecure_http, "calendar.ical_url")
        if self.ical_file and self.ical_url:
            raise ValueError("give ical_file or ical_url, not both")
        self.opening_hours()
        return self

    def week(self) -> dict[str, str]:
        return {day: getattr(self, day) for day in WEEKDAYS if getattr(self, day) is not None}

    def opening_hours(self, published: list[DatedHours] | None = None) -> OpeningHours:
        """The weekly hours with the published calendar's exceptions, then the profile's own (which
        win a tie)."""
        return OpeningHours(self.week(), [*(published or []), *(e.dated() for e in self.exceptions)])


class TaggingSettings(Strict):
    """What technical services write on new tags (docs/rfid.md)."""

    owner_library: str = Field(default="", max_length=16,
                               description="the library's ISIL (e.g. US-CPP), written on every tag")
    country: str = Field(default="", pattern=r"^([A-Z]{2})?$",
                         description="ISO 3166 alpha-2 of the owner library")
    secure: bool = Field(default=True, description="arm the security marker ('on shelf')")
    gs1_company_prefix: str = Field(
        default="", pattern=r"^(\d{6,12})?$",
        description="GS1 company prefix for sites whose UHF tags carry a GIAI-96 (tag_scheme gs1)")
    gs1_item_reference: str = Field(
        default="", pattern=r"^(\d{1,7})?$",
        description="with it, GS1 tags are written as SGTIN-96 instead: the indicator digit and "
                    "item reference of the library's product class (13 digits with the company "
                    "prefix), the item barcode as the serial")
    parts_field: str = Field(
        default="", pattern=r"^([A-Z][A-Z0-9])?$",
        description="the SIP2 field of the Item Information Response in which this ILS sends an "
                    "item's number of pieces (a local extension); empty: staff enter the count")
    lock_blocks: list[int] = Field(
        default_factory=list, max_length=64,
        description="HF user-memory blocks to lock once a tag is verified (ISO 15693 Lock Block; "
                    "permanent). Empty: nothing is locked. The AFI is never locked: it is the "
                    "security marker. On UHF (Gen2 locks whole banks) any block locks the EPC "
                    "bank with the access password in the station's secrets")

    @model_validator(mode="after")
    def _sgtin_class(self) -> TaggingSettings:
        if self.gs1_item_reference and \
                len(self.gs1_company_prefix) + len(self.gs1_item_reference) != 13:
            raise ValueError("gs1_company_prefix and gs1_item_reference together are 13 digits "
                             "(the GTIN without its check digit)")
        return self

    @field_validator("lock_blocks")
    @classmethod
    def _blocks(cls, value: list[int]) -> list[int]:
        if any(not 0 <= b <= 255 for b in value):
            raise ValueError("blocks are numbered 0..255")
        return sorted(set(value))


class HubLinkSettings(Strict):
    """The fleet hub this station reports to (docs/hub.md); empty url: none. The station never
    waits for the hub: its events queue in its own database until the hub takes them."""

    url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    push_interval_s: float = Field(default=2.0, ge=0.2, le=300)
    command_poll_s: float = Field(default=3.0, ge=0.5, le=300)
    status_interval_s: float = Field(default=60.0, ge=1, le=3600,
                                     description="how often the station's status goes to the hub")
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    allow_insecure_http: bool = Field(
        default=False, description="lab only: let url be plain http:// beyond loopback")
    recovery_key: str = Field(
        default="", pattern=r"^([A-Za-z0-9+/]{43}=)?$",
        description="the library's recovery public key (bronco recovery keygen): with it the "
                    "station keeps a sealed copy of its state at the hub, for a new SD card")
    copy_min_interval_s: float = Field(
        default=60.0, ge=1, le=3600,
        description="the soonest a changed locker or queue is copied to the hub again")
    copy_interval_s: float = Field(default=3600.0, ge=60, le=86400,
                                   description="how often the state is copied when nothing changed")
    release_keys: Path = Field(default=Path("/etc/bronco/release-keys"),
                               description="public keys of release bundles this station installs")

    @model_validator(mode="after")
    def _https(self) -> HubLinkSettings:
        plain_http_refused(self.url, self.allow_insecure_http, "hub.url")
        return self


class StatisticsSettings(Strict):
    terms: list[Term] = Field(default_factory=list, description="academic terms for the reports")
    monthly_recipients: list[str] = Field(
        default_factory=list, max_length=20,
        description="who gets the monthly report (PDF and CSV) by email; empty: none is sent")
    monthly_day: int = Field(default=1, ge=1, le=28,
                             description="the day of the month the last month's report goes out")
    monthly_hour: int = Field(default=7, ge=0, le=23, description="and the hour (local time)")

    @field_validator("monthly_recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
                raise ValueError(f"{address!r} is not an email address")
        return value


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    database_url: str = "sqlite:///bronco-station.db"
    event_loop: Literal["asyncio", "uvloop"] = Field(
        default="asyncio", description="uvloop is faster under heavy load and costs about 2 MB "
                                       "of memory; a station serves a few kiosks")
    key_file: Path | None = Field(
        default=None, description="the station's secret key (0600), kept apart from the database; "
                                  "default: beside a SQLite database, as <database>.key")
    simulators: bool = Field(
        default=False, description="serve /sim to drive simulated devices (demo and tests only)")
    tls_cert: Path | None = Field(
        default=None, description="PEM certificate for HTTPS; a station listening beyond loopback "
                                  "without one makes its own, which kiosks pin at enrolment")
    tls_key: Path | None = None
    trusted_proxies: list[str] = Field(
        default_factory=list, description="addresses of reverse proxies whose X-Forwarded-For "
                                          "is believed; nobody else's is")
    max_connections_per_address: int = Field(
        default=128, ge=8, le=10_000,
        description="open connections one address (an IPv6 /64) may hold; more are closed at once")
    max_connections: int = Field(default=1000, ge=50, le=60_000,
                                 description="requests in progress at once; beyond, 503")
    header_timeout_s: float = Field(default=10.0, ge=1, le=120,
                                    description="a connection that has not sent a whole request "
                                                "by then is closed (half-open floods)")
    max_body_bytes: int = Field(default=1_048_576, ge=16_384, le=1_073_741_824,
                                description="the largest request body the station reads")


class Profile(Strict):
    station: StationSettings
    ils: IlsSettings = Field(default_factory=IlsSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    rfid_readers: list[RfidReaderSettings] = Field(default_factory=list)
    lock_boards: list[LockBoardSettings] = Field(default_factory=list)
    doors: list[DoorSettings] = Field(default_factory=list)
    card_readers: list[CardReaderSettings] = Field(default_factory=list)
    kiosk: KioskSettings = Field(default_factory=KioskSettings)
    offline: OfflineSettings = Field(default_factory=OfflineSettings)
    lockers: LockerSettings = Field(default_factory=LockerSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    staff: StaffSettings = Field(default_factory=StaffSettings)
    notices: NoticeSettings = Field(default_factory=NoticeSettings)
    statistics: StatisticsSettings = Field(default_factory=StatisticsSettings)
    tagging: TaggingSettings = Field(default_factory=TaggingSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    hub: HubLinkSettings = Field(default_factory=HubLinkSettings)
    returns: ReturnsSettings = Field(default_factory=ReturnsSettings)

    def board(self, board_id: str) -> LockBoardSettings:
        return next(b for b in self.lock_boards if b.id == board_id)

    def ils_password(self) -> str:
        """The SIP2 password: environment variable first, then the secrets file, else empty."""
        from_env = os.environ.get(self.ils.password_env)
        if from_env is not None:
            return from_env
        if self.station.secrets_file and self.station.secrets_file.is_file():
            with self.station.secrets_file.open("rb") as fh:
                secrets = tomllib.load(fh)
            return str(secrets.get("ils", {}).get("password", ""))
        return ""


@dataclass(frozen=True)
class ProfileIssue:
    """One problem in a profile: where (a field path like `doors[3].board`) and why."""

    path: str
    reason: str


class ProfileError(Exception):
    def __init__(self, source: str, issues: list[ProfileIssue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__("\n".join(f"{source}: {i.path}: {i.reason}" for i in issues))


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(profile)"


def _known_driver_issues(profile: Profile) -> list[ProfileIssue]:
    """Profile issues for driver names no registry knows (checked without importing anything)."""
    issues = []
    for section, registry, items in (
        ("rfid_readers", RFID_READERS, profile.rfid_readers),
        ("lock_boards", LOCK_BOARDS, profile.lock_boards),
        ("card_readers", CARD_READERS, profile.card_readers),
    ):
        for index, item in enumerate(items):
            if item.driver not in registry.specs:
                issues.append(ProfileIssue(
                    f"{section}[{index}].driver",
                    f"unknown driver '{item.driver}' (known: {', '.join(registry.names())})",
                ))
    sorter = profile.returns.sorter
    if profile.returns.bins and sorter.driver not in SORTERS.specs:
        issues.append(ProfileIssue("returns.sorter.driver", f"unknown driver '{sorter.driver}' "
                                   f"(known: {', '.join(SORTERS.names())})"))
    return issues


def _board_issues(index: int, board: LockBoardSettings) -> list[ProfileIssue]:
    spec = LOCK_BOARDS.specs.get(board.driver)
    if spec is None:
        return []  # reported by _known_driver_issues
    locks = lock_count(board)
    if spec.door_inputs(locks) is None:
        allowed = ", ".join(str(n) for n, _ in spec.models) or f"1 to {spec.locks}"
        return [ProfileIssue(f"lock_boards[{index}].locks",
                             f"{locks} locks: this driver drives boards of {allowed} locks "
                             f"({spec.models_note or board.driver})")]
    return []


def _sensor_issue(index: int, door: DoorSettings, board: LockBoardSettings) -> ProfileIssue | None:
    """A door whose switch the board cannot read must say so (sensor = "none")."""
    if not door_has_sensor(door, board):
        return None
    spec = LOCK_BOARDS.specs.get(board.driver)
    inputs = spec.door_inputs(lock_count(board)) if spec else None
    wired = door.sensor_input or door.lock
    if inputs is None or wired <= inputs:
        return None
    reads = "no door inputs" if inputs == 0 else f"door inputs 1 to {inputs} only"
    return ProfileIssue(
        f"doors[{index}].sensor",
        f"board '{board.id}' ({board.driver}, {lock_count(board)} locks) reads {reads}, not input "
        f"{wired}: wire the switch to an input it has (sensor_input), or set sensor = \"none\" "
        f"(opens of this door are then reported as not confirmed)")


def lock_count(board: LockBoardSettings) -> int:
    return board.locks or default_lock_count(board.driver)


def door_has_sensor(door: DoorSettings, board: LockBoardSettings) -> bool:
    """Whether the station reads this door's switch from its board."""
    return door.sensor == "board" and board.sensors == "doors"


def _cross_check(profile: Profile) -> list[ProfileIssue]:
    """Checks that span several sections: references between devices and unique ids."""
    issues: list[ProfileIssue] = []
    for section, items in (
        ("rfid_readers", profile.rfid_readers),
        ("lock_boards", profile.lock_boards),
        ("doors", profile.doors),
        ("card_readers", profile.card_readers),
    ):
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.id in seen:
                issues.append(ProfileIssue(f"{section}[{index}].id", f"duplicate id '{item.id}'"))
            seen.add(item.id)
    for index, board in enumerate(profile.lock_boards):
        issues.extend(_board_issues(index, board))
    boards = {b.id: b for b in profile.lock_boards}
    used_locks: dict[tuple[str, int], str] = {}
    for index, door in enumerate(profile.doors):
        board = boards.get(door.board)
        if board is None:
            known = ", ".join(sorted(boards)) or "none defined"
            issues.append(
                ProfileIssue(f"doors[{index}].board", f"no lock board '{door.board}' (boards: {known})")
            )
            continue
        locks = lock_count(board)
        if door.lock > locks:
            issues.append(
                ProfileIssue(f"doors[{index}].lock", f"board '{board.id}' has only {locks} locks")
            )
        elif (sensor_issue := _sensor_issue(index, door, board)) is not None:
            issues.append(sensor_issue)
        key = (door.board, door.lock)
        if key in used_locks:
            issues.append(
                ProfileIssue(f"doors[{index}].lock", f"lock {door.lock} of board '{door.board}' "
                             f"is already door '{used_locks[key]}'")
            )
        used_locks[key] = door.id
    if profile.doors and not any(d.accessible for d in profile.doors):
        issues.append(ProfileIssue("doors", "a bank needs at least one accessible door (ADA)"))
    reader_ids = {r.id for r in profile.rfid_readers}
    if profile.kiosk.rfid_reader and profile.kiosk.rfid_reader not in reader_ids:
        issues.append(ProfileIssue("kiosk.rfid_reader", f"no RFID reader '{profile.kiosk.rfid_reader}'"))
    card_ids = {c.id for c in profile.card_readers}
    if profile.kiosk.card_reader and profile.kiosk.card_reader not in card_ids:
        issues.append(ProfileIssue("kiosk.card_reader", f"no card reader '{profile.kiosk.card_reader}'"))
    devices = [*profile.rfid_readers, *profile.lock_boards, *profile.card_readers]
    real = sorted(d.id for d in devices if d.driver != "simulated")
    if profile.server.simulators and real:
        issues.append(ProfileIssue("server.simulators", "the /sim controls drive simulated devices "
                                   f"only; this profile has real ones ({', '.join(real)})"))
    issues.extend(_bank_map_issues(profile))
    if profile.kiosk.default_language not in profile.kiosk.languages:
        issues.append(ProfileIssue("kiosk.default_language", "must be one of kiosk.languages"))
    return issues


def _bank_map_issues(profile: Profile) -> list[ProfileIssue]:
    """Door positions: all or none, one door per cell; a locker-bank kiosk draws them."""
    placed = [d for d in profile.doors if d.row is not None and d.column is not None]
    issues = []
    for index, door in enumerate(profile.doors):
        if (door.row is None) != (door.column is None):
            issues.append(ProfileIssue(f"doors[{index}]", "give both row and column, or neither"))
    if placed and len(placed) != len(profile.doors):
        issues.append(ProfileIssue("doors", "give every door a row and column, or none"))
    if profile.kiosk.mode == "lockers" and profile.doors and not placed:
        issues.append(ProfileIssue("kiosk.mode", "a locker-bank kiosk draws the bank: give every "
                                   "door its row and column"))
    cells: dict[tuple[int, int], str] = {}
    for index, door in enumerate(profile.doors):
        if door.row is None or door.column is None:
            continue
        cell = (door.row, door.column)
        if cell in cells:
            issues.append(ProfileIssue(f"doors[{index}]", f"row {door.row}, column {door.column} "
                                       f"is already door '{cells[cell]}'"))
        cells[cell] = door.id
    return issues


def profile_warnings(profile: Profile) -> list[ProfileIssue]:
    """What a valid profile should still fix: ADA 225.2.1 wants at least 5 % of each kind of
    locker, and no fewer than one, accessible (mounted within reach)."""
    warnings = []
    for size in ("small", "medium", "large"):
        doors = [d for d in profile.doors if d.size == size]
        if not doors:
            continue
        accessible = sum(d.accessible for d in doors)
        wanted = max(1, math.ceil(0.05 * len(doors)))
        if accessible < wanted:
            warnings.append(ProfileIssue(
                "doors", f"{accessible} of {len(doors)} {size} doors are accessible; ADA 225.2.1 "
                         f"asks for at least {wanted} (5 %, and no fewer than one of each size)"))
    return warnings


def parse_profile(data: dict[str, Any], source: str = "<profile>") -> Profile:
    """Validate a profile already read from TOML; raises ProfileError listing every problem."""
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        issues = [
            ProfileIssue(_field_path(tuple(err["loc"])), err["msg"])
            for err in exc.errors(include_url=False)
        ]
        raise ProfileError(source, issues) from None
    issues = _known_driver_issues(profile) + _cross_check(profile)
    if issues:
        raise ProfileError(source, issues)
    return profile


def load_profile(path: str | Path) -> Profile:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ProfileError(str(path), [ProfileIssue("(file)", "no such file")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(path), [ProfileIssue("(file)", f"not valid TOML: {exc}")]) from None
    profile = parse_profile(data, str(path))
    ical = profile.calendar.ical_file
    if ical is not None and not ical.is_absolute():  # beside the profile, wherever it is run from
        calendar = profile.calendar.model_copy(update={"ical_file": path.parent.absolute() / ical})
        profile = profile.model_copy(update={"calendar": calendar})
    return profile
