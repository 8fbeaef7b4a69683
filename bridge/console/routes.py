"""Console pages. Reading needs the staff session cookie; every change goes through the staff API
with the session's CSRF token (the pages carry it in a meta tag). The login form has its own
double-submit CSRF token, so no other site can sign a browser in."""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bridge.access.staff_routes import COOKIE, StaffIdentity, perform_login, require_staff
from bridge.circulation.replay_report import shown
from bridge.lockers.hold_routes import holds as ils_holds
from bridge.reports.charts import SIZES, charts
from bridge.reports.formatting import Formats
from bridge.reports.monthly_report import Month, build_csv, build_pdf
from bridge.reports.staff_wording import staff_reason
from bridge.reports.stats import METRICS
from bridge.returns.routes import line_state
from station_core.console_look import LOOK
from station_core.vocabulary import (
    BOOK_DROP_PROBLEMS,
    DOOR_STATES,
    METRIC_LABELS,
    TRANSACTION_KINDS,
    audit_action,
)

if TYPE_CHECKING:  # the station imports this module: no import back at run time
    from bridge.station import Station

HERE = Path(__file__).parent


@functools.cache
def _templates() -> Any:
    """Jinja2 loads with the first console page, not in every station that never shows one."""
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=[HERE / "templates", LOOK / "templates"])
static = StaticFiles(directory=str(HERE / "static"))
look = StaticFiles(directory=str(LOOK))  # shared with the hub's console
router = APIRouter(prefix="/console", include_in_schema=False)
LOGIN_CSRF = "bronco_login_csrf"


class SignedOut(Exception):
    pass


def _station(request: Request) -> Station:
    return request.app.state.station


def _staff(request: Request) -> StaffIdentity:
    try:
        return require_staff(request, authorization=None, x_csrf_token=None)
    except HTTPException:
        raise SignedOut() from None


def _page(request: Request, name: str, page: str, title: str, **context: Any) -> HTMLResponse:
    staff = _staff(request)
    station = _station(request)
    return _templates().TemplateResponse(request, name, {
        "staff": staff, "csrf_token": staff.csrf_token, "page": page, "title": title,
        "station_name": station.profile.station.name or station.profile.station.id,
        "fmt": Formats(station.profile.station.locale),
        "has_returns": bool(station.profile.returns.bins),
        "has_lockers": bool(station.profile.doors) or not station.profile.returns.bins, **context,
    })


def login_page(request: Request, error: str = "", status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = _templates().TemplateResponse(request, "signin.html", {
        "login_csrf": token, "error": error, "product": "Bronco Station",
        "subtitle": _station(request).profile.station.name,
    }, status_code=status_code)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path="/console")
    return response


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return login_page(request)


