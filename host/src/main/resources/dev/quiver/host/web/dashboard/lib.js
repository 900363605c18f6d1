// Shared helpers: JSON calls, element building, formatting, the page's event stream, charts.

let about = {};
export function setAbout(a) { about = a; }
export function getAbout() { return about; }

/** A JSON call; an error answer throws with the service's message (see answer). */
export async function api(path, options = {}) {
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  const token = document.getElementById("token");
  if (options.method && options.method !== "GET" && token && token.value) {
    headers.Authorization = `Bearer ${token.value}`;
  }
  return answer(await fetch(path, Object.assign({}, options, { headers, credentials: "omit" })));
}

/**
 * The JSON of a fetched answer; an error answer throws with the service's message. `timing`, when
 * given, gets `received` (body read) and `parsed` (JSON parsed), performance.now() milliseconds.
 */
export async function answer(r, timing) {
  const text = await r.text();
  if (timing) timing.received = performance.now();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { message: text }; }
  if (timing) timing.parsed = performance.now();
  if (!r.ok) {
    const err = new Error(`${r.status} ${(body && (body.message || body.error)) || r.statusText}`);
    err.status = r.status;
    err.body = body;
    throw err;
  }
  return body;
}

/**
 * What index.html asked for before the modules loaded (window.__early: fetch promises of the Live
 * page's data), taken once: later navigations ask themselves.
 */
export function takeEarly() {
  const e = window.__early || null;
  window.__early = null;
  return e;
}

/** el("td", {class: "num"}, "1.0") */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

