"""Fuzz targets for every parser that reads bytes from outside: the SIP2 decoder, the tag data
decoders, the lock-board and reader frame parsers. Each may raise only its own typed error.
The test suite runs them for a bounded number of examples; `bronco bench fuzz` for longer."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import quick
from bench.machine import machine
from ils.sip2 import MESSAGES, ProtocolError, Sip2Codec
from locker_controller.board import BoardError, BoardProtocolError
from locker_controller.drivers import kerong, numato, waveshare
from rfid.drivers import feig_protocol
from rfid.tags.decoding import SCHEMES, decode_tag
from rfid.tags.model import TagDataError

STRICT, LENIENT = Sip2Codec(strict=True), Sip2Codec(strict=False)


def sip2(data: bytes) -> None:
    for codec in (STRICT, LENIENT):
        with contextlib.suppress(ProtocolError):
            codec.decode(data)


def tags(data: bytes) -> None:
    for scheme in SCHEMES:
        with contextlib.suppress(TagDataError):
            decode_tag(data, scheme)


def kerong_status(data: bytes) -> None:
    for parse in (lambda d: kerong.parse_cu16_status(d, d[1] >> 4 if len(d) > 1 else 0),
                  kerong.parse_cu48_status):
        with contextlib.suppress(BoardProtocolError):
            parse(data)


def numato_reply(data: bytes) -> None:
    with contextlib.suppress(BoardError):  # a missing prompt is a timeout
        numato.parse_gpio(numato.parse_reply(data, "gpio read 0", "fuzz"), 0, "fuzz")


def waveshare_frame(data: bytes) -> None:
    """pymodbus frames the reply; our code turns its bits into door states."""
    from pymodbus.framer import FramerRTU
    from pymodbus.pdu import DecodePDU

    _, pdu = FramerRTU(DecodePDU(False)).handleFrame(data, 1, 0)
    if pdu is not None and not pdu.isError():
        with contextlib.suppress(BoardProtocolError):
            waveshare.doors_from_bits(list(getattr(pdu, "bits", None) or []), 8, True, "fuzz")


def feig_frame(data: bytes) -> None:
    with contextlib.suppress(feig_protocol.FrameError):
        feig_protocol.parse(data)


def _framed(data: bytes) -> bytes:
    """Bytes with a right length byte and CRC, so the fuzzer gets past the cheap checks."""
    data = data[:250]
    body = bytes([len(data) + 3]) + data
    crc = feig_protocol.crc16_mcrf4xx(body)
    return body + bytes([crc & 0xFF, crc >> 8])


def _modbus_framed(data: bytes) -> bytes:
    """A discrete-inputs reply with a right CRC, so the fuzzer reaches the bit decoding."""
    from pymodbus.framer import FramerRTU

    body = bytes([1, 2, len(data)]) + data
    crc = FramerRTU.compute_CRC(body)
    return body + crc.to_bytes(2, "big")


TARGETS: dict[str, tuple[Callable[[bytes], None], st.SearchStrategy[bytes]]] = {
    "sip2": (sip2, st.one_of(st.binary(max_size=300),
                             st.sampled_from(sorted(MESSAGES)).flatmap(
                                 lambda c: st.binary(max_size=200).map(lambda b: c.encode() + b)))),
    "tags": (tags, st.binary(max_size=80)),
    "kerong": (kerong_status, st.one_of(st.binary(max_size=16), st.binary(min_size=9, max_size=9),
                                        st.binary(min_size=12, max_size=12))),
    "numato": (numato_reply, st.one_of(st.binary(max_size=40),
                                       st.binary(max_size=12).map(lambda b: b"gpio read 0" + b + b">"))),
    "waveshare": (waveshare_frame, st.one_of(st.binary(max_size=20),
                                             st.binary(max_size=10).map(_modbus_framed))),
    "feig": (feig_frame, st.one_of(st.binary(max_size=64), st.binary(max_size=60).map(_framed))),
}


def fuzz(name: str, examples: int) -> int:
    target, strategy = TARGETS[name]

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(data: bytes) -> None:
        target(data)

    run()
    return examples


def run(seconds_per_target: float = 30.0) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in TARGETS:
        started, total, crash = time.perf_counter(), 0, ""
        while time.perf_counter() - started < seconds_per_target and not crash:
            try:
                total += fuzz(name, 2000)
            except Exception as exc:  # hypothesis re-raises the shrunk failure: record it, go on
                crash = f"{type(exc).__name__}: {exc}"[:300]
        results[name] = {"examples": total, "seconds": round(time.perf_counter() - started, 1),
                         "crashes": 1 if crash else 0, "crash": crash}
    return {"benchmark": "fuzz", "targets": results,
            "goal": "no crash", "meets_goal": not any(r["crashes"] for r in results.values()),
            "machine": machine()}


if __name__ == "__main__":
    print(json.dumps(run(seconds_per_target=0.3) if quick() else run(), indent=2))
