// The staff console's behaviour: calls the staff API with the session's CSRF token and keeps the
// locker grid live from the station's event stream.
"use strict";
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

function say(text, ok = true) {
  const box = document.getElementById("message");
  if (!box) return;
  box.textContent = text;
  box.className = ok ? "ok" : "bad";
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) { window.location = "/console/login"; throw new Error("signed out"); }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : "refused (" + response.status + ")";
    throw new Error(detail);
  }
  return data;
}

// -- locker grid --------------------------------------------------------------------------------
let doors = [];
async function refreshGrid() {
  const grid = document.getElementById("grid");
  if (!grid) return;
  doors = await api("GET", "/api/v1/staff/lockers");
  grid.replaceChildren(...doors.map(d => {
    const cell = document.createElement("div");
    cell.className = "door " + d.state + (d.alarm ? " alarm" : "");
    cell.tabIndex = 0;
    cell.dataset.door = d.door_id;
    cell.dataset.state = d.state;
    const marks = (d.accessible ? " ♿" : "") + (d.charging ? " ⚡" : "");
    const expires = d.expires_at ? "until " + new Date(d.expires_at).toLocaleDateString() : "";
    cell.innerHTML = `<div class="id">${d.door_id}${marks}</div>
      <div class="meta">${d.size} · ${d.state.replace("_", " ")}</div>
      <div class="who">${d.initials || ""}</div>
      <div class="meta">${d.items ? d.items + " item(s) " : ""}${expires}</div>
      ${d.alarm ? `<div class="alarm-text">⚠ ${d.alarm.replace("_", " ")}</div>` : ""}
      ${d.sensor === "unsensed" ? `<div class="meta">no door sensor</div>` : ""}`;
    cell.addEventListener("click", () => openDialog(d));
    cell.addEventListener("keydown", e => { if (e.key === "Enter") openDialog(d); });
    return cell;
  }));
}

// What the door switch says, in staff words; "unsensed" doors have no switch the board can read.
const SENSOR_WORDS = { open: "door open", closed: "door closed", unknown: "sensor not answering",
                       unsensed: "no door sensor: opens cannot be confirmed" };
function sensorWords(sensor) { return SENSOR_WORDS[sensor] || sensor; }

function openDialog(door) {
  const dialog = document.getElementById("door-dialog");
  document.getElementById("door-title").textContent = "Door " + door.door_id;
  document.getElementById("door-detail").textContent =
    `${door.size}, ${door.state.replace("_", " ")}, ${sensorWords(door.sensor)}` +
    (door.alarm ? `, alarm: ${door.alarm}` : "") + (door.note ? ` — ${door.note}` : "");
  document.getElementById("door-reason").value = "";
  dialog.dataset.door = door.door_id;
  dialog.dataset.state = door.state;
  dialog.showModal();
}

async function doorAction(action, doorId, state) {
  const base = `/api/v1/staff/lockers/${doorId}`;
  if (action === "open") {
    const reason = document.getElementById("door-reason").value.trim();
    if (reason.length < 3) { say("Opening a door needs a reason.", false); return; }
    const r = await api("POST", base + "/open", { reason });
    const unseen = r.outcome === "not_confirmed" ? " (this door has no sensor: check it by eye)" : "";
    say(`Door ${doorId}: ${r.outcome.replace(/_/g, " ")}${unseen}`, r.outcome === "opened");
  } else if (action === "reclaim") {
    const r = await api("POST", base + "/reclaim");
    say(`Door ${doorId} reclaimed: ${r.checked_in.length} item(s) checked in`);
  } else if (action === "move") {
    const r = await api("POST", base + "/move", {});
    say(`Moved ${r.from} to ${r.to}`);
  } else if (action === "cancel") {
    await api("POST", base + "/cancel");
    say(`Assignment in ${doorId} cancelled: take the items to the hold shelf`);
  } else if (action === "service") {
    const out = state !== "out_of_service";
    await api("POST", base + "/service", { out_of_service: out, note: document.getElementById("door-reason").value });
    say(`Door ${doorId} ${out ? "out of service" : "back in service"}`);
  }
  await refreshGrid();
}