export function table(headers, rows, attrs = {}) {
  return el("table", attrs,
    el("thead", {}, el("tr", {}, headers.map((h) =>
      el("th", { scope: "col", class: /^(#|num:)/.test(h) ? "num" : null }, h.replace(/^num:/, ""))))),
    el("tbody", {}, rows));
}

/** 2026-12-07T10:54:08Z -> "2026-12-07 10:54:08 UTC" */
export function utc(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "").replace(/Z$/, "") + " UTC";
}

const FORMATS = {};
export function num(x, digits = 2) {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  // One formatter per digit count (toLocaleString builds a new one on every call).
  const f = FORMATS[digits] || (FORMATS[digits] = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  return f.format(Number(x));
}

/** A fraction as percent: 0.1234 -> "12.34 %" */
export function pct(x, digits = 2) {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  return `${num(x * 100, digits)} %`;
}

export function money(x, currency) {
  if (x === null || x === undefined) return "—";
  return `${num(x, 2)} ${currency || ""}`.trim();
}

/** A definition-list figure whose raw value the tests can read (data-value). */
export function figure(label, field, value, shown) {
  return el("div", {},
    el("dt", {}, label),
    el("dd", { "data-field": field, "data-value": value === null || value === undefined ? "" : String(value) }, shown));
}

/**
 * The page's event stream: one EventSource on /v1/events/{page}. handlers: {eventName: fn(data)}.
 * Returns {close}.
 */
export function stream(page, handlers) {
  const status = document.getElementById("stream");
  const source = new EventSource(`/v1/events/${page}`);
  source.onopen = () => { status.textContent = "live"; status.className = "up"; };
  source.onerror = () => { status.textContent = "reconnecting…"; status.className = "down"; };
  for (const [name, fn] of Object.entries(handlers)) {
    source.addEventListener(name, (ev) => fn(JSON.parse(ev.data)));
  }
  return { close: () => source.close() };
}

/** Calls fn at most once per `ms`, the last call winning. */
export function throttle(fn, ms) {
  let timer = null;
  let pending = false;
  return () => {
    if (timer) { pending = true; return; }
    fn();
    timer = setTimeout(() => { timer = null; if (pending) { pending = false; fn(); } }, ms);
  };
}

const PALETTE = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#0e7490", "#a16207", "#be123c"];
export function color(i) { return PALETTE[i % PALETTE.length]; }

/**
 * A uPlot time chart in `where`, sized to its width. series: [{label, stroke, points?, width?}];
 * data: [xs(seconds), ...ys]. Returns the uPlot instance (with .dispose()).
 */
export function chart(where, title, series, data, opts = {}) {
  const width = Math.max(320, where.clientWidth || 600);
  const u = new uPlot({
    title,
    width,
    height: opts.height || 240,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    scales: Object.assign({ x: { time: true } }, opts.scales || {}),
    axes: [{ label: opts.xLabel || "time (UTC)" }, { label: opts.yLabel || "", size: 70 }],
    series: [{ label: opts.xLabel || "time (UTC)" }].concat(series.map((s) => Object.assign({
      stroke: s.stroke, width: s.width || 1.5, spanGaps: false,
    }, s))),
    legend: { live: true },
  }, data, where);
  keyboardLegend(u);
  const onResize = () => u.setSize({ width: Math.max(320, where.clientWidth || 600), height: opts.height || 240 });
  window.addEventListener("resize", onResize);
  u.dispose = () => { window.removeEventListener("resize", onResize); u.destroy(); };
  return u;
}

/**
 * uPlot's legend entries hide and show their series on a mouse click on the entry's label; each
 * label is wrapped in a real button (keyboard reachable, Enter and Space click it, aria-pressed
 * says whether the series shows), whose click reaches uPlot's handler on the label cell.
 */
function keyboardLegend(u) {
  u.root.querySelectorAll(".u-legend tr.u-series").forEach((row, i) => {
    if (i === 0) return; // the x series: not a toggle
    const th = row.querySelector("th");
    if (!th || th.querySelector("button")) return;
    const b = document.createElement("button");
    b.type = "button";
    b.className = "legend-toggle";
    b.append(...th.childNodes);
    b.setAttribute("aria-pressed", String(u.series[i].show !== false));
    b.setAttribute("aria-label", `Show ${u.series[i].label}`);
    b.addEventListener("click", () => setTimeout(() => b.setAttribute("aria-pressed", String(u.series[i].show !== false)), 0));
    th.append(b);
  });
}

export function seconds(iso) { return Date.parse(iso) / 1000; }

/** A generic key/value table for objects whose shape the page does not know in detail. */
export function kv(obj, attrs = {}) {
  const rows = Object.entries(obj || {}).map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k),
    el("td", {}, v !== null && typeof v === "object" ? JSON.stringify(v) : v === null ? "—" : String(v))));
  return el("table", attrs, el("tbody", {}, rows));
}

/**
 * The page's confirm dialog (#confirm) for an audited action: `open(title, text, okLabel, run)`
 * shows it; on submit both "who" and "reason" are required (they go into the audit trail), then
 * `run(actor, reason)` calls the API, the dialog closes and `after()` redraws; an API error stays
 * in the dialog. `dispose()` removes its listeners when the page is left.
 */
export function confirmDialog(after, requiredMessage) {
  const dialog = document.getElementById("confirm");
  const form = document.getElementById("confirm-form");
  const cancelButton = document.getElementById("confirm-cancel");
  const error = document.getElementById("confirm-error");
  let pending = null;
  const cancel = () => { pending = null; dialog.close(); };
  const submit = async (ev) => {
    ev.preventDefault();
    if (!pending) return;
    const actor = document.getElementById("confirm-actor").value.trim();
    const reason = document.getElementById("confirm-reason").value.trim();
    if (!actor || !reason) {
      error.textContent = requiredMessage;
      return;
    }
    try {
      await pending(actor, reason);
      pending = null;
      dialog.close();
      await after();
    } catch (e) {
      error.textContent = e.message;
    }
  };
  form.addEventListener("submit", submit);
  cancelButton.addEventListener("click", cancel);
  return {
    open(title, text, okLabel, run) {
      pending = run;
      document.getElementById("confirm-title").textContent = title;
      document.getElementById("confirm-text").textContent = text;
      document.getElementById("confirm-reason").value = "";
      error.textContent = "";
      document.getElementById("confirm-ok").textContent = okLabel;
      dialog.showModal();
      document.getElementById("confirm-actor").focus();
    },
    dispose() {
      form.removeEventListener("submit", submit);
      cancelButton.removeEventListener("click", cancel);
    },
  };
}
