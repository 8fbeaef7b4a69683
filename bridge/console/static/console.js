// The station console's behaviour (look.js has the shared helpers): calls the staff API and keeps
// the locker grid live from the station's event stream.
"use strict";
// -- locker grid --------------------------------------------------------------------------------
let doors = [];
async function refreshGrid() {
  const grid = document.getElementById("grid");
  if (!grid) return;
  doors = await api("GET", "/api/v1/staff/lockers");
  renderGrid(grid, doors, openDialog);
}

function openDialog(door) {
  const dialog = document.getElementById("door-dialog");
  document.getElementById("door-title").textContent = "Door " + door.door_id;
  document.getElementById("door-detail").textContent =
    `${door.size}, ${door.state_label}. ${door.sensor_label}.` +
    (door.alarm ? ` Alarm: ${door.alarm.replace(/_/g, " ")}.` : "") + (door.note ? ` ${door.note}` : "");
  document.getElementById("door-reason").value = "";
  const box = document.getElementById("door-actions");
  box.replaceChildren(...actionButtons(door.actions));
  dialog.dataset.door = door.door_id;
  dialog.dataset.state = door.state;
  dialog.showModal();
}

async function doorAction(action, doorId) {
  const base = `/api/v1/staff/lockers/${doorId}`;
  const note = document.getElementById("door-reason").value.trim();
  if (action === "open") {
    if (note.length < 3) { say("Opening a door needs a reason.", false); return; }
    const r = await api("POST", base + "/open", { reason: note });
    const unseen = r.outcome === "not_confirmed" ? " (this door has no sensor: check it by eye)" : "";
    say(`Door ${doorId}: ${r.outcome.replace(/_/g, " ")}${unseen}`, r.outcome === "opened");
  } else if (action === "reclaim") {
    const r = await api("POST", base + "/reclaim");
    const n = r.checked_in.length;
    say(`Door ${doorId} reclaimed: ${n === 1 ? "1 item" : n + " items"} checked in`);
  } else if (action === "move") {
    const r = await api("POST", base + "/move", {});
    say(`Moved ${r.from} to ${r.to}`);
  } else if (action === "cancel") {
    await api("POST", base + "/cancel");
    say(`Assignment in ${doorId} cancelled: take the items to the hold shelf`);
  } else if (action === "out_of_service" || action === "back_in_service") {
    const out = action === "out_of_service";
    await api("POST", base + "/service", { out_of_service: out, note });
    say(`Door ${doorId} ${out ? "out of service" : "back in service"}`);
  } else if (action === "device_present" || action === "device_missing") {
    await api("POST", base + "/confirm-return", { present: action === "device_present" });
    say(`Door ${doorId}: return ${action === "device_present" ? "confirmed" : "refused"}`);
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
  if (event.submitter?.dataset.destructive &&
      !confirm(`${event.submitter.textContent} for door ${dialog.dataset.door}?`)) return;
  dialog.close();
  if (!action || action === "close") return;
  try { await doorAction(action, dialog.dataset.door); }
  catch (error) { say(error.message, false); }
});

// -- holds from the ILS ---------------------------------------------------------------------------
document.getElementById("holds-refresh")?.addEventListener("click", async () => {
  try { const r = await api("POST", "/api/v1/staff/holds/refresh"); say(`Koha lists ${r.waiting} waiting, ${r.new} new`); location.reload(); }
  catch (error) { say(error.message, false); }
});

document.getElementById("calendar-refresh")?.addEventListener("click", async () => {
  try { await api("POST", "/api/v1/staff/calendar/refresh"); say("Calendar read again"); location.reload(); }
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
  if (!confirm(`Resolve this exception as done? "${note}" goes in the audit log.`)) return;
  try { await api("POST", `/api/v1/staff/exceptions/${b.dataset.id}/resolve`, { note }); location.reload(); }
  catch (error) { say(error.message, false); }
}));

if (document.getElementById("grid")) { refreshGrid().catch(e => say(e.message, false)); watchEvents(); }


