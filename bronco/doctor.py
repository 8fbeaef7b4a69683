"""`bronco doctor`: check every device in a profile and the ILS login, and say what is wrong in
words library IT can act on. Nothing here changes a device: boards are read, never pulsed.

If a station already runs with this profile it owns the devices (a serial port has one owner),
so the doctor asks the station for its view instead of opening them itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import ssl
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from station_core.profile import (
    CardReaderSettings,
    LockBoardSettings,
    Profile,
    RfidReaderSettings,
)

Level = Literal["ok", "warn", "fail"]
DEVICE_TIMEOUT_S = 10.0


@dataclass
class Finding:
    area: str  # ils, database, lock board, rfid reader, card reader, email, printer, station
    name: str
    level: Level
    message: str
    hint: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- plain words for low-level failures ------------------------------------------------------------
def _serial_words(url: str, exc: BaseException) -> tuple[str, str]:
    text = str(exc)
    code = getattr(exc, "errno", None) or getattr(exc.__cause__, "errno", None)
    if code == errno.ENOENT or "No such file" in text or "FileNotFound" in text:
        return (f"{url} does not exist",
                "Is the USB adapter plugged in? The udev rules in systemd/ give it this name; "
                "`ls -l /dev/bronco-*` shows what is there.")
    if code == errno.EACCES or "Permission denied" in text:
        return (f"no permission to open {url}",
                "Add the service user to the dialout group (the udev rules set the group).")
    if code == errno.EBUSY or "busy" in text.lower():
        return (f"{url} is in use by another program",
                "Is a station or another tool already running with this device?")
    return f"{url}: {text}", ""


def _board_words(settings: LockBoardSettings, exc: BaseException) -> tuple[str, str]:
    from locker_controller.board import BoardDisconnected, BoardProtocolError, BoardTimeout

    where = f"{settings.driver} at address {settings.address} on {settings.url}"
    if isinstance(exc, BoardTimeout):
        return (f"no answer from the {where}",
                "Check the board's power, the RS-485 A/B wires and the address switches.")
    if isinstance(exc, BoardProtocolError):
        return (f"the {where} answered with something unexpected: {exc}",
                "Is the driver right for this board, and the baud rate?")
    if isinstance(exc, BoardDisconnected | OSError):
        return _serial_words(settings.url, exc)
    return f"{where}: {exc}", ""


def _ils_words(profile: Profile, exc: BaseException) -> tuple[str, str]:
    from ils.errors import IlsRejected

    ils = profile.ils
    where = f"{ils.host}:{ils.port}"
    text = str(exc)
    if isinstance(exc, IlsRejected):
        return (f"the ILS at {where} refused the SIP2 login for user '{ils.login_user}'",
                f"Check the SIP2 user and its password (environment variable {ils.password_env} "
                "or the secrets file), and that the ILS allows this location.")
    if isinstance(exc, TimeoutError) or "did not answer" in text or "timed out" in text:
        return (f"the ILS at {where} did not answer in time",
                "The server may be overloaded, or a firewall drops the traffic.")
    if isinstance(exc, ssl.SSLError) or "SSL" in text or "certificate" in text:
        return (f"the TLS handshake with {where} failed: {text}",
                "Check ca_file, client_cert/client_key and tls_verify in the [ils] section.")
    if "refused" in text or "Connect call failed" in text or "Errno 111" in text:
        return (f"nothing accepts connections at {where}",
                "Is the SIP2 server running on that port, and is this machine allowed in?")
    if "Name or service not known" in text or "nodename" in text:
        return f"the ILS host name '{ils.host}' does not resolve", "Check [ils] host and DNS."
    return f"the ILS at {where} could not be used: {text}", ""


# -- checks ----------------------------------------------------------------------------------------
async def _bounded(call: Awaitable[Any]) -> Any:
    return await asyncio.wait_for(call, DEVICE_TIMEOUT_S)


async def check_ils(profile: Profile) -> Finding:
    from ils.connect import connect

    if profile.ils.login_user and not profile.ils_password():
        return Finding("ils", "SIP2 login", "fail",
                       f"no SIP2 password for user '{profile.ils.login_user}'",
                       f"Set {profile.ils.password_env} in the service's environment file, or "
                       "[ils] password in the secrets file.")
    adapter = connect(profile)
    try:
        status = await _bounded(adapter.start())
    except Exception as exc:  # every failure is reported in words, none escapes
        message, hint = _ils_words(profile, exc)
        return Finding("ils", "SIP2 login", "fail", message, hint)
    finally:
        await adapter.close()
    said = f"logged in at {profile.ils.host}:{profile.ils.port}"
    if status.library_name:
        said += f", library '{status.library_name}'"
    if not status.online:
        return Finding("ils", "SIP2 login", "warn", said + ", but the ILS says it is offline")
    needed = {"11": "checkout", "09": "checkin", "29": "renew", "63": "patron information"}
    missing = [name for code, name in needed.items()
               if status.supported and code not in status.supported]
    if missing:
        return Finding("ils", "SIP2 login", "warn",
                       said + f"; it does not support: {', '.join(missing)}")
    refused = [name for name, ok in (("checkout", status.checkout_ok),
                                     ("checkin", status.checkin_ok)) if not ok]
    if refused:
        return Finding("ils", "SIP2 login", "fail",
                       said + f", but the ILS does not allow {' or '.join(refused)} for this "
                       "terminal",
                       "Ask the ILS administrator to allow circulation for this SIP2 login (its "
                       "terminal or location profile): until then the kiosk can neither lend nor "
                       "take back.")
    return Finding("ils", "SIP2 login", "ok", said + ", checkout/checkin allowed")


def check_database(profile: Profile) -> Finding:
    from sqlalchemy import inspect, text

    from bridge.db.engine import make_engine

    url = profile.server.database_url
    shown = url.split("@")[-1] if "@" in url else url
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            return Finding("database", "storage", "fail", f"the folder {folder} does not exist",
                           "Create it (systemd's StateDirectory does this for /var/lib/bronco).")
        if not os.access(folder, os.W_OK):
            return Finding("database", "storage", "fail", f"cannot write in {folder}",
                           "The service user must own the database folder.")
        if not Path(url.removeprefix("sqlite:///")).exists():  # connecting would create it
            return Finding("database", "storage", "warn", f"{shown} does not exist yet",
                           "The station creates it on first start.")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            tables = set(inspect(conn).get_table_names())
    except Exception as exc:
        return Finding("database", "storage", "fail", f"cannot connect to {shown}: {exc}",
                       "Check server.database_url, the server and its credentials.")
    finally:
        engine.dispose()
    if "alembic_version" not in tables:
        return Finding("database", "storage", "warn", f"{shown} is empty",
                       "The station creates its tables on first start.")
    return Finding("database", "storage", "ok", f"{shown} answers")


async def check_lock_board(settings: LockBoardSettings) -> Finding:
    from station_core.devices import create_lock_board
    from station_core.registry import DriverUnavailable

    name = settings.id
    try:
        board = create_lock_board(settings)
    except DriverUnavailable as exc:
        return Finding("lock board", name, "fail", str(exc))
    try:
        await _bounded(board.open())
        doors = await _bounded(board.read_doors())
    except Exception as exc:
        message, hint = _board_words(settings, exc)
        return Finding("lock board", name, "fail", message, hint)
    finally:
        with contextlib.suppress(Exception):  # closing a port that never opened: nothing to say
            await _bounded(board.close())
    opened = sorted(n for n, s in doors.items() if s.value == "open")
    said = f"{settings.driver}: {len(doors)} door sensors read"
    if opened:
        said += f"; open now: {', '.join(map(str, opened))}"
    level: Level = "warn" if settings.driver == "simulated" else "ok"
    return Finding("lock board", name, level,
                   said + (" (simulated hardware)" if level == "warn" else ""))


async def check_rfid_reader(settings: RfidReaderSettings) -> Finding:
    from station_core.devices import create_rfid_reader
    from station_core.registry import DriverUnavailable

    name = settings.id
    try:
        reader = create_rfid_reader(settings)
    except DriverUnavailable as exc:
        return Finding("rfid reader", name, "fail", str(exc))
    where = settings.url or (f"{settings.host}:{settings.port or 5084}" if settings.host else "")
    try:
        await _bounded(reader.open())
        tags = await _bounded(reader.inventory())
    except Exception as exc:
        if settings.driver == "feig_hf" and settings.url and "no answer" in str(exc):
            with contextlib.suppress(Exception):
                await _bounded(reader.close())  # free the port for the probes
            found = await _feig_line_settings(settings)
            if found is not None:
                return found
        if settings.url:
            message, hint = _serial_words(settings.url, exc)
        else:
            message, hint = (f"the reader at {where} could not be used: {exc}",
                             "Is it powered, on the network, and not held by another client?")
        return Finding("rfid reader", name, "fail", message, hint)
    finally:
        with contextlib.suppress(Exception):
            await _bounded(reader.close())
    level: Level = "warn" if settings.driver == "simulated" else "ok"
    return Finding("rfid reader", name, level,
                   f"{settings.driver}{' at ' + where if where else ''}: inventory ran, "
                   f"{len(tags)} tag(s) in the field"
                   + (" (simulated hardware)" if level == "warn" else ""))


async def _feig_line_settings(settings: RfidReaderSettings) -> Finding | None:
    """A FEIG reader that is silent at the profile's line settings: find the ones it answers at
    (factory 38400 8E1 first) and say what to change."""
    from rfid.drivers.feig import find_line_settings

    found = await find_line_settings(settings.url, bus_address=settings.options.get("bus_address", 255))
    if found is None:
        return None
    baudrate, parity, frames = found
    wanted = (settings.options.get("baudrate", 38400), settings.options.get("parity", "E"))
    names = {"E": "even", "N": "no", "O": "odd", "even": "even", "none": "no", "odd": "odd"}
    factory = " (the factory setting)" if (baudrate, parity) == (38400, "E") else ""
    return Finding(
        "rfid reader", settings.id, "fail",
        f"the FEIG reader at {settings.url} answers at {baudrate} baud, 8 data bits, "
        f"{names[parity]} parity, {frames} frames{factory}, not at the profile's {wanted[0]} baud "
        f"with {names.get(str(wanted[1]), wanted[1])} parity",
        f"Set options = {{ baudrate = {baudrate}, parity = \"{parity}\" }} for this reader in the "
        f"profile, or set the reader's CFG1 interface block to the profile's settings.")


async def check_card_reader(settings: CardReaderSettings) -> Finding:
    from station_core.devices import create_card_reader
    from station_core.registry import DriverUnavailable

    name = settings.id
    try:
        reader = create_card_reader(settings)
        await _bounded(reader.open())
    except DriverUnavailable as exc:
        return Finding("card reader", name, "fail", str(exc))
    except Exception as exc:
        return Finding("card reader", name, "fail", f"{settings.driver}: {exc}",
                       "Is pcscd running (systemctl status pcscd) and the reader plugged in? "
                       "`pcsc_scan` lists the readers it sees.")
    with contextlib.suppress(Exception):
        await _bounded(reader.close())
    level: Level = "warn" if settings.driver == "simulated" else "ok"
    return Finding("card reader", name, level, f"{settings.driver}: reader found"
                   + (" (simulated hardware)" if level == "warn" else ""))


async def check_email(profile: Profile) -> Finding | None:
    notices = profile.notices
    if not notices.enabled:
        return None
    where = f"{notices.smtp_host}:{notices.smtp_port}"
    try:
        _, writer = await _bounded(asyncio.open_connection(notices.smtp_host, notices.smtp_port))
    except (OSError, TimeoutError) as exc:
        return Finding("email", "SMTP", "fail", f"cannot reach the mail server at {where}: {exc}",
                       "Patron notices will wait; check [notices] smtp_host and smtp_port.")
    writer.close()
    return Finding("email", "SMTP", "ok", f"the mail server at {where} accepts connections")


def check_printer(profile: Profile) -> Finding | None:
    if not profile.kiosk.printer:
        return None
    target = Path(profile.kiosk.printer)
    if target.parent.is_dir() and (os.access(target, os.W_OK) or
                                   (not target.exists() and os.access(target.parent, os.W_OK))):
        return Finding("printer", "receipts", "ok", f"{target} is writable")
    return Finding("printer", "receipts", "fail", f"cannot write receipts to {target}",
                   "Is the printer plugged in, and does the udev rule give the service user access?")


def station_view(profile: Profile) -> list[Finding] | None:
    """The running station's own health report, or None if no station answers."""
    host = "127.0.0.1" if profile.server.host in ("0.0.0.0", "::") else profile.server.host
    try:
        health = httpx.get(f"http://{host}:{profile.server.port}/healthz", timeout=2).json()
    except (httpx.HTTPError, ValueError, socket.gaierror):
        return None
    findings = [Finding("station", health.get("station", "?"), "ok",
                        f"running for {health.get('uptime_s', 0):.0f} s; it owns the devices, "
                        "so this is its view")]
    ils = health.get("ils", {})
    findings.append(Finding("ils", "SIP2 link", "ok" if ils.get("online") else "fail",
                            "online" if ils.get("online") else
                            f"offline: {ils.get('last_error') or 'no answer'}"))
    for device in health.get("devices", []):
        ok = device.get("state") == "ok"
        findings.append(Finding(device.get("kind", "device"), device.get("id", "?"),
                                "ok" if ok else "fail",
                                f"{device.get('driver')}: {device.get('state')}"
                                + ("" if ok else f": {device.get('last_error')}")))
    return findings


