"""The answers `bronco setup` asks for, the same whether typed at its prompts or given in a file
(`bronco setup --answers FILE.toml`, for a library installing twenty Pis)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from station_core.profile import IlsSettings

Size = Literal["small", "medium", "large"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LibraryAnswers(Strict):
    name: str = Field(min_length=1)
    institution_id: str = Field(min_length=1, description="SIP2 AO, as the ILS knows the library")


class StationAnswers(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str = ""
    location_code: str = Field(min_length=1, description="SIP2 location of this station")
    kiosk: bool = False  # a touchscreen on this Pi (trusted on loopback)
    lockers: bool = False


class IlsAnswers(Strict):
    host: str
    port: int = Field(ge=1, le=65535)
    tls: bool = False
    login_user: str = ""
    login_location: str = ""
    password: str = ""
    dialect: str = "generic"


class DeviceAnswers(Strict):
    simulated: bool = False  # every device simulated (a demo, a lab)
    ports: list[str] = Field(default_factory=list, description="ports to ask; default: all")
    kerong_addresses: list[int] = Field(default_factory=lambda: [0, 1, 2, 3])
    confirm: bool = True  # pulse each board's first lock and ask staff whether it clicked


class DoorAnswers(Strict):
    rows: int = Field(default=4, ge=1, le=16, description="doors in each column")
    sizes_by_row: list[Size] = Field(default_factory=list, description="top row first")
    accessible_rows: list[int] = Field(
        default_factory=list, description="rows a wheelchair user reaches (1 = top); default: "
                                          "the middle rows")


class StaffAnswers(Strict):
    admin: str = ""
    password: str = ""


class HubAnswers(Strict):
    url: str = ""
    code: str = ""


class Answers(Strict):
    library: LibraryAnswers
    station: StationAnswers
    ils: IlsAnswers
    devices: DeviceAnswers = Field(default_factory=DeviceAnswers)
    doors: DoorAnswers = Field(default_factory=DoorAnswers)
    staff: StaffAnswers = Field(default_factory=StaffAnswers)
    hub: HubAnswers = Field(default_factory=HubAnswers)

    def ils_settings(self, password_env: str) -> IlsSettings:
        return IlsSettings(host=self.ils.host, port=self.ils.port, tls=self.ils.tls,
                           login_user=self.ils.login_user, login_location=self.ils.login_location,
                           dialect=self.ils.dialect, password_env=password_env)  # type: ignore[arg-type]


class AnswersError(Exception):
    pass


def load_answers(path: Path) -> Answers:
    try:
        with path.open("rb") as fh:
            return Answers.model_validate(tomllib.load(fh))
    except OSError as exc:
        raise AnswersError(f"{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise AnswersError(f"{path}: not TOML: {exc}") from None
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise AnswersError("\n".join(lines)) from None