// -- health: kiosk enrolment, revocation, locked cards ---------------------------------------------
document.getElementById("enrolment-form")?.addEventListener("submit", async event => {
  event.preventDefault();
  const kiosk_id = document.getElementById("enrol-kiosk").value.trim();
  const replace = document.getElementById("enrol-replace").checked;
  if (replace && !confirm(`Replace kiosk ${kiosk_id}? Its present credential stops working once the new kiosk enrols.`)) return;
  try {
    const made = await api("POST", "/api/v1/staff/kiosks/enrolment-code", { kiosk_id, replace });
    document.getElementById("code").textContent = `${made.code} (for ${made.kiosk_id})`;
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

// -- tag programming ------------------------------------------------------------------------------
const FINDINGS = {
  blank: "blank", same_item: "this item already", other_item: "another item",
  foreign: "another library's tag", unreadable: "unreadable data", locked: "locked blocks",
};
const OUTCOMES = { verified: "verified", refused: "refused", needs_attention: "needs attention" };
const programmed = { started: null, verified: 0, refused: 0, attention: 0 };

async function refreshPad() {
  const body = document.querySelector("#pad-tags tbody");
  if (!body) return;
  const item = document.getElementById("tag-item").value.trim();
  try {
    const tags = await api("GET", "/api/v1/staff/tags/pad" + (item ? "?item_id=" + encodeURIComponent(item) : ""));
    body.replaceChildren(...tags.map(t => {
      const row = document.createElement("tr");
      const holds = t.finding === "same_item" ? `item ${t.item_id} (this one)`
        : t.finding === "other_item" ? `item ${t.item_id}`
        : FINDINGS[t.finding] + (t.detail ? ` (${t.detail})` : "");
      row.append(el("td", "", t.uid), el("td", "", holds));
      return row;
    }));
    const count = document.getElementById("pad-count");
    count.textContent = tags.length;
    count.classList.toggle("zero", tags.length === 0);
  } catch (error) { say(error.message, false); }
}

function recordResults(result) {
  const body = document.querySelector("#tag-results tbody");
  const now = new Date();
  programmed.started = programmed.started || now;
  for (const t of result.tags) {
    if (t.outcome === "verified") programmed.verified += 1;
    else if (t.outcome === "refused") programmed.refused += 1;
    else programmed.attention += 1;
    const row = document.createElement("tr");
    const note = t.detail ? ` (${t.detail})` : (t.outcome === "refused" ? ` (${FINDINGS[t.finding]})` : "");
    row.className = t.outcome === "verified" ? "status-ok" : "status-bad";
    row.append(el("td", "", now.toLocaleTimeString()), el("td", "", `${result.item_id} ${result.title}`),
      el("td", "", `${t.part} of ${result.parts}`), el("td", "", t.uid), el("td", "", OUTCOMES[t.outcome] + note));
    body.prepend(row);
  }
  const hours = (now - programmed.started) / 3600000;
  const rate = hours >= 1 / 60 ? `${Math.round(programmed.verified / hours)} tags per hour`
    : "the rate shows after the first minute";
  document.getElementById("tag-totals").textContent =
    `${programmed.verified} done, ${programmed.refused} refused, ${programmed.attention} need attention; ${rate}.`;
}

document.getElementById("tag-form")?.addEventListener("submit", async event => {
  event.preventDefault();
  const input = document.getElementById("tag-item");
  const item = input.value.trim();
  const entered = document.getElementById("tag-parts").value;
  const request = { item_id: item, parts: entered ? Number(entered) : null,
                    next_blank: document.getElementById("tag-batch").checked };
  try {
    const found = await api("GET", "/api/v1/staff/tags/items/" + encodeURIComponent(item));
    const pieces = found.parts ? ` (${found.parts === 1 ? "1 piece" : found.parts + " pieces"} in the ILS)` : "";
    document.getElementById("tag-title").textContent = `${found.item_id}: ${found.title}${pieces}`;
    let result = await api("POST", "/api/v1/staff/tags/program", request);
    const held = result.tags.filter(t => t.outcome === "refused" && t.finding !== "locked");
    const holding = held.length === 1 ? "1 tag holds" : `${held.length} tags hold`;
    if (held.length && confirm(`${holding} ${held.map(t => FINDINGS[t.finding]).join(", ")}. ` +
                               `Overwrite them with ${item}? This is recorded in the audit log.`)) {
      result = await api("POST", "/api/v1/staff/tags/program", { ...request, overwrite: true });
    }
    recordResults(result);
    say(result.done ? `${item} programmed and verified` : `${item}: not every tag was verified`, result.done);
    input.value = "";
    input.focus();
  } catch (error) { say(error.message, false); }
  refreshPad();
});
if (document.getElementById("pad-tags")) { refreshPad(); setInterval(refreshPad, 1000); }

// -- returns: the belt and its bins ---------------------------------------------------------------
document.getElementById("belt-resume")?.addEventListener("click", async () => {
  if (!confirm("Is the belt clear and everyone's hands away from it?")) return;
  try { await api("POST", "/api/v1/staff/returns/resume"); location.reload(); }
  catch (error) { say(error.message, false); }
});
document.querySelectorAll("button.bin-emptied").forEach(b => b.addEventListener("click", async () => {
  if (!confirm(`Did you take everything out of ${b.dataset.name}? Its count starts again.`)) return;
  try {
    const emptied = await api("POST", `/api/v1/staff/returns/bins/${b.dataset.bin}/emptied`);
    const list = document.getElementById("cart-items");
    list.replaceChildren(...emptied.taken.map(i => el("li", "", i.title || i.item_id || "unreadable tag")));
    const count = `${emptied.taken.length} ${emptied.taken.length === 1 ? "item" : "items"}`;
    document.getElementById("cart-bin").textContent = `${b.dataset.name} (${count})`;
    document.getElementById("cart").hidden = false;
    const row = document.querySelector(`tr[data-bin="${b.dataset.bin}"]`);
    row.querySelector(".bin-count").textContent = "0";
    row.querySelector(".bin-items").textContent = "empty";
    say(`${b.dataset.name}: ${count} for the cart`);
  } catch (error) { say(error.message, false); }
}));
