// Rollouts: per rollout its stage, the figures per variant, the test statistic against the next
// look's threshold and the samples to go, the audit trail, and promote / roll back / abort through
// a confirm dialog with who and why (the existing POST /v1/rollouts/{id}/{action} does the work).
import { api, confirmDialog, el, num, stream, table, throttle, utc } from "../lib.js";

const TERMINAL = ["completed", "rolled_back", "aborted"];
const ACTIONS = [
  { id: "promote", label: "Promote", what: "promote (one stage forward)" },
  { id: "rollback", label: "Roll back", what: "roll back (the champion acts for every key)" },
  { id: "abort", label: "Abort", what: "abort (stop without a verdict; the champion acts)" },
];

export function rollouts(main) {
  const disposers = [];
  const body = el("div", { id: "rollouts" });
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
    // Unchanged: keep the page as it is (open details, focus, the element under the pointer).
    const text = JSON.stringify(r);
    if (text === last) return;
    last = text;
    body.replaceChildren(...(r.rollouts.length === 0
      ? [el("p", { class: "muted" }, "No rollout. Start one with POST /v1/rollouts or `quiver rollout start`.")]
      : r.rollouts.map(card)));
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

function card(r) {
  const s = r.current_stage || {};
  const terminal = TERMINAL.includes(r.stage);
  const figures = r.figures || {};
  const spec = r.spec || {};
  const toGo = s.next_look_at === null || s.next_look_at === undefined ? null : Math.max(0, s.next_look_at - s.samples);
  const test = s.test;
  return el("section", { class: "card", dataset: { rollout: r.id }, "aria-label": `Rollout ${r.id}` },
    el("h2", {}, `${r.id} `, el("span", { class: `badge ${terminal ? "" : "warn"}`, "data-stage": r.stage }, r.stage)),
    el("p", { class: "muted" }, `Since ${utc(s.since)}; ${spec.mode ? `mode ${spec.mode}; ` : ""}metric ${(spec.rules && spec.rules.metric) || "—"}.`),
    table(["Variant", "num:Samples", "num:Log-loss", "num:Brier", "num:Hit rate", "num:P&L", "num:P&L per bar"],
      Object.entries(figures).filter(([, f]) => f).map(([role, f]) => el("tr", {},
        el("td", {}, role), el("td", { class: "num" }, f.n), el("td", { class: "num" }, num(f.logLoss ?? f.log_loss, 4)),
        el("td", { class: "num" }, num(f.brier, 4)), el("td", { class: "num" }, f.hitRate ?? f.hit_rate ? `${num(100 * (f.hitRate ?? f.hit_rate), 1)} %` : "—"),
        el("td", { class: "num" }, num(f.pnl, 4)), el("td", { class: "num" }, num(f.pnlPerBar ?? f.pnl_per_bar, 6))))),
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
