// The hub console's behaviour (look.js has the shared helpers): each action is a command the hub
// queues for one station; the page follows the command until that station reports it done.
"use strict";
const WORDS = { opened: "opened", not_confirmed: "opened, not confirmed by the door sensor",
                failed: "did not open", jammed: "jammed" };

async function untilDone(id, timeoutMs = 60000) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const c = await api("GET", `/api/v1/commands/${id}`);
    if (c.done) return c;
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error("the station has not answered yet: it runs the command when it next calls in");
}

async function command(station, kind, args) {
  const queued = await api("POST", `/api/v1/stations/${encodeURIComponent(station)}/commands`, { kind, args });
  say(`Sent to ${station}; waiting for it to answer…`);
  const done = await untilDone(queued.id);
  if (!done.ok) throw new Error(`${station}: ${done.result.error || "refused"}`);
  return done.result;
}

// -- station list ---------------------------------------------------------------------------------
function ago(seconds) {
  if (seconds === null || seconds === undefined) return "never";
  for (const [size, unit] of [[86400, "d"], [3600, "h"], [60, "min"]])
    if (seconds >= size) return `${Math.floor(seconds / size)} ${unit} ago`;
  return `${Math.max(0, seconds)} s ago`;
}

async function refreshStations() {
  const body = document.querySelector("#stations tbody");
  const live = document.getElementById("live");
  try {
    const rows = await api("GET", "/api/v1/stations");
    if (rows.length) body.replaceChildren(...rows.map(s => {
      const row = document.createElement("tr");
      row.dataset.station = s.id;
      const names = Object.keys(s.devices || {});
      const devices = names.length
        ? [`${names.length - s.device_faults.length} of ${names.length} ok`,
           ...s.device_faults.flatMap(d => [document.createElement("br"),
                                            el("span", "status-bad", `${d}: ${s.devices[d]}`)])]
        : ["?"];
      const exceptions = s.open_exceptions
        ? [", ", el("span", "status-bad", `${s.open_exceptions} exception${s.open_exceptions === 1 ? "" : "s"}`)]
        : [];
      const ils = s.ils_online === null || s.ils_online === undefined ? "?" : (s.ils_online ? "online" : "offline");
      const name = el("th", "", s.id);
      name.scope = "row";
      row.append(name, el("td", "", s.branch),
        el("td", s.online ? "status-ok" : "status-bad", s.online ? "online" : (s.revoked ? "revoked" : "offline")),
        el("td", "", ago(s.seen_ago_s)), el("td", "", s.version || "?"), el("td", "", ils),
        el("td", "", ...devices), el("td", "", `${s.queue_pending ?? "?"} queued`, ...exceptions),
        el("td", "", s.doors), el("td", "", s.open_alerts));
      return row;
    }));
    live.textContent = "live"; live.className = "live";
  } catch (error) { live.textContent = "not updating"; live.className = "live down"; }
}
if (document.getElementById("stations")) { refreshStations(); setInterval(refreshStations, 3000); }

document.getElementById("enrol-form")?.addEventListener("submit", async event => {
  event.preventDefault();
  const id = document.getElementById("enrol-id").value.trim();
  const branch = document.getElementById("enrol-branch").value.trim();
  const replace = document.getElementById("enrol-replace").checked;
  if (replace && !confirm(`Replace ${id}? Its present token stops working once the new station enrols.`)) return;
  try {
    const made = await api("POST", `/api/v1/stations/${encodeURIComponent(id)}/enrolment-code?branch=${encodeURIComponent(branch)}&replace=${replace}`);
    document.getElementById("enrol-code").textContent = made.code;
    say(`A code for ${id}, valid until ${new Date(made.expires_at).toLocaleString()}`);
  } catch (error) { say(error.message, false); }
});
document.querySelectorAll("button.revoke-station").forEach(b => b.addEventListener("click", async () => {
  if (!confirm(`Revoke ${b.dataset.id}? It stops reaching the hub until it is enrolled again.`)) return;
  try { await api("POST", `/api/v1/stations/${encodeURIComponent(b.dataset.id)}/revoke`); location.reload(); }
  catch (error) { say(error.message, false); }
}));

// -- locker banks ---------------------------------------------------------------------------------
async function refreshBank(station) {
  const grid = document.querySelector(`[data-grid="${CSS.escape(station)}"]`);
  const live = document.querySelector(`[data-live="${CSS.escape(station)}"]`);
  try {
    const bank = await api("GET", `/api/v1/stations/${encodeURIComponent(station)}/bank`);
    renderGrid(grid, bank.doors, door => openDialog(station, door));
    live.textContent = bank.reported_at
      ? "live · last change " + new Date(bank.reported_at).toLocaleTimeString() : "nothing reported yet";
    live.className = bank.reported_at ? "live" : "live down";
  } catch (error) { live.textContent = "not updating"; live.className = "live down"; }
}
const banks = [...document.querySelectorAll("section.bank")].map(s => s.dataset.station);
async function refreshBanks() { await Promise.all(banks.map(refreshBank)); }
if (banks.length) { refreshBanks(); setInterval(refreshBanks, 1500); }

function openDialog(station, door) {
  const dialog = document.getElementById("door-dialog");
  document.getElementById("door-title").textContent = `${station}: door ${door.door_id}`;
  document.getElementById("door-detail").textContent =
    `${door.size}, ${door.state_label}. ${door.sensor_label}.` + (door.alarm ? ` Alarm: ${door.alarm.replace(/_/g, " ")}.` : "");
  document.getElementById("door-reason").value = "";
  document.getElementById("door-actions").replaceChildren(...actionButtons(door.actions));
  dialog.dataset.station = station;
  dialog.dataset.door = door.door_id;
  dialog.showModal();
}

