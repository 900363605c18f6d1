// Reports: the backtest reports (report.html) under the service's reports folder, openable.
import { api, el, num, stream, table, throttle, utc } from "../lib.js";

export function reports(main) {
  const disposers = [];
  const body = el("div", { id: "reports" });
  let last = null;
  const draw = async () => {
    const r = await api("/v1/reports");
    const text = JSON.stringify(r);
    if (text === last) return;
    last = text;
    body.replaceChildren(el("p", { class: "muted" }, `Folder ${r.dir}${r.exists ? "" : " (does not exist yet)"}: backtest --out writes here; serve --reports-dir chooses it.`),
      r.reports.length === 0 ? el("p", { class: "muted" }, "No report yet.")
        : table(["Report", "Dataset", "num:Bars", "Policies", "Written (UTC)", "num:Size (KiB)", "Open"], r.reports.map((x) =>
          el("tr", { dataset: { report: x.id } }, el("td", {}, x.id), el("td", {}, x.dataset || "—"),
            el("td", { class: "num" }, x.bars ?? "—"), el("td", {}, (x.policies || []).join(", ")),
            el("td", {}, utc(x.modified)), el("td", { class: "num" }, num(x.bytes / 1024, 1)),
            el("td", {}, el("a", { href: `/v1/reports/file?id=${encodeURIComponent(x.id)}&file=report.html`, target: "_blank", rel: "noopener" }, "report.html"))))));
  };
  const ready = (async () => {
    main.append(el("h1", {}, "Reports"), body);
    await draw();
    const refresh = throttle(() => draw().catch(() => {}), 2000);
    const s = stream("reports", { tick: refresh });
    disposers.push(() => s.close());
  })();
  return { ready, dispose: () => disposers.forEach((d) => d()) };
}