@router.post("/login")
async def login(
    request: Request, username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)], csrf_token: Annotated[str, Form()] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return login_page(request, "The form expired: please sign in again.", 403)
    response = RedirectResponse("/console", status_code=303)
    try:
        await perform_login(_station(request), request, response, username, password)
    except HTTPException as exc:
        return login_page(request, str(exc.detail).capitalize() + ".", exc.status_code)
    response.delete_cookie(LOGIN_CSRF, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    try:  # the form's token stands in for the header a script would send
        staff = require_staff(request, authorization=None, x_csrf_token=csrf_token)
    except HTTPException as exc:
        if exc.status_code == 401:
            raise SignedOut() from None
        raise
    _station(request).auth.revoke(request.cookies.get(COOKIE, ""))
    _station(request).auth.audit(staff.username, "logout")
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("", response_model=None)
async def lockers(request: Request) -> HTMLResponse | RedirectResponse:
    _staff(request)
    profile = _station(request).profile
    if not profile.doors and profile.returns.bins:  # a book drop with no lockers: its own page
        return RedirectResponse("/console/returns", status_code=303)
    return _page(request, "lockers.html", "lockers", "Lockers",
                 holds=await ils_holds(_station(request)), door_states=DOOR_STATES,
                 calendar=_station(request).calendar.status())


@router.get("/queue")
async def queue(request: Request) -> HTMLResponse:
    station = _station(request)
    status = station.journal.status()
    runs = station.replayer.reports.runs(10)
    latest = [shown(line) for line in station.replayer.reports.lines(runs[0].id or 0)] if runs else []
    return _page(request, "queue.html", "queue", "Queue", exceptions=station.journal.exceptions(),
                 runs=runs, latest=latest, kinds=TRANSACTION_KINDS, staff_reason=staff_reason,
                 queue={"ils_online": station.link.online, "pending": status.pending,
                        "in_doubt": status.in_doubt, "last_sync": status.last_sync,
                        "offline_checkouts_pending": status.offline_checkouts_pending})


@router.get("/tags")
async def tags(request: Request) -> HTMLResponse:
    station = _station(request)
    pads = list(station.tagging.readers)
    scheme = station.tagging.plan_scheme(pads[0]) if pads else ""
    today = date.today()
    return _page(request, "tags.html", "tags", "Tags", pads=pads, scheme=scheme,
                 owner=station.profile.tagging.owner_library,
                 converted=station.tagging.converted(today - timedelta(days=29), today))


RETURNS_STATES = {"idle": "Waiting for items", "running": "Running", "jammed": "Jammed",
                  "stopped": "Emergency stop", "bin_full": "A bin is full",
                  "unreachable": "The sorter does not answer"}
RETURNS_CLEAR = {
    "jammed": "Open the belt's cover, free the item (it stays on the belt and goes on in order, "
              "as do the items behind it), close the cover and press Resume.",
    "stopped": "Find out why the emergency stop was pressed, release it, then press Resume.",
    "bin_full": "Empty the bin and press its \"Bin emptied\": the belt goes on by itself once "
                "the full sensor clears.",
    "unreachable": "Check the sorter's power and its network or serial cable; the station keeps "
                   "trying. Items wait in the slot meanwhile.",
}
TAKES = {"problem": "Problems", "hold": "Holds for patrons here", "transit": "In transit",
         "sort_bin": "The ILS's sort bin", "media_type": "Media type",
         "collection": "Collection", "everything_else": "Everything else"}


@router.get("/returns")
async def returns(request: Request) -> HTMLResponse:
    _staff(request)
    station = _station(request)
    if not station.profile.returns.bins:
        raise HTTPException(404, "this station has no return line")
    return _page(request, "returns.html", "returns", "Returns", line=line_state(station),
                 states=RETURNS_STATES, clear=RETURNS_CLEAR, takes=TAKES)


@router.get("/health")
async def health(request: Request) -> HTMLResponse:
    station = _station(request)
    now = time.time()
    kiosks = [{"id": k, "alive": now - v["last_seen"] < 30, "ago": int(now - v["last_seen"]),
               "screen": v.get("screen", "")} for k, v in sorted(station.kiosks.items())]
    return _page(request, "health.html", "health", "Health", health=station.health(), kiosks=kiosks,
                 enrolled=station.kiosk_registry.all(), locked=station.attempts.locked("card"),
                 tls_fingerprint=station.tls_fingerprint)


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or date.today()
    if not (2000 <= end.year <= 2200 and (start is None or 2000 <= start.year <= 2200)):
        raise HTTPException(422, "dates from 2000 to 2200 only")
    start = start or end - timedelta(days=29)
    if start > end:
        raise HTTPException(422, "'from' must not be after 'to'")
    if (end - start).days > 3660:
        raise HTTPException(422, "at most ten years at a time")
    return start, end


@router.get("/stats")
async def stats(request: Request, start: Annotated[date | None, Query(alias="from")] = None,
                end: Annotated[date | None, Query(alias="to")] = None) -> HTMLResponse:
    _staff(request)
    station = _station(request)
    first, last = _range(start, end)
    if station.lockers is not None:
        station.lockers.sample_usage()  # the door-minutes up to now, not to the last sample
    report = station.stats.report(first, last)
    fmt = Formats(station.profile.station.locale)
    drawn = charts(report, fmt)
    return _page(request, "stats.html", "stats", "Statistics", report=report, charts=drawn,
                 charts_json=[c.as_json() for c in drawn if not c.empty], labels=METRIC_LABELS,
                 metrics=METRICS, sizes=SIZES, first=first, last=last,
                 converted=station.tagging.converted(first, last),
                 bins=sorted(station.profile.returns.bins, key=lambda r: r.bin),
                 problem_labels=BOOK_DROP_PROBLEMS)


@router.get("/stats.csv")
async def stats_csv(request: Request, start: Annotated[date | None, Query(alias="from")] = None,
                    end: Annotated[date | None, Query(alias="to")] = None) -> Response:
    _staff(request)
    first, last = _range(start, end)
    body = _station(request).stats.csv(first, last)
    name = f"bronco-statistics-{first}-{last}.csv"
    return Response(body, media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _month(text: str | None) -> Month:
    if not text:
        return Month.before(date.today())
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/reports/monthly.pdf")
async def monthly_pdf(request: Request, month: str | None = None) -> Response:
    """The month's one-page report (default: last month), made now."""
    _staff(request)
    chosen = _month(month)
    station = _station(request)
    body = await asyncio.to_thread(build_pdf, station.profile, station.stats, chosen)
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="bronco-report-{chosen.key}.pdf"'})


@router.get("/reports/monthly.csv")
async def monthly_csv(request: Request, month: str | None = None) -> Response:
    _staff(request)
    chosen = _month(month)
    body = build_csv(_station(request).stats, chosen)
    return Response(body, media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="bronco-report-{chosen.key}.csv"'})


@router.get("/audit")
async def audit(request: Request) -> HTMLResponse:
    return _page(request, "audit.html", "audit", "Audit log",
                 entries=_station(request).auth.audit_entries(200), action_label=audit_action)