def check_hold_events(profile: Profile) -> Finding | None:
    """Alma's webhooks: whether the secret is there, and which requests' events the lockers take."""
    variable = profile.ils.alma_webhook_secret_env
    if not variable:
        return None
    from bridge.lockers.hold_events import describe_place

    taken = describe_place(profile.ils.locker_pickup_location)
    if not os.environ.get(variable):
        return Finding("ils", "Alma hold events", "fail", f"{variable} is not set: every webhook "
                       "is refused", f"Put the webhook secret in station.env as {variable}=...")
    level: Level = "ok" if profile.ils.locker_pickup_location else "warn"
    return Finding("ils", "Alma hold events", level, f"takes {taken}",
                   "" if level == "ok" else "Without it every hold shelf's events reach the "
                   "lockers' to-load list.")


async def check_sorter(profile: Profile) -> Finding | None:
    """The return line's sorter: reached, and what its sensors say now (a full bin, the emergency
    stop, an item sitting in the slot or before an eye while nothing runs)."""
    returns = profile.returns
    if not returns.bins:
        return None
    from sorter.base import SorterError
    from station_core.devices import create_sorter
    from station_core.registry import DriverUnavailable

    cfg = returns.sorter
    try:
        sorter = create_sorter(cfg)
    except (DriverUnavailable, TypeError, ValueError) as exc:
        return Finding("sorter", "returns", "fail", f"no driver for it: {exc}")
    try:
        await _bounded(sorter.open())
        seen = await _bounded(sorter.read_inputs())
    except (SorterError, TimeoutError, OSError) as exc:
        hint = (f"Is the sorter's PLC on, and does it answer Modbus TCP at {cfg.url} (unit "
                f"{cfg.unit})? docs/returns.md has the map it must expose."
                if cfg.url.startswith("socket://") else
                f"Is the RS-485 adapter at {cfg.url} plugged in, and the PLC set to unit "
                f"{cfg.unit} at the same speed?")
        return Finding("sorter", "returns", "fail", f"cannot read the sorter: {exc}", hint)
    finally:
        with contextlib.suppress(Exception):
            await _bounded(sorter.close())
    names = {rule.bin: rule.name for rule in returns.bins}
    troubles = [f"{names.get(k, f'bin {k}')} is full" for k, full in enumerate(seen.bin_full)
                if full]
    if seen.emergency_stop:
        troubles.append("the emergency stop is pressed")
    if any(seen.at_diverter):
        troubles.append("an item sits before a diverter (a jam?)")
    said = f"{cfg.driver}: {cfg.diverters} diverters and {len(seen.bin_full)} bins read"
    if troubles:
        return Finding("sorter", "returns", "warn", f"{said}; {'; '.join(troubles)}",
                       "Empty full bins, clear the belt and release the emergency stop: the "
                       "belt does not run until then.")
    level: Level = "warn" if cfg.driver == "simulated" else "ok"
    return Finding("sorter", "returns", level,
                   said + (" (simulated hardware)" if level == "warn" else ""))


async def diagnose(profile: Profile) -> list[Finding]:
    running = station_view(profile)
    holds = [f for f in (check_hold_events(profile),) if f]
    if running is not None:
        return [*running, check_database(profile), *holds]
    findings = [check_database(profile), await check_ils(profile)]
    # Boards sharing one RS-485 port are checked one after another, like the station polls them.
    findings += [await check_lock_board(b) for b in profile.lock_boards]
    findings += [await check_rfid_reader(r) for r in profile.rfid_readers]
    findings += [await check_card_reader(c) for c in profile.card_readers]
    findings += [f for f in (await check_email(profile), check_printer(profile)) if f]
    findings += [f for f in (await check_sorter(profile),) if f]
    return findings + holds
