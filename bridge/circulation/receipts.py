"""Receipts for a kiosk session: by email (the patron's address from the ILS) or printed on the
kiosk's ESC/POS printer. The content comes from the station's own journal of the session."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bridge.circulation.journal import Journal
from bridge.db.models import CircTransaction, TxnState
from bridge.notices import Notifier

log = logging.getLogger(__name__)


def receipt_lines(journal: Journal, session_id: str) -> list[str]:
    with Session(journal.engine) as session:
        rows = session.exec(select(CircTransaction).where(
            CircTransaction.session_id == session_id,
            col(CircTransaction.state).in_([TxnState.DONE.value, TxnState.PENDING.value,
                                            TxnState.SENT.value]),
        ).order_by(col(CircTransaction.seq)))
        lines = []
        for row in rows:
            due = row.due_text or (row.due_at.astimezone().strftime("%Y-%m-%d %H:%M")
                                   if row.due_at else "")
            due = _readable_due(due)
            what = {"checkout": "Borrowed", "renew": "Renewed", "checkin": "Returned"}[row.kind]
            lines.append(f"{what}: {row.title or row.item_id}" + (f" - due {due}" if due else ""))
        return lines


def _readable_due(text: str) -> str:
    """SIP2's 18-character date or an ISO timestamp, as a date and a minute; other text as is."""
    compact = text.replace(" ", "")
    if len(compact) == 14 and compact.isdigit():
        return datetime.strptime(compact, "%Y%m%d%H%M%S").strftime("%Y-%m-%d %H:%M")
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text


def print_receipt(target: str, header: str, lines: list[str], footer: str) -> None:
    """ESC/POS to a file or device path (a USB or serial printer shows up as one)."""
    from escpos.printer import File

    printer = File(target)
    printer.hw("INIT")  # ESC @: a known state whatever the last job left behind
    printer.set(align="center", bold=True, double_height=True)
    printer.text(header + "\n")
    printer.set(align="left", bold=False, double_height=False)
    printer.text(datetime.now().strftime("%Y-%m-%d %H:%M") + "\n\n")
    for line in lines:
        printer.text(line + "\n")
    printer.text("\n" + footer + "\n")
    printer.cut()
    printer.close()


async def send_receipt(kind: str, *, lines: list[str], email: str | None, notifier: Notifier,
                       printer: str, library: str, footer: str) -> dict[str, Any]:
    """`why` is a code the kiosk says in the patron's language; `reason` is for logs and tools."""
    if kind == "email":
        if not email:
            return {"sent": False, "why": "no_email", "reason": "no email address on file"}
        from email.message import EmailMessage  # loaded at the first e-mailed receipt

        message = EmailMessage()
        message["From"], message["To"] = notifier.settings.sender, email
        message["Subject"] = f"{library}: your receipt"
        message.set_content("\n".join(lines) + f"\n\n{footer}\n")
        try:
            await asyncio.to_thread(notifier._deliver, message)
        except OSError as exc:
            log.warning("receipt email not sent: %s", exc)
            return {"sent": False, "why": "mail_down", "reason": "the mail server is not reachable"}
        return {"sent": True}
    if kind == "print":
        if not printer:
            return {"sent": False, "why": "no_printer", "reason": "this kiosk has no printer"}
        try:
            await asyncio.to_thread(print_receipt, printer, library, lines, footer)
        except OSError as exc:
            log.warning("receipt not printed: %s", exc)
            return {"sent": False, "why": "printer_down", "reason": "the printer is not available"}
        return {"sent": True}
    return {"sent": False, "why": "not_wanted", "reason": "no receipt wanted"}
