// Rollouts: per rollout its stage, the figures per variant and how they went over the scored bars
// (GET /v1/rollouts/{id}/series), the test statistic against the next look's threshold and the
// samples to go, the audit trail, and promote / roll back / abort through a confirm dialog with who
// and why (the existing POST /v1/rollouts/{id}/{action} does the work).
import { api, chart, confirmDialog, el, num, stream, table, throttle, utc } from "../lib.js";

const TERMINAL = ["completed", "rolled_back", "aborted"];
const ACTIONS = [
  { id: "promote", label: "Promote", what: "promote (one stage forward)" },
  { id: "rollback", label: "Roll back", what: "roll back (the champion acts for every key)" },
  { id: "abort", label: "Abort", what: "abort (stop without a verdict; the champion acts)" },
];

export function rollouts(main) {
  const disposers = [];
  const body = el("div", { id: "rollouts" });
  // Per rollout id its figures-over-time card and charts, kept across redraws (moved into the
  // rollout's new card), updated with setData when the series grew.
  const series = new Map();
  disposers.push(() => series.forEach((s) => s.dispose()));
  let last = null;
  const draw = async () => {
    let r;
    try {
      r = await api("/v1/rollouts");
    } catch (e) {
      body.replaceChildren(el("p", { class: "muted" }, e.message));
      last = null;
      return;
    }
    const points = await Promise.all(r.rollouts.map((x) =>
      api(`/v1/rollouts/${encodeURIComponent(x.id)}/series`).catch((e) => ({ error: e.message }))));
    // Unchanged: keep the page as it is (open details, focus, the element under the pointer).
    const text = JSON.stringify(r);
    if (text !== last) {
      last = text;
      body.replaceChildren(...(r.rollouts.length === 0
        ? [el("p", { class: "muted" }, "No rollout. Start one with POST /v1/rollouts or `quiver rollout start`.")]
        : r.rollouts.map((x) => card(x, seriesCard(series, x)))));
    }
    r.rollouts.forEach((x, i) => series.get(x.id).update(points[i]));
  };
  const ready = (async () => {
    main.append(el("h1", {}, "Rollouts"), body);
    await draw();
    const refresh = throttle(() => draw().catch(() => {}), 1000);
    dialog = confirmDialog(() => draw(), "Who and reason are both required: they go into the audit trail.");
    disposers.push(() => dialog.dispose());
    const s = stream("rollouts", { transition: refresh, decision: refresh, tick: refresh });
    disposers.push(() => s.close());
  })();
  return { ready, dispose: () => disposers.forEach((d) => d()) };
}

const METRIC = {
  log_loss: { column: "log_loss", label: "log-loss (nats)", note: "log-loss: mean since the start, nats, lower is better" },
  brier: { column: "brier", label: "Brier (0–1)", note: "Brier score: mean since the start, 0–1, lower is better" },
  hit_rate: { column: "hit_rate", label: "hit rate (%)", note: "hit rate: share of directions called since the start, %", scale: 100 },
  pnl: { column: "pnl_per_bar", label: "P&L per bar", note: "P&L per bar: mean since the start, per unit notional" },
};
const ROLES = [
  { role: "champion", stroke: "#1f5fbf" },
  { role: "challenger", stroke: "#c2410c" },
  { role: "served", stroke: "#6b7280", dash: [4, 3] },
];

/** The rollout's figures-over-time card: made once per rollout id, its charts made on first data. */
function seriesCard(cards, r) {
  if (cards.has(r.id)) return cards.get(r.id).section;
  const metric = METRIC[(r.spec && r.spec.rules && r.spec.rules.metric) || "log_loss"] || METRIC.log_loss;
  const metricDiv = el("div", { class: "chart", dataset: { series: "metric", rollout: r.id } });
  const pnlDiv = el("div", { class: "chart", dataset: { series: "pnl", rollout: r.id } });
  const note = el("p", { class: "muted" }, "No outcome scored yet.");
  const section = el("section", { class: "series", "aria-label": `Figures over time of rollout ${r.id}` },
    el("h3", {}, "Figures over the scored bars (each point: the figures since the start, after that outcome bar)"),
    note, el("div", { class: "grid" }, metricDiv, pnlDiv),
    el("p", { class: "legend-note" }, `Left: ${metric.note}. Right: cumulative cost-adjusted P&L since the start, per unit notional. Served: the variant that acted on each bar (dashed).`));
  let charts = null;
  let shown = null;
  const update = (s) => {
    if (!s || s.error) {
      note.textContent = `Figures over time not available: ${s ? s.error : "no answer"}`;
      return;
    }
    const key = `${s.count}:${s.bar_time[s.count - 1]}`;
    if (key === shown) return;
    shown = key;
    note.textContent = s.count === 0 ? "No outcome scored yet."
      : `${s.count.toLocaleString("en-US")} outcome bars, ${utc(new Date(s.bar_time[0] * 1000).toISOString())} to ${utc(new Date(s.bar_time[s.count - 1] * 1000).toISOString())}; committed up to ${utc(s.committed[s.count - 1])}.`;
    if (s.count === 0) return;
    const scale = (xs, k) => (k ? xs.map((v) => (v === null ? null : v * k)) : xs);
    const metricData = [s.bar_time, ...ROLES.map((x) => scale(s.variants[x.role][metric.column], metric.scale))];
    const pnlData = [s.bar_time, ...ROLES.map((x) => s.variants[x.role].pnl)];
    if (!charts) {
      const lines = ROLES.map((x) => ({ label: x.role, stroke: x.stroke, width: x.role === "served" ? 1 : 2, dash: x.dash }));
      charts = [
        chart(metricDiv, null, lines, metricData, { yLabel: metric.label, xLabel: "outcome bar (UTC)", height: 220 }),
        chart(pnlDiv, null, lines, pnlData, { yLabel: "cumulative P&L", xLabel: "outcome bar (UTC)", height: 220 }),
      ];
    } else {
      charts[0].setData(metricData);
      charts[1].setData(pnlData);
    }
    metricDiv.dataset.points = String(s.count);
    pnlDiv.dataset.points = String(s.count);
  };
  const entry = { section, update, dispose: () => { if (charts) charts.forEach((c) => c.dispose()); } };
  cards.set(r.id, entry);
  return section;
}

