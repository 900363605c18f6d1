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
        : m.bindings.map((b) => el("div", {}, el("h2", {}, `${b.capability} ← ${b.requested}`), kv(b)))));
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