document.getElementById("door-form")?.addEventListener("submit", async event => {
  event.preventDefault();
  const dialog = document.getElementById("door-dialog");
  const action = event.submitter?.value;
  const { station, door } = dialog.dataset;
  const reason = document.getElementById("door-reason").value.trim();
  if (action === "open" && reason.length < 3) {
    say("Opening a door needs a reason.", false);
    document.getElementById("door-reason").focus();
    return;
  }
  if (event.submitter?.dataset.destructive && !confirm(`${event.submitter.textContent} for ${station} door ${door}?`)) return;
  dialog.close();
  try {
    if (action === "open") {
      const r = await command(station, "open_door", { door, reason });
      say(`${station} door ${r.door}: ${WORDS[r.outcome] || r.outcome}`, r.outcome === "opened");
    } else if (action === "reclaim") {
      const r = await command(station, "reclaim_expired", { door });
      const n = (r.checked_in || []).length;
      say(`${station} door ${door} reclaimed: ${n === 1 ? "1 item" : n + " items"} checked in`);
    }
  } catch (error) { say(error.message, false); }
  refreshBank(station);
});

document.getElementById("load-form")?.addEventListener("submit", async event => {
  event.preventDefault();
  const station = document.getElementById("load-bank").value;
  const input = document.getElementById("load-item");
  const accessible = document.getElementById("load-accessible").value;
  const args = { item_id: input.value.trim(), size: document.getElementById("load-size").value };
  if (accessible !== "") args.accessible = accessible === "true";
  try {
    const r = await command(station, "load_hold", args);
    say(`${station} door ${r.door} for ${r.initials}: ${WORDS[r.outcome] || r.outcome}. Load it and close the door.`,
        r.outcome === "opened");
  } catch (error) { say(error.message, false); }
  input.value = "";
  input.focus();
  refreshBank(station);
});

// -- queue exceptions -----------------------------------------------------------------------------
document.querySelectorAll("button.retry").forEach(b => b.addEventListener("click", async () => {
  try {
    await command(b.dataset.station, "retry_exception", { exception_id: Number(b.dataset.id) });
    say(`${b.dataset.station}: exception ${b.dataset.id} queued again`);
  } catch (error) { say(error.message, false); }
}));
document.querySelectorAll("button.resolve").forEach(b => b.addEventListener("click", async () => {
  const note = document.querySelector(`input.note[data-station="${CSS.escape(b.dataset.station)}"][data-id="${b.dataset.id}"]`).value.trim();
  if (!note) { say("Say what you did before resolving.", false); return; }
  if (!confirm(`Resolve exception ${b.dataset.id} at ${b.dataset.station}? "${note}" goes in both audit logs.`)) return;
  try {
    await command(b.dataset.station, "resolve_exception", { exception_id: Number(b.dataset.id), note });
    say(`${b.dataset.station}: exception ${b.dataset.id} resolved`);
  } catch (error) { say(error.message, false); }
}));

// -- releases and rollouts ------------------------------------------------------------------------
async function refreshRollouts() {
  const body = document.querySelector("#rollouts tbody");
  const live = document.getElementById("live");
  try {
    const rows = await api("GET", "/api/v1/rollouts");
    if (rows.length) body.replaceChildren(...rows.map(r => {
      const row = document.createElement("tr");
      row.dataset.rollout = r.id;
      const name = el("th", "", String(r.id));
      name.scope = "row";
      const state = el("td", r.state === "halted" ? "status-bad" : (r.state === "done" ? "status-ok" : ""), r.state);
      const stations = r.stations.map(s => `${s.station}: ${s.state.replace("_", " ")}`).join("; ");
      row.append(name, el("td", "", r.release ? r.release.version : "?"), state,
        el("td", "", `${Math.min(r.stage + 1, r.stages)} of ${r.stages}`), el("td", "", stations),
        el("td", "", r.reason));
      return row;
    }));
    live.textContent = "live"; live.className = "live";
  } catch (error) {
    live.textContent = "not updating"; live.className = "live down";
  }
}
if (document.getElementById("rollouts")) { refreshRollouts(); setInterval(refreshRollouts, 3000); }

document.getElementById("upload-form")?.addEventListener("submit", async event => {
  event.preventDefault();
  const file = document.getElementById("bundle-file").files[0];
  if (!file) return;
  say(`Uploading ${file.name}…`);
  try {
    const response = await fetch("/api/v1/releases", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-tar", "X-CSRF-Token": csrf }, body: file });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(typeof data.detail === "string" ? data.detail : `refused (${response.status})`);
    say(`Release ${data.version} for ${data.arch} uploaded.`);
    setTimeout(() => window.location.reload(), 800);
  } catch (error) { say(error.message, false); }
});

document.getElementById("rollout-form")?.addEventListener("submit", async event => {
  event.preventDefault();
  const stations = [...document.querySelectorAll(".rollout-station:checked")].map(box => box.value);
  const body = {
    release_id: Number(document.getElementById("rollout-release").value), stations,
    branch: document.getElementById("rollout-branch")?.value || "",
    canary: Number(document.getElementById("rollout-canary").value),
    percent: Number(document.getElementById("rollout-percent").value),
    soak_s: Number(document.getElementById("rollout-soak").value) * 60,
  };
  try {
    const started = await api("POST", "/api/v1/rollouts", body);
    say(`Rollout ${started.id} started: ${started.stations.map(s => s.station).join(", ")}.`);
    refreshRollouts();
  } catch (error) { say(error.message, false); }
});
