"""A station that has checked a few PINs gives the hashing memory back (bronco/malloc_tuning.py):
each argon2 PIN check takes 19 MiB, on whichever worker thread the request ran."""

from __future__ import annotations

import subprocess
import sys

SIGN_INS = """
import sys, threading
if sys.argv[1] == "tuned":
    from bronco.malloc_tuning import return_big_blocks
    assert return_big_blocks()
from bridge.access.hashing import PIN_HASHER

def sign_ins():
    for _ in range(3):
        PIN_HASHER.hash("1234")

for _ in range(6):  # one worker thread after another, as the station's pool hands them out
    worker = threading.Thread(target=sign_ins)
    worker.start()
    worker.join()
    PIN_HASHER.hash("1234")
print(next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("RssAnon")))
"""


def anon_kib(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", SIGN_INS, mode], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.split()[-1])


def test_the_memory_of_pin_checks_goes_back_to_the_system() -> None:
    untuned, tuned = anon_kib("plain"), anon_kib("tuned")
    assert untuned - tuned > 15 * 1024  # at least one PIN check's worth kept without the tuning
    assert tuned < 60 * 1024
