"""`bronco setup --web`: the same setup steps as a page of the staff console, for a station that
has no profile yet (the installer starts it then, as `bronco-setup.service`).

Who may use it: anyone on the machine itself (loopback), or someone who types the one-time code
the installer printed. Wrong codes are counted in a file beside the code: after MAX_WRONG_CODES the
code is void for good (the installer makes a new one), however many addresses try; loopback still
works, so guessing locks no one at the Pi out. Every value shown back is escaped (Jinja2
autoescape), and the page sends the consoles' strict CSP.
"""

from __future__ import annotations

import contextlib
import fcntl
import hmac
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, select_autoescape
from pydantic import ValidationError

from bronco.setup.answers import Answers
from bronco.setup.wizard import QuietUi, SetupRefused, SetupResult, Targets, run_setup
from station_core.console_look import LOOK
from station_core.console_look.headers import ConsoleHeaders
from station_core.durable_files import write_durably
from station_core.peers import peer_group

MAX_WRONG_CODES = 10
COOKIE = "bronco_setup"
DIALECTS = ["generic", "alma", "koha", "evergreen", "folio", "sierra", "polaris"]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bronco Station setup</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/console/look/console.css"></head>
<body><main class="page">
<h1>Bronco Station setup</h1>
{% if error %}<p class="message error" role="alert">{{ error }}</p>{% endif %}
{% if done %}
  <h2>Saved</h2><ul>{% for line in done %}<li>{{ line }}</li>{% endfor %}</ul>
  <p>The station starts now; this page stops. Sign in to the staff console in a minute.</p>
{% elif need_code %}
  <form method="post" action="/console/setup/code">
    <label>One-time code printed by the installer <input name="code" autocomplete="off" required></label>
    <button type="submit">Continue</button>
  </form>
{% else %}
<form method="post" action="/console/setup">
<input type="hidden" name="csrf" value="{{ csrf }}">
<fieldset><legend>Library and station</legend>
 <label>Library name <input name="library_name" value="{{ v.library_name }}" required></label>
 <label>Institution id (SIP2 AO) <input name="institution_id" value="{{ v.institution_id }}" required></label>
 <label>Station id <input name="station_id" value="{{ v.station_id }}" required
   pattern="[a-z0-9][a-z0-9-]*"></label>
 <label>Station name <input name="station_name" value="{{ v.station_name }}"></label>
 <label>Location code <input name="location_code" value="{{ v.location_code }}" required></label>
 <label><input type="checkbox" name="kiosk" {% if v.kiosk %}checked{% endif %}>
   A touchscreen kiosk on this Pi</label>
 <label><input type="checkbox" name="lockers" {% if v.lockers %}checked{% endif %}>
   A locker bank on this Pi</label>
</fieldset>
<fieldset><legend>ILS (the login is tried before anything is saved)</legend>
 <label>Host <input name="ils_host" value="{{ v.ils_host }}" required></label>
 <label>Port <input name="ils_port" type="number" value="{{ v.ils_port }}" required></label>
 <label><input type="checkbox" name="ils_tls" {% if v.ils_tls %}checked{% endif %}> TLS</label>
 <label>SIP2 user <input name="login_user" value="{{ v.login_user }}"></label>
 <label>SIP2 location <input name="login_location" value="{{ v.login_location }}"></label>
 <label>SIP2 password <input name="password" type="password" autocomplete="off"></label>
 <label>ILS <select name="dialect">{% for d in dialects %}
   <option {% if d == v.dialect %}selected{% endif %}>{{ d }}</option>{% endfor %}</select></label>
</fieldset>
<fieldset><legend>Devices</legend>
 <label><input type="checkbox" name="simulated" {% if v.simulated %}checked{% endif %}>
   Simulated devices (a demo)</label>
 <label>Serial ports to ask (empty: every port) <input name="ports" value="{{ v.ports }}"></label>
 <label>Kerong addresses <input name="kerong_addresses" value="{{ v.kerong_addresses }}"></label>
 <label>Doors in each column <input name="rows" type="number" value="{{ v.rows }}"></label>
 <label>Size of each row, top first <input name="sizes_by_row" value="{{ v.sizes_by_row }}"></label>
 <label>Rows a wheelchair user reaches <input name="accessible_rows" value="{{ v.accessible_rows }}"></label>
</fieldset>
<fieldset><legend>First staff admin, hub</legend>
 <label>Admin user name <input name="admin" value="{{ v.admin }}"></label>
 <label>Admin password (10+ characters)
   <input name="admin_password" type="password" autocomplete="off"></label>
 <label>Hub URL <input name="hub_url" value="{{ v.hub_url }}"></label>
 <label>Hub enrolment code <input name="hub_code" autocomplete="off"></label>
