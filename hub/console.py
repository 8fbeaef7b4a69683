"""The hub console: the desk for every station, in the station console's look. Reading needs the
session cookie; every change goes through the hub API with the session's CSRF token (the pages
carry it in a meta tag). The sign-in form has its own double-submit token, so no other site can
sign a browser in, and failed sign-ins are limited per name and per address (hub/staff.py)."""

from __future__ import annotations

import functools
import re
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub import alerts, charts, fleet, rollouts, staff, stats, views
from hub.models import HubStation
from hub.profile import HubProfile
from station_core.console_look import LOOK
from station_core.vocabulary import DOOR_STATES, METRIC_LABELS, REFUSAL_LABELS, TRANSACTION_KINDS

HERE = Path(__file__).parent
SESSION_COOKIE = "bronco_hub_session"
LOGIN_CSRF = "bronco_hub_login_csrf"
look = StaticFiles(directory=str(LOOK))
static = StaticFiles(directory=str(HERE / "static"))
console_router = APIRouter(prefix="/console", include_in_schema=False)


class SignedOut(Exception):
    pass


@functools.cache
def _templates() -> Any:
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=[HERE / "templates", LOOK / "templates"])


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _profile(request: Request) -> HubProfile:
    return request.app.state.profile


def _signed_in(request: Request) -> tuple[str, str, str]:
    found = staff.session_for(_engine(request), _profile(request).console,
                              request.cookies.get(SESSION_COOKIE, ""))
    if found is None:
        raise SignedOut()
    return found


def _when(zone: str) -> Any:
    def shown(iso: str | None) -> str:
        if not iso:
            return "never"
        return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime("%-d %b %H:%M")
    return shown


def ago(seconds: int | None) -> str:
    if seconds is None:
        return "never"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{max(0, seconds)} s ago"


def number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def _page(request: Request, name: str, page: str, title: str, **context: Any) -> HTMLResponse:
    username, role, csrf = _signed_in(request)
    return _templates().TemplateResponse(request, name, {
        "user": username, "role": role, "csrf_token": csrf, "page": page, "title": title,
        "when": _when(_profile(request).hub.timezone), "ago": ago, **context})


def _login_page(request: Request, error: str = "", status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = _templates().TemplateResponse(request, "signin.html", {
        "login_csrf": token, "error": error, "product": "Bronco Hub",
        "subtitle": "Every station's desk"}, status_code=status_code)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path="/console")
    return response


@console_router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@console_router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)],
          csrf_token: Annotated[str, Form()] = "") -> Response:
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_page(request, "The form expired: please sign in again.", 403)
    # The connection's own address: a forwarded header is a client's claim, not proof.
    client = request.client.host if request.client else "unknown"
    try:
        signed = staff.sign_in(_engine(request), _profile(request).console, username, password,
                               client)
    except fleet.FleetError as exc:
        return _login_page(request, str(exc).capitalize() + ".", exc.status)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(SESSION_COOKIE, signed.session, max_age=signed.expires_in_s,
                        httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        path="/")
    response.delete_cookie(LOGIN_CSRF, path="/console")
    return response


@console_router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    _username, _role, csrf = _signed_in(request)
    if not secrets.compare_digest(csrf.encode(), csrf_token.encode()):
        raise HTTPException(403, "missing or wrong CSRF token")
    staff.sign_out(_engine(request), request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@console_router.get("")
def stations_page(request: Request) -> HTMLResponse:
    rows = views.station_rows(_engine(request), _profile(request).alerts.station_offline_s)
    return _page(request, "stations.html", "stations", "Stations", stations=rows)


def _banks(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as db:
        return [(s.id, s.branch) for s in db.exec(
            select(HubStation).where(col(HubStation.revoked_at).is_(None),
                                     col(HubStation.token_digest).is_not(None))
            .order_by(col(HubStation.branch), col(HubStation.id)))]


@console_router.get("/lockers")
def lockers_page(request: Request) -> HTMLResponse:
    return _page(request, "lockers.html", "lockers", "Locker banks", banks=_banks(_engine(request)),
                 door_states=DOOR_STATES)


@console_router.get("/queue")
def queue_page(request: Request) -> HTMLResponse:
    engine = _engine(request)
    found = [views.bank(engine, sid) | {"branch": branch} for sid, branch in _banks(engine)]
    return _page(request, "queue.html", "queue", "Queue exceptions", banks=found,
                 kinds=TRANSACTION_KINDS)


@console_router.get("/alerts")
def alerts_page(request: Request) -> HTMLResponse:
    history = alerts.history(_engine(request))
    return _page(request, "alerts.html", "alerts", "Alerts", alerts=history,
                 open_count=sum(1 for a in history if not a.get("resolved_at")))


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or date.today()
    if not (2000 <= end.year <= 2200 and (start is None or 2000 <= start.year <= 2200)):
        raise HTTPException(422, "dates from 2000 to 2200 only")
    start = start or end - timedelta(days=29)
    if start > end or (end - start).days > 3660:
        raise HTTPException(422, "'from' must not be after 'to', and at most ten years")
    return start, end


def _branches(engine: Engine) -> list[str]:
    with Session(engine) as db:
        return sorted({b for b in db.exec(select(HubStation.branch)) if b})


@console_router.get("/stats")
def stats_page(request: Request, start: Annotated[date | None, Query(alias="from")] = None,
               end: Annotated[date | None, Query(alias="to")] = None,
               branch: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    _signed_in(request)
    first, last = _range(start, end)
    engine = _engine(request)
    report = stats.report(engine, first, last, tz=_profile(request).hub.timezone, branch=branch)
    drawn = charts.charts(report)
    return _page(request, "stats.html", "stats", "Statistics", report=report, charts=drawn,
                 number=number, percent=lambda v: f"{v * 100:.1f} %",
                 charts_json=[c.as_json() for c in drawn if not c.empty], labels=METRIC_LABELS,
                 refusals=REFUSAL_LABELS, branches=_branches(engine), branch=branch)


@console_router.get("/stats.csv")
def stats_csv(request: Request, start: Annotated[date | None, Query(alias="from")] = None,
              end: Annotated[date | None, Query(alias="to")] = None,
              branch: Annotated[str, Query(max_length=64)] = "") -> Response:
    _signed_in(request)
    first, last = _range(start, end)
    report = stats.report(_engine(request), first, last, tz=_profile(request).hub.timezone,
                          branch=branch)
    # The branch is typed by anyone signed in: only letters, digits, - and _ reach the header.
    safe_branch = re.sub(r"[^A-Za-z0-9_-]+", "_", branch)[:40] or "all"
    name = f"bronco-fleet-{safe_branch}-{first}-{last}.csv"
    return Response(stats.as_csv(report), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@console_router.get("/releases")
def releases_page(request: Request) -> HTMLResponse:
    engine = _engine(request)
    return _page(request, "releases.html", "releases", "Releases",
                 releases=rollouts.releases(engine), rollouts=rollouts.recent(engine),
                 stations=views.station_rows(engine, _profile(request).alerts.station_offline_s),
                 branches=_branches(engine))


@console_router.get("/audit")
def audit_page(request: Request) -> HTMLResponse:
    _username, role, _csrf = _signed_in(request)
    if role != "admin":
        raise HTTPException(403, "the audit log is for hub admins")
    return _page(request, "audit.html", "audit", "Audit log",
                 entries=fleet.audit_log(_engine(request)))
