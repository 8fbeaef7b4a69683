"""Patron notices by email: locker assigned (with the pickup code and a QR image of it),
reminder, expired, and the pickup receipt. English and Spanish."""

from __future__ import annotations

import asyncio
import io
import logging
import os
from datetime import datetime
from typing import TYPE_CHECKING

from station_core.profile import NoticeSettings

if TYPE_CHECKING:  # the mail modules load at the first notice, not in every idle station
    from email.message import EmailMessage

log = logging.getLogger(__name__)

TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "assigned": ("Your hold is ready in {place}",
                     "Hello {name},\n\nYour hold is waiting for you in {place}, door {doors}.\n\n"
                     "{items}\n\nPickup code: {code}\n\nUse the code (or scan the QR code) at the "
                     "lockers, or sign in with your library card and PIN. Please collect it by "
                     "{expires}.\n\n{library}"),
        "reminder": ("Reminder: your hold is waiting in {place}",
                     "Hello {name},\n\nYour hold is still waiting in {place}, door {doors}.\n"
                     "Please collect it by {expires}.\n\n{library}"),
        "expired": ("Your hold was not collected",
                    "Hello {name},\n\nThe items held for you in {place} were not collected in "
                    "time and have been removed:\n\n{items}\n\n{library}"),
        "receipt": ("Your pickup receipt",
                    "Hello {name},\n\nYou collected:\n\n{items}\n\nThank you.\n\n{library}"),
    },
    "es": {
        "assigned": ("Su reserva le espera en {place}",
                     "Hola {name}:\n\nSu reserva le espera en {place}, puerta {doors}.\n\n"
                     "{items}\n\nCódigo de recogida: {code}\n\nUse el código (o escanee el código QR)"
                     " en las taquillas, o identifíquese con su carné y su PIN. Recójala antes del "
                     "{expires}.\n\n{library}"),
        "reminder": ("Recordatorio: su reserva le espera en {place}",
                     "Hola {name}:\n\nSu reserva sigue esperándole en {place}, puerta {doors}.\n"
                     "Recójala antes del {expires}.\n\n{library}"),
        "expired": ("Su reserva no se recogió",
                    "Hola {name}:\n\nLos documentos reservados para usted en {place} no se "
                    "recogieron a tiempo y se han retirado:\n\n{items}\n\n{library}"),
        "receipt": ("Su recibo de recogida",
                    "Hola {name}:\n\nHa recogido:\n\n{items}\n\nGracias.\n\n{library}"),
    },
}


def qr_png(text: str) -> bytes:
    import qrcode  # only when a notice is sent: it pulls in Pillow

    image = qrcode.make(text, box_size=6, border=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class Notifier:
    def __init__(self, settings: NoticeSettings) -> None:
        self.settings = settings
        self.sent = 0

    def compose(self, kind: str, to: str, *, name: str = "", doors: list[str] | None = None,
                items: list[str] | None = None, code: str = "", expires: datetime | None = None,
                ) -> EmailMessage:
        subject, body = TEMPLATES[self.settings.language][kind]
        values = {
            "name": name or ("patron" if self.settings.language == "en" else "usuario"),
            "place": self.settings.pickup_place, "doors": ", ".join(doors or []),
            "items": "\n".join(f"- {i}" for i in items or []), "code": code,
            "expires": expires.astimezone().strftime("%Y-%m-%d %H:%M") if expires else "",
            "library": self.settings.library_name,
        }
        from email.message import EmailMessage

        message = EmailMessage()
        message["From"], message["To"] = self.settings.sender, to
        message["Subject"] = subject.format(**values)
        message.set_content(body.format(**values))
        if code:
            html = "<p>" + body.format(**values).replace("\n", "<br>") + "</p>"
            message.add_alternative(html + '<p><img src="cid:pickup-qr" alt="QR"></p>', subtype="html")
            message.get_payload()[1].add_related(qr_png(code), "image", "png", cid="<pickup-qr>")
        return message

    def _deliver(self, message: EmailMessage) -> None:
        import smtplib

        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=10) as smtp:
            if s.starttls:
                smtp.starttls()
            if s.username:
                smtp.login(s.username, os.environ.get(s.password_env, ""))
            smtp.send_message(message)

    async def send(self, kind: str, to: str | None, **values: object) -> bool:
        """Send a notice; a mail failure is logged, never raised (the door flow goes on)."""
        if not self.settings.enabled or not to:
            return False
        message = self.compose(kind, to, **values)  # type: ignore[arg-type]
        try:
            await asyncio.to_thread(self._deliver, message)
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            log.warning("notice %s not sent: %s", kind, exc)
            return False
        self.sent += 1
        return True
