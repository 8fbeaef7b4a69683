"""Console pages. Reading needs the staff session cookie; every change goes through the staff API
with the session's CSRF token (the pages carry it in a meta tag). The login form has its own
double-submit CSRF token, so no other site can sign a browser in."""

from __future__ import annotations

import functools
import secrets
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bridge.replay_report import shown
from bridge.routes.ils_events import holds as ils_holds
from bridge.routes.staff import COOKIE, StaffIdentity, perform_login, require_staff
from bridge.station import Station
from bridge.stats import METRICS

HERE = Path(__file__).parent


@functools.cache
def _templates() -> Any:
    """Jinja2 loads with the first console page, not in every station that never shows one."""
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=str(HERE / "templates"))
static = StaticFiles(directory=str(HERE / "static"))
router = APIRouter(prefix="/console", include_in_schema=False)
LOGIN_CSRF = "bronco_login_csrf"
LABELS = {
    "checkouts": "Checkouts", "returns": "Returns", "renewals": "Renewals",
    "kiosk_sessions": "Kiosk sessions", "locker_loaded": "Holds loaded into lockers",
    "locker_picked_up": "Locker pickups", "locker_expired": "Locker holds expired",
    "offline_minutes": "Minutes offline",
}


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
        "station_name": station.profile.station.name or station.profile.station.id, **context,
    })


def login_page(request: Request, error: str = "", status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = _templates().TemplateResponse(request, "login.html", {
        "login_csrf": token, "error": error,
        "station_name": _station(request).profile.station.name,
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
        require_staff(request, authorization=None, x_csrf_token=csrf_token)
    except HTTPException as exc:
        if exc.status_code == 401:
            raise SignedOut() from None
        raise
    _station(request).auth.revoke(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("")
async def lockers(request: Request) -> HTMLResponse:
    _staff(request)
    return _page(request, "lockers.html", "lockers", "Lockers",
                 holds=await ils_holds(_station(request)))


@router.get("/queue")
async def queue(request: Request) -> HTMLResponse:
    station = _station(request)
    status = station.journal.status()
    runs = station.replayer.reports.runs(10)
    latest = [shown(line) for line in station.replayer.reports.lines(runs[0].id or 0)] if runs else []
    return _page(request, "queue.html", "queue", "Queue", exceptions=station.journal.exceptions(),
                 runs=runs, latest=latest,
                 queue={"ils_online": station.link.online, "pending": status.pending,
                        "in_doubt": status.in_doubt, "last_sync": status.last_sync,
                        "offline_checkouts_pending": status.offline_checkouts_pending})


@router.get("/health")
async def health(request: Request) -> HTMLResponse:
    station = _station(request)
    now = time.time()
    kiosks = [{"id": k, "alive": now - v["last_seen"] < 30, "ago": int(now - v["last_seen"]),
               "screen": v.get("screen", "")} for k, v in sorted(station.kiosks.items())]
    return _page(request, "health.html", "health", "Health", health=station.health(), kiosks=kiosks,
                 enrolled=station.kiosk_registry.all(), locked=station.attempts.locked("card"),
                 tls_fingerprint=station.tls_fingerprint)


def _bars(title: str, labels: list[str], series: list[list[float]]) -> dict[str, str]:
    """A small inline SVG bar chart (one or two series side by side)."""
    width, height, pad = 760, 180, 24
    top = max([v for values in series for v in values] + [1])
    slot = (width - pad) / max(len(labels), 1)
    bar = slot / (len(series) + 1)
    parts = [f'<svg viewBox="0 0 {width} {height + 30}" role="img" aria-label="{title}">']
    for s, values in enumerate(series):
        for i, value in enumerate(values):
            h = (height - pad) * value / top
            x = pad + i * slot + s * bar
            parts.append(f'<rect class="{"second" if s else "first"}" x="{x:.1f}" y="{height - h:.1f}" '
                         f'width="{bar:.1f}" height="{h:.1f}"><title>{labels[i]}: {value:g}</title></rect>')
    step = max(1, len(labels) // 12)
    parts += [f'<text x="{pad + i * slot:.1f}" y="{height + 14}">{label}</text>'
              for i, label in enumerate(labels) if i % step == 0]
    parts.append(f'<text x="0" y="12">{top:g}</text></svg>')
    return {"title": title, "svg": "".join(parts)}


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or date.today()
    start = start or end - timedelta(days=29)
    if start > end:
        raise HTTPException(422, "'from' must not be after 'to'")
    if (end - start).days > 3660:
        raise HTTPException(422, "at most ten years at a time")
    return start, end


@router.get("/stats")
async def stats(request: Request, start: Annotated[date | None, Query(alias="from")] = None,
                end: Annotated[date | None, Query(alias="to")] = None) -> HTMLResponse:
    first, last = _range(start, end)
    report = _station(request).stats.report(first, last)
    hours = [str(h) for h in range(24)]
    by_hour = report["by_hour"]
    days = list(report["by_day"])
    charts = [
        _bars("Checkouts (green) and returns (gold) by hour of day", hours,
              [[by_hour[h].get("checkouts", 0) for h in range(24)],
               [by_hour[h].get("returns", 0) for h in range(24)]]),
        _bars("Checkouts (green) and returns (gold) by day", [d[5:] for d in days],
              [[report["by_day"][d].get("checkouts", 0) for d in days],
               [report["by_day"][d].get("returns", 0) for d in days]]),
        _bars("Kiosk sessions (green) and locker pickups (gold) by day", [d[5:] for d in days],
              [[report["by_day"][d].get("kiosk_sessions", 0) for d in days],
               [report["by_day"][d].get("locker_picked_up", 0) for d in days]]),
    ]
    return _page(request, "stats.html", "stats", "Statistics", report=report, charts=charts,
                 labels=LABELS, metrics=METRICS)


@router.get("/stats.csv")
async def stats_csv(request: Request, start: Annotated[date | None, Query(alias="from")] = None,
                    end: Annotated[date | None, Query(alias="to")] = None) -> Response:
    _staff(request)
    first, last = _range(start, end)
    body = _station(request).stats.csv(first, last)
    name = f"bronco-statistics-{first}-{last}.csv"
    return Response(body, media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/audit")
async def audit(request: Request) -> HTMLResponse:
    return _page(request, "audit.html", "audit", "Audit log",
                 entries=_station(request).auth.audit_entries(200))
