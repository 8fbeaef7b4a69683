"""The monthly report for the administration: one PDF page (rendered to PNG with pdftoppm for
people to look at, and read back with pdftotext), the same figures as CSV, on demand from the
console and by schedule to an SMTP server on loopback - once per month, and again after the mail
server was away. Counts only: no patron and no item appears."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from bridge.app import create_app
from bridge.reports.monthly_report import SENT_SETTING, Month
from tests.bridge.circulation.test_kiosk_api import BOOKS, MARIA, MARIA_PIN, online, sign_in
from tests.bridge.lockers.test_locker_flows import Inbox
from tests.conftest import DemoIls, free_port, station_profile, wait_for

PASSWORD = "a long staff password"
HEAD = "head.access@demo.example.edu"


def test_the_month_on_one_page_on_demand_and_by_schedule(tmp_path: Path, demo_ils: DemoIls,
                                                         artifacts: Path) -> None:
    inbox, smtp_port = Inbox(), free_port()
    profile = station_profile(
        tmp_path, ils_port=demo_ils.port,
        notices={"enabled": True, "smtp_port": smtp_port, "library_name": "Demo University Library",
                 "sender": "lockers@demo.example.edu"},
        statistics={"monthly_recipients": [HEAD], "monthly_day": 1, "monthly_hour": 7})
    app = create_app(profile)
    this_month = Month(date.today().year, date.today().month)
    with TestClient(app) as client:
        station = app.state.station
        station.auth.create_user("desk1", PASSWORD, "desk")
        wait_for(lambda: online(client))
        headers = {"X-Kiosk-Session": sign_in(client, MARIA, MARIA_PIN)["token"]}
        for item in BOOKS[:3]:
            assert client.post("/api/v1/checkout", json={"item_id": item}, headers=headers).json()["ok"]
        assert client.post("/api/v1/checkin", json={"item_id": BOOKS[0]}).json()["ok"]
        wait_for(lambda: station.circulation._background == set())

        client.post("/api/v1/staff/login", json={"username": "desk1", "password": PASSWORD})
        pdf = client.get(f"/console/reports/monthly.pdf?month={this_month.key}")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert client.get("/console/reports/monthly.pdf?month=2026-13").status_code == 422
        table = client.get(f"/console/reports/monthly.csv?month={this_month.key}").text
        assert f"total,{this_month.bounds()[0]}..{this_month.bounds()[1]},checkouts,3" in table

        # The schedule: not before its day and hour; then once; the mail server away, then back.
        first_of_next = datetime.combine(this_month.bounds()[1] + timedelta(days=1),
                                         datetime.min.time()).astimezone()
        send = station.send_monthly_report_if_due
        assert client.portal.call(send, first_of_next + timedelta(hours=6)) is None
        smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        assert client.portal.call(send, first_of_next + timedelta(hours=8)) is None  # no server yet
        assert station.journal.setting(SENT_SETTING) is None
        smtp.start()
        try:
            assert client.portal.call(send, first_of_next + timedelta(hours=9)) == this_month.key
            assert client.portal.call(send, first_of_next + timedelta(hours=10)) is None
            wait_for(lambda: len(inbox.messages) == 1)
        finally:
            smtp.stop()
        audit = [e for e in station.auth.audit_entries() if e.action == "report_sent"]
        assert [(e.actor, e.target) for e in audit] == [("station", this_month.key)]

    message = inbox.messages[0]
    assert message["To"] == HEAD and "self-service in" in message["Subject"]
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in message.walk()
                   if part.get_filename()}
    assert set(attachments) == {f"bronco-report-{this_month.key}.pdf",
                                f"bronco-report-{this_month.key}.csv"}
    assert attachments[f"bronco-report-{this_month.key}.csv"].decode() == table

    # Rendered and read back as a person would: one page, the month's own figures, nobody named.
    saved = artifacts / "monthly-report.pdf"
    saved.write_bytes(attachments[f"bronco-report-{this_month.key}.pdf"])
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(saved),
                    str(artifacts / "monthly-report")], check=True)
    assert (artifacts / "monthly-report.png").stat().st_size > 10_000
    info = subprocess.run(["pdfinfo", str(saved)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)
    text = subprocess.run(["pdftotext", "-layout", str(saved), "-"], capture_output=True, text=True,
                          check=True).stdout
    lines = {" ".join(line.split()[:-1]): line.split()[-1] for line in text.splitlines()
             if line.strip() and len(line.split()) > 1}
    assert lines["Checkouts"] == "3" and lines["Returns"] == "1" and lines["Kiosk sessions"] == "1"
    assert "Checkouts and returns by day" in text and "Demo University Library" in text
    for secret in (MARIA, "María", "Núñez", *BOOKS):
        assert secret not in text
