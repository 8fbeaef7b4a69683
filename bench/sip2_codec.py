"""SIP2 codec throughput: decode + re-encode of the same frames, ours against pysip2's codec.

Both sides turn each wire frame into its typed model and back into a checksummed frame, on the
same corpus of the messages a kiosk and a locker exchange. Goal: ours >= 1.0x pysip2.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bench import quick
from bench.machine import machine
from ils.sip2 import (
    AcsStatusResponse,
    CheckinRequest,
    CheckinResponse,
    CheckoutRequest,
    CheckoutResponse,
    ItemInformationRequest,
    ItemInformationResponse,
    LoginRequest,
    LoginResponse,
    PatronInformationRequest,
    PatronInformationResponse,
    RenewResponse,
    ScStatusRequest,
    Sip2Codec,
    summary_for,
    supported_messages,
)
from ils.sip2.codec import now


def corpus() -> list[bytes]:
    """One frame of each message a kiosk session uses, encoded by our codec (cp850, AY/AZ)."""
    codec = Sip2Codec("cp850")
    t = now()
    messages = [
        LoginRequest(login_user="kiosk", login_password="secret", location_code="KIOSK1"),
        LoginResponse(ok=True),
        ScStatusRequest(),
        AcsStatusResponse(online=True, checkin_ok=True, checkout_ok=True, renewal_policy=True,
                          status_update_ok=False, offline_ok=True, timeout_period=30, retries_allowed=3,
                          date_time_sync=t, institution_id="DEMO", library_name="Demo Library",
                          supported_messages=supported_messages({"93", "99", "63", "11", "09", "17"})),
        PatronInformationRequest(transaction_date=t, summary=summary_for("charged_items"),
                                 institution_id="DEMO", patron_id="2900001000", terminal_password="",
                                 patron_password="1234"),
        PatronInformationResponse(patron_status=" " * 14, transaction_date=t, charged_items_count=5,
                                  institution_id="DEMO", patron_id="2900001000",
                                  personal_name="María José Núñez", valid_patron=True,
                                  valid_patron_password=True, currency_type="USD", fee_amount="0.00",
                                  charged_items=[f"31000020{n:02d}" for n in range(5)],
                                  email_address="patron1@demo.example.edu"),
        CheckoutRequest(renewal_policy=True, transaction_date=t, nb_due_date=t, institution_id="DEMO",
                        patron_id="2900001000", item_id="3100002000", terminal_password=""),
        CheckoutResponse(ok=True, magnetic_media=False, desensitize=True, transaction_date=t,
                         institution_id="DEMO", patron_id="2900001000", item_id="3100002000",
                         title="Cien años de soledad", due_date="20261222    073000", media_type="001"),
        CheckinRequest(transaction_date=t, return_date=t, current_location="KIOSK1",
                       institution_id="DEMO", item_id="3100002000", terminal_password=""),
        CheckinResponse(ok=True, resensitize=True, magnetic_media=False, alert=False, transaction_date=t,
                        institution_id="DEMO", item_id="3100002000", permanent_location="STACKS",
                        title="Cien años de soledad", sort_bin="STACKS"),
        ItemInformationRequest(transaction_date=t, institution_id="DEMO", item_id="3100002000"),
        ItemInformationResponse(circulation_status=4, transaction_date=t, due_date="20261222    073000",
                                item_id="3100002000", title="Cien años de soledad",
                                permanent_location="STACKS"),
        RenewResponse(ok=True, renewal_ok=True, magnetic_media=False, desensitize=True,
                      transaction_date=t, institution_id="DEMO", patron_id="2900001000",
                      item_id="3100002000", title="Cien años de soledad", due_date="20270119    073000"),
    ]
    return [codec.encode(m, n % 10) for n, m in enumerate(messages)]


def _rate(round_trip: Callable[[bytes], bytes], frames: list[bytes], seconds: float) -> float:
    """Messages (decode + encode) per second, best of five timed rounds."""
    best = 0.0
    for _ in range(5):
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds / 5:
            for frame in frames:
                round_trip(frame)
            count += len(frames)
        best = max(best, count / (time.perf_counter() - started))
    return best


def run(seconds: float = 4.0) -> dict[str, Any]:
    import pysip2

    frames = corpus()
    ours = Sip2Codec("cp850", strict=True)

    def ours_round_trip(frame: bytes) -> bytes:
        message = ours.decode(frame)
        return ours.encode(message, message.sequence)

    def peer_round_trip(frame: bytes) -> bytes:
        decoded = pysip2.decode_message(frame, encoding="cp850")
        return pysip2.encode_message(decoded.message, sequence_number=decoded.sequence_number,
                                     checksum=True, encoding="cp850")

    # Both must reproduce every frame exactly, or the comparison means nothing.
    for frame in frames:
        assert ours_round_trip(frame) == frame, frame
        assert peer_round_trip(frame) == frame, frame
    ours_rate = _rate(ours_round_trip, frames, seconds)
    peer_rate = _rate(peer_round_trip, frames, seconds)
    return {
        "benchmark": "sip2_codec",
        "corpus_messages": len(frames),
        "ours_messages_per_s": round(ours_rate),
        "pysip2_messages_per_s": round(peer_rate),
        "ratio_vs_pysip2": round(ours_rate / peer_rate, 2),
        "goal": ">= 1.0x pysip2",
        "meets_goal": ours_rate >= peer_rate,
        "machine": machine(),
    }


if __name__ == "__main__":
    print(json.dumps(run(seconds=0.2) if quick() else run(), indent=2, ensure_ascii=False))
