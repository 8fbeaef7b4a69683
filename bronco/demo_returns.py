"""`bronco demo --returns`: the book drop on simulated hardware - the demo ILS, the station with a
return slot (hardware_profiles/returns-simulated.toml), the sorter's PLC emulated on Modbus TCP,
the slot's screen (the kiosk in returns mode) and a patron putting an item through the slot every
couple of seconds, of every kind, until Ctrl-C. Staff watch it on the console's Returns page."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

from bench.returns_line import STAFF_PASSWORD, ReturnLineRun

PLC_PORT = 5020
EVERY_S = 2.0


def run_returns_demo(folder: Path, *, headless: bool, port: int) -> int:
    if (folder / "returns.toml").exists():
        shutil.rmtree(folder)  # the demo's own folder: every run starts with a fresh library
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    kiosk: subprocess.Popen[bytes] | None = None
    try:
        with ReturnLineRun(folder, items=400, segment_s=0.5, plc_port=PLC_PORT,
                           station_port=port) as line:
            if not headless:
                kiosk = subprocess.Popen([sys.executable, "-m", "bronco", "kiosk", "--profile",
                                          str(line.profile), "--station", line.url, "--windowed"])
            print("Bronco Station book drop demo is running (simulated hardware).", flush=True)
            print(f"  staff console:  {line.url}/console/returns  user desk1 / {STAFF_PASSWORD}")
            print(f"  sorter PLC:     Modbus TCP 127.0.0.1:{line.emulator.port}")
            print(f"  slot screen:    {'not started (--headless)' if headless else 'window open'}")
            print("Press Ctrl-C to stop.", flush=True)
            for drop in line.drops:
                if stop.is_set():
                    break
                try:
                    line.drop(drop)
                except TimeoutError:  # a full bin or a jam: staff clear it on the console
                    print("the slot is waiting: see the console's Returns page", flush=True)
                stop.wait(EVERY_S)
    finally:
        if kiosk is not None and kiosk.poll() is None:
            kiosk.terminate()
            kiosk.wait(10)
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
    print("Demo stopped.", flush=True)
    return 0