</fieldset>
<button type="submit">Check and save</button>
</form>
{% endif %}
</main></body></html>
"""

DEFAULTS: dict[str, Any] = {
    "library_name": "", "institution_id": "", "station_id": "station-1", "station_name": "",
    "location_code": "", "kiosk": True, "lockers": False, "ils_host": "", "ils_port": 6001,
    "ils_tls": True, "login_user": "", "login_location": "", "dialect": "generic",
    "simulated": False, "ports": "", "kerong_addresses": "0 1 2 3", "rows": 4,
    "sizes_by_row": "", "accessible_rows": "", "admin": "", "hub_url": "",
}


class CodeBook:
    """The installer's one-time code and the wrong tries against it, both in files (a restart of
    the setup service does not give guessers a fresh budget)."""

    def __init__(self, code_file: Path | None) -> None:
        self.code_file = code_file
        self.failures = code_file.with_name(code_file.name + ".wrong") if code_file else None
        self._lock = threading.Lock()

    def _wrong(self) -> int:
        if self.failures is None or not self.failures.exists():
            return 0
        return int(self.failures.read_text().strip() or 0)

    def check(self, given: str) -> bool:
        """One try, counted before it is compared (many at once cannot outrun the limit)."""
        if self.code_file is None or not self.code_file.exists():
            return False
        with self._lock, self._file_lock():
            wrong = self._wrong()
            if wrong >= MAX_WRONG_CODES:
                return False
            expected = self.code_file.read_text().strip()
            assert self.failures is not None
            write_durably(self.failures, f"{wrong + 1}\n".encode())
            if expected and hmac.compare_digest(given.strip().upper().encode(), expected.upper().encode()):
                write_durably(self.failures, f"{wrong}\n".encode())
                return True
            return False

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Across processes too: a second setup page on the same code shares its budget."""
        assert self.code_file is not None
        with open(self.code_file.with_name(self.code_file.name + ".lock"), "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @property
    def void(self) -> bool:
        return self._wrong() >= MAX_WRONG_CODES


def _numbers(text: str) -> list[int]:
    return [int(x) for x in text.replace(",", " ").split() if x.isdigit()]


def answers_from_form(form: dict[str, Any]) -> Answers:
    def flag(name: str) -> bool:
        return form.get(name) in ("on", "true", "1", True)

    return Answers.model_validate({
        "library": {"name": form.get("library_name", ""), "institution_id": form.get("institution_id", "")},
        "station": {"id": form.get("station_id", ""), "name": form.get("station_name", ""),
                    "location_code": form.get("location_code", ""), "kiosk": flag("kiosk"),
                    "lockers": flag("lockers")},
        "ils": {"host": form.get("ils_host", ""), "port": form.get("ils_port") or 0,
                "tls": flag("ils_tls"), "login_user": form.get("login_user", ""),
                "login_location": form.get("login_location", ""), "password": form.get("password", ""),
                "dialect": form.get("dialect", "generic")},
        "devices": {"simulated": flag("simulated"), "ports": str(form.get("ports", "")).split(),
                    "kerong_addresses": _numbers(str(form.get("kerong_addresses", ""))) or [0, 1, 2, 3]},
        "doors": {"rows": form.get("rows") or 4,
                  "sizes_by_row": str(form.get("sizes_by_row", "")).split(),
                  "accessible_rows": _numbers(str(form.get("accessible_rows", "")))},
        "staff": {"admin": form.get("admin", ""), "password": form.get("admin_password", "")},
        "hub": {"url": form.get("hub_url", ""), "code": form.get("hub_code", "")},
    })


def setup_app(targets: Targets, code_file: Path | None,
              on_done: Callable[[SetupResult], None]) -> Any:
    """The setup page; `on_done` is called once a profile is saved (the service then stops and
    starts the station)."""
    app = FastAPI(title="Bronco Station setup", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/console/look", StaticFiles(directory=LOOK), name="look")
    page = Environment(autoescape=select_autoescape(default=True)).from_string(PAGE)
    codes = CodeBook(code_file)
    sessions: set[str] = set()
    csrf = secrets.token_urlsafe(24)
    busy = threading.Lock()  # one setup at a time: two would probe the same ports

    def allowed(request: Request) -> bool:
        host = request.client.host if request.client else None
        return peer_group(host) == "loopback" or request.cookies.get(COOKIE, "") in sessions

    def render(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
        values = {**DEFAULTS, **context.pop("values", {})}
        return HTMLResponse(page.render(v=values, dialects=DIALECTS, csrf=csrf,
                                        need_code=not allowed(request), **context), status_code=status)

    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/console/setup", status_code=303)

    @app.get("/console/setup")
    def form(request: Request) -> HTMLResponse:
        return render(request)

    @app.post("/console/setup/code")
    def code(request: Request, code: str = Form("")) -> Response:
        if codes.check(code):
            token = secrets.token_urlsafe(32)
            sessions.add(token)
            reply = RedirectResponse("/console/setup", status_code=303)
            reply.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return reply
        said = ("That code has been tried too often and no longer works: run the installer again "
                "for a new one, or set up from the Pi itself." if codes.void else "Wrong code.")
        return render(request, status=403, error=said)

    @app.post("/console/setup")
    async def save(request: Request) -> HTMLResponse:
        if not allowed(request):
            return render(request, status=403, error="Enter the one-time code first.")
        form_data = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        shown = {k: v for k, v in form_data.items() if k not in ("password", "admin_password", "hub_code")}
        for box in ("kiosk", "lockers", "ils_tls", "simulated"):
            shown[box] = box in form_data
        if not hmac.compare_digest(form_data.get("csrf", ""), csrf):
            return render(request, status=403, error="This form is out of date: reload the page.",
                          values=shown)
        try:
            answers = answers_from_form(form_data)
        except ValidationError as exc:
            said = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return render(request, status=422, error=said, values=shown)
        if not busy.acquire(blocking=False):
            return render(request, status=409, error="A setup is already running.", values=shown)
        try:
            result = await run_setup(answers, QuietUi(lambda _text: None), targets)
        except SetupRefused as exc:
            return render(request, status=422, error=str(exc), values=shown)
        finally:
            busy.release()
        on_done(result)
        return render(request, done=result.done)

    return ConsoleHeaders(app)
