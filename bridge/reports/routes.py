"""The monthly report, sent by hand from the console (the schedule sends it by itself)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from bridge.access.staff_routes import Staff, require_staff
from bridge.dependencies import StationDep
from bridge.notices import Notifier
from bridge.reports import monthly_report
from bridge.reports.monthly_report import Month

router = APIRouter(prefix="/api/v1/staff", tags=["reports"], dependencies=[Depends(require_staff)])


class MonthIn(BaseModel):
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


@router.post("/reports/monthly/send")
async def send_monthly(body: MonthIn, station: StationDep, staff: Staff) -> dict[str, Any]:
    """E-mail a month's report now to the profile's recipients (as the schedule would)."""
    recipients = station.profile.statistics.monthly_recipients
    if not recipients:
        raise HTTPException(409, "no recipients: set statistics.monthly_recipients in the profile")
    try:
        month = Month.parse(body.month)
        await monthly_report.send(station.profile, station.stats, month,
                                  Notifier(station.profile.notices), recipients)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    except OSError as exc:
        raise HTTPException(502, f"the mail server is not reachable: {exc}") from None
    station.auth.audit(staff.username, "report_sent", month.key, f"by hand, to {len(recipients)}")
    return {"sent": True, "month": month.key, "recipients": len(recipients)}
