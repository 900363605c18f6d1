// Models: the strategy bundle serving (provenance, components, expiry, refusals of other
// bundles), and the registered model versions bound to capabilities (alias, version, run).
import { api, el, kv, stream, table, throttle, utc } from "../lib.js";

export function models(main) {
  const disposers = [];
  const body = el("div", { id: "models" });
  let last = null;
  const draw = async () => {
    let s = null;
    let failure = null;
    try {
      s = await api("/v1/strategy");
    } catch (e) {
      failure = e;
    }
    const m = await api("/v1/models");
    const text = JSON.stringify([s, failure && failure.message, m]);
    if (text === last) return;
    last = text;
    const parts = [];
    if (s) {
      const prov = Object.assign({}, s);
      delete prov.refusals; delete prov.sessions; delete prov.components;
      parts.push(el("section", { class: "card", "aria-label": "Strategy bundle" },
        el("h2", {}, `Strategy bundle serving: ${s.bundle}`),
        s.degraded ? el("p", { class: "badge bad", role: "status" }, `degraded: ${s.degraded}`) : null,
        el("p", {}, "Expires ", el("time", { datetime: s.expires_at }, utc(s.expires_at))),
        kv(prov, { id: "provenance" }),
        el("h2", {}, "Components"),
        table(["Component", "Plugin and version"], Object.entries(s.components || {}).map(([k, v]) =>
          el("tr", {}, el("td", {}, k), el("td", {}, v)))),
        el("h2", {}, "Bundles refused"),
        (s.refusals || []).length === 0 ? el("p", { class: "muted" }, "None.")
          : table(["Time (UTC)", "Requested", "Reason"], s.refusals.map((r) =>
            el("tr", {}, el("td", {}, utc(r.at)), el("td", {}, r.requested), el("td", { class: "reason" }, r.reason)))),
        el("h2", {}, "Sessions"),
        table(["Symbol", "Account", "State", "num:Bars"], (s.sessions || []).map((x) =>
          el("tr", {}, el("td", {}, x.symbol), el("td", {}, x.account), el("td", {}, x.state), el("td", { class: "num" }, x.bars ?? "—"))))));
    } else {
      parts.push(el("section", { class: "card" }, el("h2", {}, "Strategy bundle"),
        el("p", { class: "muted" }, `No strategy bundle serves: ${failure.message}`)));
    }
    parts.push(el("section", { class: "card", "aria-label": "Model bindings" },
      el("h2", {}, "Registered model versions bound to capabilities"),
      el("p", { class: "muted" }, `Pipeline generation ${m.pipeline_generation}; open model instances ${m.open_model_instances}; decisions in flight ${m.decisions_in_flight}.`),
      (m.bindings || []).length === 0
        ? el("p", { class: "muted" }, "No --model binding (the strategy bundle carries its own fitted models).")
        : m.bindings.map(binding)));
    const retired = m.retired_generations || [];
    parts.push(el("section", { class: "card", id: "swaps", "aria-label": "Swap history" },
      el("h2", {}, "Swap history: pipeline generations retired by a swap"),
      retired.length === 0 ? el("p", { class: "muted" }, "No swap since the service started.")
        : table(["num:Generation", "num:Decisions served", "num:In flight at close", "Closed (UTC)", "Close failed"],
          retired.map((r) => el("tr", {}, el("td", { class: "num" }, r.generation), el("td", { class: "num" }, r.decisions),
            el("td", { class: "num" }, r.in_flight_at_close), el("td", {}, utc(r.closed_at)), el("td", {}, r.close_failed ? "yes" : "no"))))));
    body.replaceChildren(...parts);
  };
  const ready = (async () => {
    main.append(el("h1", {}, "Models"), body);
    await draw();
    const refresh = throttle(() => draw().catch(() => {}), 1000);
    const s = stream("models", { transition: refresh, plugins: refresh, tick: refresh });
    disposers.push(() => s.close());
  })();
  return { ready, dispose: () => disposers.forEach((d) => d()) };
}

/** One --model binding: what serves and since when, the alias's moves, the versions refused. */
function binding(b) {
  const serving = b.serving || {};
  const moves = b.alias_moves;
  return el("div", { class: "binding", dataset: { capability: b.capability } },
    el("h3", {}, `${b.capability} ← ${b.requested}`),
    el("p", {}, `Serving version ${serving.version ?? "—"} (run ${serving.run_id ?? "—"}, ${serving.format ?? "?"}) since ${utc(serving.since)}; `,
      `${b.swaps ?? 0} swap(s); last poll ${utc(b.last_poll)}: ${b.last_poll_result ?? "—"}.`),
    moves === undefined ? null : el("h4", {}, "Alias moves observed (newest first)"),
    moves === undefined ? null : moves.length === 0 ? el("p", { class: "muted" }, "None recorded yet.")
      : table(["Observed (UTC)", "From version", "To version"], moves.map((x) =>
        el("tr", {}, el("td", {}, utc(x.observed_at)), el("td", {}, x.from ?? "—"), el("td", {}, x.to)))),
    el("h4", {}, "Versions refused"),
    (b.refused || []).length === 0 ? el("p", { class: "muted" }, "None.")
      : table(["Version", "Reason", "Detail", "At (UTC)"], b.refused.map((r) =>
        el("tr", {}, el("td", {}, r.version), el("td", {}, r.reason), el("td", { class: "reason" }, r.detail), el("td", {}, utc(r.at))))),
    el("details", {}, el("summary", {}, "Every field"), kv(b)));
}
