// The Stint dashboard: a page per hash route, drawn from the daemon's API and kept live by
// its event stream (GET /v1/events as server-sent events). Data only ever reaches the page
// as text (textContent), never as markup.

const csrf = document.querySelector('meta[name="stint-csrf"]').content;
const main = document.getElementById("main");
const status = document.getElementById("status");
const live = document.getElementById("live");

// --- The API -------------------------------------------------------------------------

async function api(path, body) {
  const options = { credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.headers["X-Stint-CSRF"] = csrf;
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401) {
    location.assign("/login");
    throw new Error("not logged in");
  }
  const envelope = await response.json();
  if (envelope.status !== "ok") throw new Error(envelope.error ? envelope.error.message : "HTTP " + response.status);
  return envelope.data;
}

async function act(what, path, body, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return;
  try {
    await api(path, body);
    say(what + ": done");
    refresh();
  } catch (error) {
    say(what + ": " + error.message);
  }
}

function say(text) {
  status.textContent = text;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => (status.textContent = ""), 4000);
}

// --- Building the page ---------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "onclick" || key === "onsubmit" || key === "onchange") node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function table(headers, rows) {
  return el("div", { class: "table-wrap" },
    el("table", {},
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", class: h.wide ? "wide" : null }, h.text || h)))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: headers.length, class: "muted" }, "nothing")))));
}

function cell(value, wide) {
  return el("td", { class: wide ? "wide" : null }, value === undefined || value === null ? "" : value);
}

function stateCell(state) {
  return el("td", { class: "state state-" + state }, state);
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function seconds(value) {
  if (value === undefined || value === null) return "";
  if (value < 1) return Math.round(value * 1000) + " ms";
  if (value < 120) return value.toFixed(1) + " s";
  if (value < 7200) return Math.round(value / 60) + " min";
  return (value / 3600).toFixed(1) + " h";
}

function bytes(value) {
  if (!value) return "";
  const units = ["B", "KiB", "MiB", "GiB"];
  let index = 0;
  while (value >= 1024 && index < units.length - 1) { value /= 1024; index++; }
  return value.toFixed(index ? 1 : 0) + " " + units[index];
}

// --- Views ---------------------------------------------------------------------------

const filters = { state: "", queue: "", session: "", label: "" };

async function jobsView() {
  const query = new URLSearchParams({ limit: "200" });
  for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
  const jobs = await api("/v1/jobs?" + query);
  const states = ["", "held", "queued", "running", "succeeded", "failed", "cancelled"];
  const form = el("form", { class: "filters", onsubmit: (event) => { event.preventDefault(); readFilters(event.target); } },
    el("label", {}, "State", el("select", { name: "state", onchange: (event) => readFilters(event.target.form) },
      states.map((s) => el("option", { value: s, selected: filters.state === s }, s || "any")))),
    el("label", {}, "Queue", el("input", { name: "queue", value: filters.queue, size: 10 })),
    el("label", {}, "Session", el("input", { name: "session", value: filters.session, size: 10 })),
    el("label", {}, "Label", el("input", { name: "label", value: filters.label, placeholder: "KEY=VALUE", size: 12 })),
    el("button", { type: "submit" }, "Filter"));
  const rows = jobs.map((job) => el("tr", { "data-job": job.id },
    el("td", {}, el("a", { href: "#/jobs/" + job.id }, String(job.id))),
    stateCell(job.state + (job.stalled_at ? " (stalled)" : "")),
    cell(job.queue),
    el("td", { class: "cmd" }, job.command),
    cell(job.attempts, true),
    cell(when(job.started_at || job.created_at), true),
    cell(seconds(job.duration))));
  return [
    el("h1", {}, "Jobs"),
    chartPanel(),
    form,
    table(["Id", "State", "Queue", "Command", { text: "Attempts", wide: true }, { text: "Started", wide: true }, "Duration"], rows),
  ];
}

function readFilters(form) {
  for (const key of Object.keys(filters)) filters[key] = form.elements[key].value.trim();
  refresh();
}

async function jobView(id) {
  const job = await api("/v1/jobs/" + id);
  let log = "";
  try {
    const response = await fetch("/v1/jobs/" + id + "/log?tail=200", { credentials: "same-origin" });
    if (response.ok) log = await response.text();
  } catch (error) { log = ""; }
  const ended = ["succeeded", "failed", "cancelled"].includes(job.state);
  const actions = el("div", { class: "actions" },
    job.state === "running" || job.state === "queued"
      ? el("button", { class: "danger", onclick: () => act("Stop", "/v1/stop", { ids: [job.id] }, "Stop job " + job.id + "? Its whole process tree gets SIGTERM, then SIGKILL.") }, "Stop")
      : null,
    job.state === "running"
      ? el("button", { class: "danger", onclick: () => act("Kill", "/v1/jobs/" + job.id + "/signal", { signal: 9 }, "Send SIGKILL to job " + job.id + "'s command?") }, "Kill")
      : null,
    job.state === "held" ? el("button", { onclick: () => act("Release", "/v1/release", { ids: [job.id] }, "Release job " + job.id + "?") }, "Release") : null,
    ended ? el("button", { onclick: () => act("Retry", "/v1/retry", { ids: [job.id] }, "Run job " + job.id + " again?") }, "Retry") : null,
    ended ? el("button", { class: "danger", onclick: () => act("Remove", "/v1/rm", { ids: [job.id] }, "Remove job " + job.id + " and its output?").then(() => location.assign("#/jobs")) }, "Remove") : null);
  const fields = el("dl", { class: "fields" },
    el("dt", {}, "State"), el("dd", { class: "state state-" + job.state, id: "job-state" }, job.state + (job.reason ? " (" + job.reason + ")" : "")),
    el("dt", {}, "Command"), el("dd", { class: "cmd" }, job.command),
    el("dt", {}, "Queue"), el("dd", {}, job.queue),
    el("dt", {}, "Session"), el("dd", {}, job.session || ""),
    el("dt", {}, "Working directory"), el("dd", {}, job.cwd),
    el("dt", {}, "Created"), el("dd", {}, when(job.created_at)),
    el("dt", {}, "Exit"), el("dd", {}, job.exit_code ?? ""),
    el("dt", {}, "Failure class"), el("dd", {}, job.failure_class ? job.failure_class + " — " + (job.class_reason || "") : ""));
  const progress = job.progress
    ? el("p", {}, el("progress", { max: job.progress.total || 100, value: job.progress.done }), " ",
        job.progress.total ? job.progress.done + " / " + job.progress.total : String(job.progress.done), " ", job.progress.message || "")
    : null;
  const attempts = (job.attempt_list || []).map((a) => el("tr", {},
    cell(a.number), cell(when(a.started_at), true), cell(when(a.ended_at), true), cell(a.exit_code ?? (a.signal ? "signal " + a.signal : "")),
    cell(a.reason || "running"), cell(a.failure_class || ""), cell(a.node || a.host), cell(bytes(a.peak_rss_bytes), true)));
  const logBox = el("pre", { class: "log", id: "log", tabindex: "0" }, log || "(no output yet)");
  setTimeout(() => { logBox.scrollTop = logBox.scrollHeight; }, 0);
  return [
    el("h1", {}, "Job " + job.id),
    actions,
    fields,
    progress,
    job.checkpoint ? el("p", {}, "Checkpoint: ", el("code", {}, job.checkpoint)) : null,
    el("h2", {}, "Attempts"),
    table(["#", { text: "Started", wide: true }, { text: "Ended", wide: true }, "Exit", "Reason", "Class", "Node", { text: "Peak memory", wide: true }], attempts),
    el("h2", {}, "Output (last 200 lines, live)"),
    logBox,
  ];
}

async function queuesView() {
  const queues = await api("/v1/queues");
  const rows = queues.map((q) => el("tr", { "data-queue": q.name },
    cell(q.name), cell(q.running), cell(q.queued), cell(q.held, true),
    cell(q.paused ? "paused" : "active"),
    el("td", {}, el("form", { class: "inline", onsubmit: (event) => {
        event.preventDefault();
        const value = parseInt(event.target.elements.concurrency.value, 10);
        act("Concurrency of " + q.name, "/v1/queues/" + encodeURIComponent(q.name), { concurrency: value });
      } },
      el("input", { name: "concurrency", type: "number", min: 0, value: q.concurrency, size: 4, "aria-label": "Concurrency of " + q.name }),
      el("button", { type: "submit" }, "Set"))),
    cell(q.breaker.state + (q.breaker.seconds_left ? " (" + seconds(q.breaker.seconds_left) + " left)" : "")),
    cell(q.preflight ? q.preflight.status + (q.preflight.reason ? ": " + q.preflight.reason : "") : "", true),
    el("td", {}, q.paused
      ? el("button", { onclick: () => act("Resume " + q.name, "/v1/queues/" + encodeURIComponent(q.name), { paused: false }) }, "Resume")
      : el("button", { onclick: () => act("Pause " + q.name, "/v1/queues/" + encodeURIComponent(q.name), { paused: true }, "Pause queue " + q.name + "? Running jobs go on; no new one starts.") }, "Pause"))));
  return [el("h1", {}, "Queues"),
    table(["Queue", "Running", "Queued", { text: "Held", wide: true }, "Status", "Concurrency", "Breaker", { text: "Preflight", wide: true }, ""], rows)];
}

async function schedulesView() {
  const schedules = await api("/v1/schedules");
  const rows = schedules.map((s) => el("tr", {},
    cell(s.name), cell(s.cron || (s.every ? "every " + seconds(s.every) : "")),
    cell((s.next_fires || []).slice(0, 3).map(when).join(", "), true),
    cell(s.last_fire ? when(s.last_fire) + " → " + (s.last_state || "") + (s.last_exit_code !== undefined && s.last_exit_code !== null ? " (exit " + s.last_exit_code + ")" : "") : ""),
    cell(s.paused ? "paused" : "active"),
    el("td", {}, s.paused
      ? el("button", { onclick: () => act("Resume " + s.name, "/v1/schedules/" + encodeURIComponent(s.name) + "/resume", {}) }, "Resume")
      : el("button", { onclick: () => act("Pause " + s.name, "/v1/schedules/" + encodeURIComponent(s.name) + "/pause", {}, "Pause schedule " + s.name + "?") }, "Pause"))));
  return [el("h1", {}, "Schedules"), table(["Name", "When", { text: "Next fires", wide: true }, "Last run", "Status", ""], rows)];
}

async function notificationsView() {
  const list = await api("/v1/notifications?limit=200");
  const ids = list.notifications.map((n) => n.id);
  const rows = list.notifications.map((n) => el("tr", {},
    cell(n.id), cell(n.kind), el("td", {}, el("a", { href: "#/jobs/" + n.job }, "job " + n.job)),
    cell(n.message || n.state || ""), cell(when(n.created_at), true),
    el("td", {}, el("button", { onclick: () => act("Acknowledge " + n.id, "/v1/ack", { ids: [n.id] }) }, "Ack"))));
  return [el("h1", {}, "Notifications"),
    el("div", { class: "actions" }, ids.length
      ? el("button", { onclick: () => act("Acknowledge all", "/v1/ack", { ids }, "Acknowledge all " + ids.length + " pending notifications?") }, "Ack all")
      : null),
    table(["Id", "Kind", "Job", "Message", { text: "At", wide: true }, ""], rows)];
}

async function nodesView() {
  const answer = await api("/v1/nodes");
  const rows = answer.nodes.map((n) => el("tr", {},
    cell(n.node), cell(n.alive ? "alive" : "gone"), cell(n.address || "", true), cell(when(n.heartbeat_at)),
    cell(n.running), cell(n.version, true), cell((n.roles || []).join(", "))));
  return [el("h1", {}, "Nodes"), el("p", { class: "muted" }, answer.shared ? "A shared store: every daemon on it." : "A store of one daemon."),
    table(["Node", "Status", { text: "Address", wide: true }, "Heartbeat", "Running", { text: "Version", wide: true }, "Roles"], rows)];
}

// --- Throughput and latency, from the event stream ------------------------------------

const minutes = 30;
const chart = { ended: new Map(), latency: new Map(), added: new Map() };

function minuteOf(iso) { return Math.floor(new Date(iso).getTime() / 60000); }

function observe(event) {
  const minute = minuteOf(event.at);
  if (event.kind === "added" && event.job) chart.added.set(event.job, new Date(event.at).getTime());
  if (event.kind === "ended") chart.ended.set(minute, (chart.ended.get(minute) || 0) + 1);
  if (event.kind === "started" && chart.added.has(event.job) && event.message.startsWith("attempt 1 ")) {
    const waited = new Date(event.at).getTime() - chart.added.get(event.job);
    const list = chart.latency.get(minute) || [];
    list.push(waited);
    chart.latency.set(minute, list);
    chart.added.delete(event.job);
  }
}

function chartPanel() {
  const canvas = el("canvas", { class: "chart", id: "chart", width: 900, height: 140, role: "img",
    "aria-label": "Jobs ended per minute and the median wait from add to start, over the last " + minutes + " minutes" });
  setTimeout(() => drawChart(canvas), 0);
  return el("section", {}, el("h2", {}, "Throughput and latency"), canvas,
    el("p", { class: "legend" }, "Bars: jobs ended per minute. Line: median add → start (ms). Last " + minutes + " minutes, from the live events."));
}

function drawChart(canvas) {
  const context = canvas.getContext("2d");
  const style = getComputedStyle(document.documentElement);
  const width = canvas.width, height = canvas.height;
  context.clearRect(0, 0, width, height);
  const now = Math.floor(Date.now() / 60000);
  const slots = [...Array(minutes).keys()].map((i) => now - minutes + 1 + i);
  const counts = slots.map((m) => chart.ended.get(m) || 0);
  const medians = slots.map((m) => {
    const list = (chart.latency.get(m) || []).slice().sort((a, b) => a - b);
    return list.length ? list[Math.floor(list.length / 2)] : null;
  });
  const most = Math.max(1, ...counts), slowest = Math.max(1, ...medians.filter((v) => v !== null));
  const step = width / minutes;
  context.fillStyle = style.getPropertyValue("--accent");
  counts.forEach((count, i) => {
    const bar = (count / most) * (height - 20);
    context.fillRect(i * step + 2, height - bar, step - 4, bar);
  });
  context.strokeStyle = style.getPropertyValue("--warn");
  context.lineWidth = 2;
  context.beginPath();
  let started = false;
  medians.forEach((value, i) => {
    if (value === null) return;
    const x = i * step + step / 2, y = height - (value / slowest) * (height - 20);
    if (started) context.lineTo(x, y); else { context.moveTo(x, y); started = true; }
  });
  context.stroke();
  context.fillStyle = style.getPropertyValue("--muted");
  context.font = "12px system-ui";
  context.fillText("max " + most + "/min · " + Math.round(slowest) + " ms", 6, 14);
}

// --- Routing and live updates ----------------------------------------------------------

const views = { jobs: jobsView, queues: queuesView, schedules: schedulesView, notifications: notificationsView, nodes: nodesView };

function route() {
  const parts = (location.hash || "#/jobs").slice(2).split("/");
  if (parts[0] === "jobs" && parts[1]) return { name: "jobs", draw: () => jobView(parts[1]) };
  return { name: views[parts[0]] ? parts[0] : "jobs", draw: views[parts[0]] || jobsView };
}

let drawing = false, again = false;

async function refresh() {
  if (drawing) { again = true; return; }
  drawing = true;
  const current = route();
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("current", link.dataset.view === current.name);
  try {
    const focused = document.activeElement && document.activeElement.name;
    const content = await current.draw();
    // Keep a field being typed in: only redraw when no filter has focus.
    if (!(focused && main.contains(document.activeElement) && document.activeElement.tagName === "INPUT")) main.replaceChildren(...content.filter(Boolean));
  } catch (error) {
    if (error.message !== "not logged in") main.replaceChildren(el("p", { class: "error" }, "Cannot load this page: " + error.message));
  }
  drawing = false;
  if (again) { again = false; refresh(); }
}

let pending = null;
function soon() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refresh(); }, 150);
}

