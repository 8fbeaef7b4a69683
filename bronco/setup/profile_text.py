"""The profile `bronco setup` writes: plain TOML with a comment on each choice, so library IT can
read it later and see where every value came from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bronco.setup.answers import Answers, DoorAnswers

PASSWORD_ENV = "BRONCO_ILS_PASSWORD"


@dataclass
class Device:
    """A reader or board going into the profile, under its profile id and the URL to use."""
    id: str
    kind: str  # rfid_reader, lock_board, card_reader
    driver: str
    url: str = ""
    address: int = 0
    locks: int = 0
    options: dict[str, Any] | None = None
    said: str = ""


def value(v: Any) -> str:
    """A TOML value: JSON's strings, numbers, booleans and arrays are TOML's too."""
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
    return json.dumps(v, ensure_ascii=False)


def door_rows(doors: DoorAnswers, boards: list[Device]) -> list[dict[str, Any]]:
    """Each board's locks in columns of `rows` doors, boards side by side, left to right."""
    accessible = doors.accessible_rows or sorted({(doors.rows + 1) // 2, doors.rows // 2 + 1})
    result: list[dict[str, Any]] = []
    column0 = 0
    for board in boards:
        inputs = _door_inputs(board)
        for lock in range(1, board.locks + 1):
            row = (lock - 1) % doors.rows + 1
            size = doors.sizes_by_row[row - 1] if row <= len(doors.sizes_by_row) else "medium"
            door = {"id": f"{board.id}{lock:02d}", "board": board.id, "lock": lock,
                    "row": row, "column": column0 + (lock - 1) // doors.rows + 1,
                    "size": size, "accessible": row in accessible}
            if lock > inputs:  # the board has no input for this door's switch: never "closed"
                door["sensor"] = "none"
            result.append(door)
        column0 += -(-board.locks // doors.rows)
    return result


def _door_inputs(board: Device) -> int:
    from station_core.registry import LOCK_BOARDS

    spec = LOCK_BOARDS.specs.get(board.driver)
    found = spec.door_inputs(board.locks) if spec else None
    return board.locks if found is None else found


def render(answers: Answers, devices: list[Device], database_url: str) -> str:
    a = answers
    out: list[str] = [
        f"# Bronco Station profile for {a.station.name or a.station.id} ({a.library.name}).",
        "# Written by `bronco setup`; check it after any edit with `bronco profile check FILE`.",
        "",
        "[station]",
        f"id = {value(a.station.id)}",
        f"name = {value(a.station.name or a.station.id)}",
        f"institution_id = {value(a.library.institution_id)}  # SIP2 AO: the library as the ILS knows it",
        f"location_code = {value(a.station.location_code)}  # SIP2 location of this station",
        "",
        "[ils]",
        f"host = {value(a.ils.host)}",
        f"port = {a.ils.port}",
        f"tls = {value(a.ils.tls)}",
        f"dialect = {value(a.ils.dialect)}",
        f"login_user = {value(a.ils.login_user)}",
        f"login_location = {value(a.ils.login_location)}",
        f"password_env = {value(PASSWORD_ENV)}  # the password is in /etc/bronco/station.env, never here",
        "",
        "[server]",
        '# The kiosk on this Pi reaches the station on loopback; staff consoles through a proxy or',
        '# server.host = "0.0.0.0" with TLS (docs/security.md).',
        'host = "127.0.0.1"',
        "port = 8080",
        f"database_url = {value(database_url)}",
    ]
    if any(d.driver == "simulated" for d in devices):
        out.append("simulators = true  # simulated devices: /sim drives them (a demo or a lab)")
    for kind, table in (("rfid_reader", "rfid_readers"), ("lock_board", "lock_boards"),
                        ("card_reader", "card_readers")):
        for d in (d for d in devices if d.kind == kind):
            out += ["", f"[[{table}]]"]
            if d.said:
                out.append(f"# {d.said}")
            out += [f"id = {value(d.id)}", f"driver = {value(d.driver)}"]
            if d.url:
                out.append(f"url = {value(d.url)}")
            if kind == "lock_board":
                if d.driver.startswith("kerong"):
                    out.append(f"address = {d.address}  # the board's DIP switches")
                elif d.driver == "waveshare_modbus":
                    out.append(f"address = {d.address}  # the board's Modbus device address")
                out.append(f"locks = {d.locks}")
            if kind == "rfid_reader":
                out.append('role = "both"')
            if kind == "card_reader":
                out.append('uid_rule = { format = "hex" }')
            if d.options:
                out.append(f"options = {value(d.options)}  # the line settings it answered at")
    readers = [d for d in devices if d.kind == "rfid_reader"]
    cards = [d for d in devices if d.kind == "card_reader"]
    out += ["", "[kiosk]"]
    if a.station.kiosk:
        out += ["trust_loopback = true  # the kiosk runs on this Pi: no enrolment needed",
                "fullscreen = true"]
        if readers:
            out.append(f"rfid_reader = {value(readers[0].id)}")
        if cards:
            out.append(f"card_reader = {value(cards[0].id)}")
    else:
        out.append("trust_loopback = false  # no kiosk on this Pi; remote kiosks enrol (docs/security.md)")
    boards = [d for d in devices if d.kind == "lock_board"]
    if boards:
        out += ["", "# The door map: each board's locks in columns of "
                f"{a.doors.rows}, top to bottom, boards left to right. Edit sizes and accessible",
                "# doors to match the bank (accessible: reachable from a wheelchair)."]
        for door in door_rows(a.doors, boards):
            out += ["", "[[doors]]", *(f"{k} = {value(v)}" for k, v in door.items())]
    if a.hub.url:
        out += ["", "[hub]", f"url = {value(a.hub.url)}"]
    return "\n".join(out) + "\n"
