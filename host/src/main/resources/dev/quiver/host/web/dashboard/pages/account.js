// Account: the figures of GET /v1/accounts/{id} (equity, cash, position, drawdown, daily P&L, hit
// rate, breakers, recent fills), and the equity and drawdown curves of its acting policy's book
// from the session's history. A stepped bar (SSE) refreshes them.
import { api, chart, el, figure, money, num, pct, seconds, stream, table, throttle, utc } from "../lib.js";

export function account(main, args) {
  const disposers = [];
  const ready = (async () => {
    main.append(el("h1", {}, "Account"));
    const list = await api("/v1/sessions");
    const open = list.sessions.filter((s) => s.state !== "failed_recovery");
    if (open.length === 0) {
      main.append(el("p", { class: "muted" }, "No open session, so no account to show."));
      const s = stream("account", {});
      disposers.push(() => s.close());
      return;
    }
    const chosen = open.find((s) => s.account === args[0]) || open[0];
    const id = chosen.account;
    const symbol = chosen.symbol;
    main.append(el("div", { class: "toolbar" }, el("label", { for: "account" }, "Account "),
      el("select", { id: "account", onchange: (e) => { location.hash = `#/account/${encodeURIComponent(e.target.value)}`; } },
        open.map((s) => el("option", { value: s.account, selected: s.account === id }, `${s.account} (${s.symbol})`)))));
    const figures = el("section", { class: "card", id: "figures", "aria-label": "Account figures" });
    const fills = el("section", { class: "card", id: "fills", "aria-label": "Recent fills" });
    const eqDiv = el("div", { class: "chart", id: "equity-chart" });
    const ddDiv = el("div", { class: "chart", id: "drawdown-chart" });
    const pnlDiv = el("div", { class: "chart", id: "daily-pnl-chart" });
    main.append(figures,
      el("div", { class: "grid" },
        el("section", { class: "card", "aria-label": "Equity" }, el("h2", {}, "Equity"), eqDiv),
        el("section", { class: "card", "aria-label": "Drawdown" }, el("h2", {}, "Drawdown from the high-water mark"), ddDiv)),
      el("section", { class: "card", "aria-label": "Daily P&L" }, el("h2", {}, "Daily P&L (UTC days)"), pnlDiv),
      fills);

    const history = await api(`/v1/sessions/${encodeURIComponent(symbol)}/history?limit=10000&format=columns&fields=equity,drawdown&policies=acting`);
    const acting = history.acting_policy;
    const book = history.columns.policies[acting] || { equity: [], drawdown: [] };
    const xs = history.columns.time.slice(), eq = book.equity.slice();
    const dd = book.drawdown.map((d) => (d === null ? null : -d * 100));
    const eqChart = chart(eqDiv, null, [{ label: `equity (${chosen.account})`, stroke: "#15803d", width: 2 }], [xs, eq], { yLabel: "equity" });
    const ddChart = chart(ddDiv, null, [{ label: "drawdown, %", stroke: "#b42318", fill: "rgba(180,35,24,.12)" }], [xs, dd], { yLabel: "%" });
    // Daily P&L: per UTC day, the day's last equity minus the previous day's last (the first day
    // from its first observation), one bar per day.
    const daily = () => {
      const days = [], pnl = [];
      let prevClose = null, dayStart = null, day = null, lastEq = null;
      for (let i = 0; i < xs.length; i++) {
        if (eq[i] === null) continue;
        const d = Math.floor(xs[i] / 86400);
        if (d !== day) {
          if (day !== null) { days.push(day * 86400); pnl.push(lastEq - (prevClose ?? dayStart)); prevClose = lastEq; }
          day = d; dayStart = eq[i];
        }
        lastEq = eq[i];
      }
      if (day !== null) { days.push(day * 86400); pnl.push(lastEq - (prevClose ?? dayStart)); }
      return [days, pnl];
    };
    const pnlChart = chart(pnlDiv, null, [{ label: "daily P&L", stroke: "#1f5fbf", fill: "rgba(31,95,191,.35)",
      paths: uPlot.paths.bars({ size: [0.8, 12] }), points: { show: false } }], daily(), { yLabel: "P&L" });
    disposers.push(() => eqChart.dispose(), () => ddChart.dispose(), () => pnlChart.dispose());
    const push = (e) => {
      const p = e.policies[acting];
      if (!p) return;
      xs.push(seconds(e.bar_time));
      eq.push(p.equity);
      dd.push(-p.drawdown * 100);
    };

    let last = null;
    const draw = async () => {
      const a = await api(`/v1/accounts/${encodeURIComponent(id)}`);
      const text = JSON.stringify(a);
      if (text === last) return;
      last = text;
      const c = a.currency;
      figures.replaceChildren(el("h2", {}, `${a.id}: ${a.mode} account, ${a.policy} acting`),
        el("dl", { class: "figures" },
          figure(`Equity (${c})`, "equity", a.equity, money(a.equity, c)),
          figure(`Cash (${c})`, "cash", a.cash, money(a.cash, c)),
          figure("Position (units)", "position_units", a.position_units, num(a.position_units, 6)),
          figure("Position weight", "position_weight", a.position_weight, pct(a.position_weight)),
          figure(`High-water mark (${c})`, "high_water_mark", a.high_water_mark, money(a.high_water_mark, c)),
          figure("Drawdown", "drawdown", a.drawdown, pct(a.drawdown)),
          figure(`Daily P&L (${c})`, "daily_pnl", a.daily_pnl, money(a.daily_pnl, c)),
          figure("Hit rate", "hit_rate", a.hit_rate, a.hit_rate === null || a.hit_rate === undefined ? "—" : pct(a.hit_rate, 1)),
          figure("Pending order (target weight)", "pending_order", a.pending_order, a.pending_order === null ? "none" : pct(a.pending_order)),
          figure(`Starting equity (${c})`, "starting_equity", a.starting_equity, money(a.starting_equity, c))),
        el("p", {}, "Breakers: ", Object.entries(a.breakers || {}).map(([k, v]) =>
          el("span", { class: `badge ${v === "armed" ? "bad" : "ok"}`, dataset: { breaker: k } }, `${k}: ${v}`))),
        el("p", { class: "muted" }, "Paper books: ", Object.entries(a.paper_books || {}).map(([k, v]) =>
          `${k} ${money(v.equity, c)} (drawdown ${pct(v.drawdown)})`).join("; ") || "none"));
      fills.replaceChildren(el("h2", {}, "Recent fills"), (a.recent_fills || []).length === 0
        ? el("p", { class: "muted" }, "No fill yet.")
        : table(["Time (UTC)", "Fill id", "Side", "num:Quantity (units)", `num:Price (${c})`, `num:Fee (${c})`],
          a.recent_fills.slice().reverse().map((f) => el("tr", {}, el("td", {}, utc(f.time)), el("td", {}, f.client_fill_id),
            el("td", {}, f.side), el("td", { class: "num" }, num(f.quantity, 6)), el("td", { class: "num" }, num(f.price)),
            el("td", { class: "num" }, num(f.fee))))));
    };
    await draw();
    const refresh = throttle(() => draw().catch(() => {}), 500);
    const s = stream("account", {
      decision: (d) => {
        if (d.symbol !== symbol) return;
        push(d.entry);
        eqChart.setData([xs, eq]);
        ddChart.setData([xs, dd]);
        pnlChart.setData(daily());
        refresh();
      },
      tick: () => refresh(),
    });
    disposers.push(() => s.close());
  })();
  return { ready, dispose: () => disposers.forEach((d) => d()) };
}