const kinds = ["added", "started", "ended", "progress", "notification", "released", "retried", "retry_scheduled", "requeued", "stalled",
  "breaker_open", "breaker_half_open", "breaker_closed", "preflight_failed", "preflight_passed", "dependency_failed",
  "queue_paused", "queue_resumed", "unprocessable", "schedule_added", "schedule_fired", "schedule_skipped",
  "schedule_missed", "schedule_paused", "schedule_removed", "stop_deferred"];

function connect() {
  const source = new EventSource("/v1/events");
  source.addEventListener("open", () => { live.textContent = "live"; live.classList.add("on"); });
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.classList.remove("on"); });
  const onEvent = (message) => {
    try { observe(JSON.parse(message.data)); } catch (error) { return; }
    soon();
  };
  for (const kind of kinds) source.addEventListener(kind, onEvent);
  source.addEventListener("cut_off", () => { source.close(); setTimeout(connect, 1000); });
}

window.addEventListener("hashchange", () => { refresh(); main.focus(); });
// A running job's output grows without events: follow it once a second on its page.
setInterval(() => {
  const state = document.getElementById("job-state");
  if (state && state.textContent.startsWith("running")) refresh();
}, 1000);
// The chart starts from the events already stored (a client scoped to a session may not
// list every job's, and starts empty), then follows the stream.
api("/v1/events?limit=5000").then((events) => { events.forEach(observe); refresh(); }).catch(() => {});
refresh();
connect();