function card(r, seriesSection) {
  const s = r.current_stage || {};
  const terminal = TERMINAL.includes(r.stage);
  const figures = r.figures || {};
  const spec = r.spec || {};
  const toGo = s.next_look_at === null || s.next_look_at === undefined ? null : Math.max(0, s.next_look_at - s.samples);
  const test = s.test;
  return el("section", { class: "card", dataset: { rollout: r.id }, "aria-label": `Rollout ${r.id}` },
    el("h2", {}, `${r.id} `, el("span", { class: `badge ${terminal ? "" : "warn"}`, "data-stage": r.stage }, r.stage)),
    el("p", { class: "muted" }, `Since ${utc(s.since)}; ${spec.mode ? `mode ${spec.mode}; ` : ""}metric ${(spec.rules && spec.rules.metric) || "—"}.`),
    table(["Variant", "num:Samples (outcomes)", "num:Log-loss (nats)", "num:Brier (0–1)", "num:Hit rate", "num:P&L (per unit notional)", "num:P&L per bar (per unit notional)"],
      Object.entries(figures).filter(([, f]) => f).map(([role, f]) => el("tr", {},
        el("td", {}, role), el("td", { class: "num" }, f.n), el("td", { class: "num" }, num(f.logLoss ?? f.log_loss, 4)),
        el("td", { class: "num" }, num(f.brier, 4)), el("td", { class: "num" }, f.hitRate ?? f.hit_rate ? `${num(100 * (f.hitRate ?? f.hit_rate), 1)} %` : "—"),
        el("td", { class: "num" }, num(f.pnl, 4)), el("td", { class: "num" }, num(f.pnlPerBar ?? f.pnl_per_bar, 6))))),
    seriesSection,
    el("p", {}, `Stage samples ${s.samples ?? 0}`,
      toGo === null ? "" : `; next look at ${s.next_look_at} samples (${toGo} to go) with threshold α = ${num(s.next_look_alpha, 4)}`,
      test ? `; ${test.test} test: t = ${test.statistic === null ? "∞" : num(test.statistic, 3)}, df ${num(test.degrees_of_freedom, 1)}, p(better) ${num(test.p_better, 4)}, p(worse) ${num(test.p_worse, 4)}` : "; no test yet (too few samples)"),
    el("div", { class: "toolbar" }, ACTIONS.map((a) => el("button", {
      type: "button", class: a.id === "promote" ? null : "danger", disabled: terminal,
      dataset: { action: a.id, rollout: r.id }, "aria-label": `${a.label} rollout ${r.id}`,
      onclick: () => openDialog(r, a),
    }, a.label))),
    el("h2", {}, "Audit trail"),
    (r.transitions || []).length === 0 ? el("p", { class: "muted" }, "No transition yet.")
      : table(["Time (UTC)", "From", "To", "Actor", "Reason"], r.transitions.slice().reverse().map((t) =>
        el("tr", { class: "transition" }, el("td", {}, utc(t.time)), el("td", {}, t.from), el("td", {}, t.to),
          el("td", { class: "actor" }, t.actor), el("td", { class: "reason" }, t.reason)))),
    el("details", {}, el("summary", {}, "Specification (JSON)"), el("pre", {}, JSON.stringify(spec, null, 2))));
}

let dialog = null;

function openDialog(r, action) {
  dialog.open(`${action.label} rollout ${r.id}?`, `This will ${action.what}. Stage now: ${r.stage}.`, action.label,
    (actor, reason) => api(`/v1/rollouts/${encodeURIComponent(r.id)}/${action.id}?actor=${encodeURIComponent(actor)}&reason=${encodeURIComponent(reason)}`, { method: "POST" }));
}
