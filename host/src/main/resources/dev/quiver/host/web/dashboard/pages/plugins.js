// Plugins: loaded plugins with their capabilities and state (active / quarantined and why), the
// refusals with their codes, call health, and the plugins-folder watcher.
import { api, el, num, stream, table, throttle, utc } from "../lib.js";

export function plugins(main) {
  const disposers = [];
  const body = el("div", { id: "plugins" });
  let last = null;
  const draw = async () => {
    const [p, caps] = await Promise.all([api("/v1/plugins"), api("/v1/capabilities")]);
    const text = JSON.stringify([p, caps]);
    if (text === last) return;
    last = text;
    const provides = {};
    for (const c of caps.capabilities) provides[c.plugin_id] = c.provide_capability;
    const health = {};
    for (const h of p.health) health[h.plugin_id] = h;
    body.replaceChildren(
      el("section", { class: "card", "aria-label": "Loaded plugins" }, el("h2", {}, `Loaded plugins (pipeline generation ${p.serving.generation})`),
        table(["Plugin", "Version", "State", "Capabilities", "num:Calls", "num:Failures", "num:Deadline misses", "Reason"],
          p.plugins.map((x) => {
            const h = health[x.id] || {};
            const quarantined = String(x.state).toUpperCase().includes("QUARANTIN");
            return el("tr", { dataset: { plugin: x.id } }, el("td", {}, x.id), el("td", {}, x.version),
              el("td", {}, el("span", { class: `badge ${quarantined ? "bad" : "ok"}` }, String(x.state).toLowerCase())),
              el("td", {}, (provides[x.id] || []).join ? (provides[x.id] || []).join("; ") : String(provides[x.id] || "")),
              el("td", { class: "num" }, h.calls ?? "—"), el("td", { class: "num" }, h.failures ?? "—"),
              el("td", { class: "num" }, h.deadline_misses ?? "—"), el("td", { class: "reason" }, x.reason || h.reason || ""));
          }))),
      el("section", { class: "card", "aria-label": "Refused plugins" }, el("h2", {}, "Refused"),
        p.refusals.length === 0 ? el("p", { class: "muted" }, "None.")
          : table(["Code", "Plugin", "File", "Message"], p.refusals.map((r) => el("tr", {},
            el("td", {}, r.code), el("td", {}, r.plugin_id || "—"), el("td", {}, r.path), el("td", { class: "reason" }, r.message))))),
      el("section", { class: "card", "aria-label": "Plugins folder" }, el("h2", {}, "Plugins folder watcher"),
        p.watcher.enabled
          ? el("p", {}, `Watching ${p.watcher.folder} every ${num(p.watcher.interval_ms, 0)} ms; ${p.watcher.scans} scans`,
            p.watcher.last_change ? `; last change ${utc(p.watcher.last_change.at)}: ${p.watcher.last_change.actions.join("; ")}` : "",
            p.watcher.last_error ? el("span", { class: "error" }, ` last error: ${p.watcher.last_error}`) : "")
          : el("p", { class: "muted" }, "Not watching (serve --watch-interval-ms 0): plugins change only at a restart.")));
  };
  const ready = (async () => {
    main.append(el("h1", {}, "Plugins"), body);
    await draw();
    const refresh = throttle(() => draw().catch(() => {}), 1000);
    const s = stream("plugins", { plugins: refresh, tick: refresh });
    disposers.push(() => s.close());
  })();
  return { ready, dispose: () => disposers.forEach((d) => d()) };
}
