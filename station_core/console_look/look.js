// What the station's console and the hub's console share: calls with the session's CSRF token,
// the message line, a locker door's cell, and the statistics charts.
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

// An element with text children only: what a station or a patron sent never becomes markup.
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children.filter(c => c !== null && c !== undefined).map(c => c instanceof Node ? c : String(c)));
  return node;
}

// One door of a locker bank as a button: state by colour and words, a door standing open, the
// patron's initials only, an alarm; its accessible name says all of it.
function doorCell(d, onClick) {
  const cell = document.createElement("button");
  cell.type = "button";
  const standingOpen = d.sensor === "open";
  cell.className = "door " + d.state + (d.alarm ? " alarm" : "") + (standingOpen ? " open" : "");
  cell.dataset.door = d.door_id;
  cell.dataset.state = d.state;
  const marks = (d.accessible ? " ♿" : "") + (d.charging ? " ⚡" : "");
  const expires = d.expires_at ? "until " + new Date(d.expires_at).toLocaleDateString(undefined, { day: "numeric", month: "short" }) : "";
  const items = d.items ? (d.items === 1 ? "1 item" : `${d.items} items`) : "";
  cell.setAttribute("aria-label", `Door ${d.door_id}, ${d.size}, ${d.state_label}` +
    (standingOpen ? ", door open" : "") + (d.accessible ? ", accessible" : "") +
    (d.initials ? `, for ${d.initials}` : "") + (d.alarm ? `, alarm: ${d.alarm.replace(/_/g, " ")}` : ""));
  const marked = el("span", "", " " + marks.trim());
  marked.setAttribute("aria-hidden", "true");
  cell.replaceChildren(...[el("span", "id", d.door_id, marks ? marked : null),
    el("span", "meta", `${d.size} · ${d.state_label}`),
    standingOpen ? el("span", "open-text", "Door open") : null,
    el("span", "who", d.initials),
    el("span", "meta", [items, expires].filter(Boolean).join(" · ")),
    d.alarm ? el("span", "alarm-text", `⚠ ${String(d.alarm).replace(/_/g, " ")}`) : null,
    ["unknown", "unsensed"].includes(d.sensor) ? el("span", "meta", d.sensor_label) : null].filter(Boolean));
  cell.addEventListener("click", () => onClick(d));
  return cell;
}

// Draw a bank's doors into `grid`, only when they changed, keeping the keyboard focus on the door
// it was on (a grid that refreshes must not throw a keyboard user back to the top of the page).
function renderGrid(grid, doors, onClick) {
  const drawn = JSON.stringify(doors);
  if (grid.dataset.drawn === drawn) return;
  grid.dataset.drawn = drawn;
  const focused = grid.contains(document.activeElement) ? document.activeElement.dataset.door : null;
  grid.replaceChildren(...doors.map(d => doorCell(d, onClick)));
  if (focused) grid.querySelector(`[data-door="${CSS.escape(focused)}"]`)?.focus();
}

// A door dialog's buttons, one per action the door's state allows; destructive ones are marked
// so the form asks before sending them.
function actionButtons(actions) {
  return actions.map(action => {
    const button = document.createElement("button");
    button.value = action.name;
    button.textContent = action.label;
    button.className = action.destructive ? "danger" : "";
    button.dataset.destructive = action.destructive ? "yes" : "";
    return button;
  });
}

// -- statistics charts (Chart.js, served by the console itself: no network) ----------------------
function drawCharts() {
  const chartData = document.getElementById("charts-data");
  if (!chartData || !window.Chart) return;
  // Dark enough against white for graphics (WCAG 1.4.11: 3:1), and told apart by the legend too.
  const colours = ["#1e4d2b", "#8a5a00", "#2b5d9b"];
  for (const spec of JSON.parse(chartData.textContent)) {
    const canvas = document.getElementById("canvas-" + spec.id);
    if (!canvas) continue;
    const percent = spec.unit === "%";
    const valueAxis = spec.kind === "hbar" ? "x" : "y";
    new Chart(canvas, {
      type: spec.kind === "line" ? "line" : "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map((s, i) => ({
          label: s.name, data: percent ? s.values.map(v => Math.round(v * 1000) / 10) : s.values,
          backgroundColor: colours[i % colours.length], borderColor: colours[i % colours.length],
          maxBarThickness: 36, pointRadius: spec.labels.length > 31 ? 0 : 3,
        })),
      },
      options: {
        indexAxis: spec.kind === "hbar" ? "y" : "x", animation: false, responsive: true,
        maintainAspectRatio: false,
        scales: { [valueAxis]: { beginAtZero: true, ticks: percent ? { callback: v => v + "%" } : { precision: 0 } } },
        plugins: { legend: { display: spec.series.length > 1 } },
      },
    });
  }
}
window.addEventListener("load", drawCharts);

// A page restored from the back-forward cache after sign-out must ask the server again.
window.addEventListener("pageshow", event => { if (event.persisted) location.reload(); });
