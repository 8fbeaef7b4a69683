from __future__ import annotations

from datetime import UTC, datetime

from bridge.notices import Notifier, qr_png
from station_core.profile import NoticeSettings


def test_spanish_notice_with_code_and_qr() -> None:
    notifier = Notifier(NoticeSettings(language="es", pickup_place="las Taquillas Bronco",
                                       library_name="Biblioteca"))
    message = notifier.compose("assigned", "ana@example.edu", name="Ana", doors=["A01", "A02"],
                               items=["Cien años de soledad"], code="042917",
                               expires=datetime(2026, 11, 27, 18, 0, tzinfo=UTC))
    assert message["Subject"] == "Su reserva le espera en las Taquillas Bronco"
    text = message.get_body(("plain",)).get_content()
    assert "Hola Ana" in text and "puerta A01, A02" in text and "Código de recogida: 042917" in text
    assert "- Cien años de soledad" in text
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0].get_payload(decode=True).startswith(b"\x89PNG")


def test_every_notice_exists_in_both_languages() -> None:
    for language in ("en", "es"):
        notifier = Notifier(NoticeSettings(language=language))
        for kind in ("assigned", "reminder", "expired", "receipt"):
            assert notifier.compose(kind, "x@example.edu", items=["i"])["Subject"]


def test_qr_png_is_an_image() -> None:
    assert qr_png("123456").startswith(b"\x89PNG")


async def test_an_unreachable_mail_server_is_not_an_error() -> None:
    from tests.conftest import free_port

    notifier = Notifier(NoticeSettings(enabled=True, smtp_port=free_port()))
    assert await notifier.send("receipt", "x@example.edu", items=["i"]) is False
    assert await Notifier(NoticeSettings(enabled=False)).send("receipt", "x@example.edu") is False