function watchEvents() {
  const live = document.getElementById("live");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/v1/events`);
  socket.onopen = () => { if (live) { live.textContent = "live"; live.className = "live"; } };
  socket.onmessage = message => {
    const event = JSON.parse(message.data);
    if (["locker", "door", "door_open"].includes(event.type)) refreshGrid().catch(() => {});
  };
  socket.onclose = () => {
    if (live) { live.textContent = "reconnecting…"; live.className = "live down"; }
    setTimeout(watchEvents, 2000);
  };
}

document.getElementById("load-form")?.addEventListener("submit", async event => {
  event.preventDefault();
  const input = document.getElementById("load-item");
  const accessible = document.getElementById("load-accessible").value;
  try {
    const r = await api("POST", "/api/v1/staff/lockers/load", {
      item_id: input.value.trim(), size: document.getElementById("load-size").value,
      accessible: accessible === "" ? null : accessible === "true",
    });
    say(`Door ${r.door_id} for ${r.initials}: ${r.outcome.replace(/_/g, " ")}. Load it and close the door.`,
        r.outcome === "opened");
  } catch (error) { say(error.message, false); }
  input.value = "";
  input.focus();
  refreshGrid();
});

document.getElementById("door-form")?.addEventListener("submit", async event => {
  event.preventDefault();
  const dialog = document.getElementById("door-dialog");
  const action = event.submitter?.value;
  dialog.close();
  if (!action || action === "close") return;
  try { await doorAction(action, dialog.dataset.door, dialog.dataset.state); }
  catch (error) { say(error.message, false); }
});

// -- holds from the ILS ---------------------------------------------------------------------------
document.getElementById("holds-refresh")?.addEventListener("click", async () => {
  try { const r = await api("POST", "/api/v1/staff/holds/refresh"); say(`Koha lists ${r.waiting} waiting, ${r.new} new`); location.reload(); }
  catch (error) { say(error.message, false); }
});

// -- queue ----------------------------------------------------------------------------------------
document.getElementById("replay")?.addEventListener("click", async () => {
  try { const r = await api("POST", "/api/v1/staff/queue/replay"); say(`Sent ${r.sent}, exceptions ${r.exceptions}`); }
  catch (error) { say(error.message, false); }
});
document.querySelectorAll("button.retry").forEach(b => b.addEventListener("click", async () => {
  try { await api("POST", `/api/v1/staff/exceptions/${b.dataset.id}/retry`); location.reload(); }
  catch (error) { say(error.message, false); }
}));
document.querySelectorAll("button.resolve").forEach(b => b.addEventListener("click", async () => {
  const note = document.querySelector(`input.note[data-id="${b.dataset.id}"]`).value.trim();
  if (!note) { say("Say what you did before resolving.", false); return; }
  try { await api("POST", `/api/v1/staff/exceptions/${b.dataset.id}/resolve`, { note }); location.reload(); }
  catch (error) { say(error.message, false); }
}));

if (document.getElementById("grid")) { refreshGrid().catch(e => say(e.message, false)); watchEvents(); }

// -- health: kiosk enrolment, revocation, locked cards ---------------------------------------------
document.getElementById("enrolment-code")?.addEventListener("click", async () => {
  try {
    const made = await api("POST", "/api/v1/staff/kiosks/enrolment-code");
    document.getElementById("code").textContent = made.code;
  } catch (error) { say(error.message, false); }
});
document.querySelectorAll("button.revoke").forEach(b => b.addEventListener("click", async () => {
  if (!confirm(`Revoke kiosk ${b.dataset.id}? It stops working at once.`)) return;
  try { await api("POST", `/api/v1/staff/kiosks/${b.dataset.id}/revoke`); location.reload(); }
  catch (error) { say(error.message, false); }
}));
document.querySelectorAll("button.unlock").forEach(b => b.addEventListener("click", async () => {
  try { await api("POST", "/api/v1/staff/locked-cards/unlock", { key: b.dataset.key }); location.reload(); }
  catch (error) { say(error.message, false); }
}));
