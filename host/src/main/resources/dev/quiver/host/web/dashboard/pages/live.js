// Live: per symbol, the price with each order of the acting policy marked, the fused p_up over time
// with each source's p_up, the latest decision (contributions, each policy's fraction with its
// Kelly inputs and reason), breaker states, and the recent decisions. New bars arrive by SSE.
import { answer, api, chart, color, el, figure, num, pct, seconds, stream, table, takeEarly, throttle, utc } from "../lib.js";

const RECENT = 30;
/** Bars of history the page draws: all the service keeps per session. */
const HISTORY = 10000;
/** The columns the page draws (index.html asks for the same). */
const LIVE_COLUMNS = "format=columns&fields=close,p_up,agreement,sources,ordered&policies=acting";

export function live(main, args) {
  const disposers = [];
  // Where the first load's time goes (the browser test prints it): performance.now() marks.
  const timing = {};
  const historyOf = (sym) => fetch(`/v1/sessions/${encodeURIComponent(sym)}/history?limit=${HISTORY}&${LIVE_COLUMNS}`,
    { headers: { Accept: "application/json" }, credentials: "omit" });
  const stateOf = (sym) => api(`/v1/sessions/${encodeURIComponent(sym)}`);
  const ready = (async () => {
    // The history and state are asked for with the sessions list, not after it: on the first
    // load index.html asked for them already, before the modules loaded (for the link's symbol,
    // else the first open session's); on a later navigation to a linked symbol, here. A guess
    // that turns out wrong is dropped and asked again below.
    timing.page_started = performance.now();
    const early = takeEarly();
    let guess = null;
    if (early) {
      guess = { symbol: early.symbol, history: early.history, state: early.state.then((r) => r && answer(r)) };
    } else if (args[0]) {
      guess = { symbol: Promise.resolve(args[0]), history: historyOf(args[0]), state: stateOf(args[0]) };
    }
    if (guess) { guess.history.catch(() => {}); guess.state.catch(() => {}); }
    const list = await (early ? early.sessions.then((r) => answer(r)) : api("/v1/sessions"));
    const open = list.sessions.filter((s) => s.state !== "failed_recovery");
    main.append(el("h1", {}, "Live"));
    if (list.halt && list.halt.halted) {
      main.append(el("p", { class: "badge bad", role: "status" },
        `Kill switch: halted by ${list.halt.actor || "?"}: ${list.halt.reason || ""}`));
    }
    if (open.length === 0) {
      main.append(el("p", { class: "muted", id: "no-session" },
        "No open session. Open one with PUT /v1/sessions/{symbol} (see the README), then its decisions appear here."));
      const s = stream("live", {});
      disposers.push(() => s.close());
      return;
    }
    const symbol = open.some((s) => s.symbol === args[0]) ? args[0] : open[0].symbol;
    const select = el("select", { id: "symbol", onchange: (e) => { location.hash = `#/live/${encodeURIComponent(e.target.value)}`; } },
      open.map((s) => el("option", { value: s.symbol, selected: s.symbol === symbol }, `${s.symbol} (${s.account})`)));
    main.append(el("div", { class: "toolbar" }, el("label", { for: "symbol" }, "Symbol "), select,
      el("span", { class: "muted", id: "session-line" })));

    // The history (columnar: one array per series, drawn with one setData per chart) and the
    // session's state, asked for together.
    const guessed = guess !== null && (await guess.symbol) === symbol;
    let state = guessed ? guess.state : stateOf(symbol);
    state.catch(() => {}); // awaited below; a failure is shown there, not as an unhandled one
    const history = await answer(await (guessed ? guess.history : historyOf(symbol)), timing);
    const acting = history.acting_policy;
    const cols = history.columns;
    const sources = Object.keys(cols.sources);

    const priceCard = el("section", { class: "card", "aria-label": "Price and decisions" },
      el("h2", {}, `${symbol}: close with orders of ${acting}`));
    const pCard = el("section", { class: "card", "aria-label": "Fused p_up" },
      el("h2", {}, "Fused p_up, agreement and each source's p_up"));
    const priceChart = el("div", { class: "chart", id: "price-chart" });
    const pChart = el("div", { class: "chart", id: "pup-chart" });
    priceCard.append(priceChart, el("p", { class: "legend-note" }, "Dots: bars where the acting policy's decision changed the position (ordered; filled at the next open in paper mode)."));
    pCard.append(pChart, el("p", { class: "legend-note" }, "p_up: probability of an up move over the horizon, 0–1; sources weighted by the fusion (weights in the latest decision); agreement: how far the sources agree, 0–1 (dashed)."));
    main.append(el("div", { class: "grid" }, priceCard, pCard));
    const latest = el("section", { class: "card", id: "latest", "aria-label": "Latest decision" });
    const breakers = el("section", { class: "card", id: "breakers", "aria-label": "Breakers" });
    main.append(el("div", { class: "grid" }, latest, breakers));
    const recentBody = el("tbody", { id: "decisions" });
    main.append(el("section", { class: "card", "aria-label": "Recent decisions" },
      el("h2", {}, "Recent decisions"),
      el("table", {}, el("thead", {}, el("tr", {},
        ["Bar (UTC)", "Close (quote currency)", "p_up (0–1)", "Agreement (0–1)", `${acting} fraction (% of equity)`, "Ordered", "Reason"].map((h) => el("th", { scope: "col" }, h)))),
      recentBody)));

    // Chart data, columnar (uPlot): time, close, orders | time, p_up, sources... The history's
    // columns are used as they come; a pushed decision appends one value to each.
    const xs = cols.time, close = cols.close, pUp = cols.p_up, agree = cols.agreement;
    const actingOrdered = (cols.policies[acting] || {}).ordered || [];
    const orders = close.map((c, i) => (actingOrdered[i] ? c : null));
    const per = sources.map((s) => cols.sources[s]);
    const push = (e) => {
      xs.push(seconds(e.bar_time));
      close.push(e.close);
      const a = e.policies[acting];
      orders.push(a && a.ordered ? e.close : null);
      pUp.push(e.p_up);
      agree.push(e.agreement === undefined ? null : e.agreement);
      sources.forEach((s, i) => {
        const c = (e.contributions || []).find((x) => x.source === s);
        per[i].push(c ? c.p_up : null);
      });
    };
    const price = chart(priceChart, null, [
      { label: "close", stroke: "#1c2330" },
      { label: `orders (${acting})`, stroke: "#c2410c", width: 0, points: { show: true, size: 4, fill: "#c2410c" }, paths: () => null },
    ], [xs, close, orders], { yLabel: "price (quote currency)" });
    const prob = chart(pChart, null, [
      { label: "fused p_up", stroke: "#1f5fbf", width: 2.5 },
      { label: "agreement", stroke: "#6b7280", width: 1, dash: [4, 3] },
      ...sources.map((s, i) => ({ label: s, stroke: color(i + 1), width: 1 })),
    ], [xs, pUp, agree, ...per], { yLabel: "p_up, agreement (0–1)", scales: { y: { range: [0, 1] } } });
    disposers.push(() => price.dispose(), () => prob.dispose());
    timing.charts_drawn = performance.now();
    timing.bars = xs.length;

    const row = (e, fresh) => {
      const a = e.policies[acting] || {};
      return el("tr", { class: fresh ? "new" : null, dataset: { barTime: e.bar_time } },
        el("td", {}, utc(e.bar_time)), el("td", { class: "num" }, num(e.close)),
        el("td", { class: "num" }, e.p_up === null ? "—" : num(e.p_up, 3)),
        el("td", { class: "num" }, e.agreement === undefined ? "—" : num(e.agreement, 2)),
        el("td", { class: "num" }, pct(a.fraction)), el("td", {}, a.ordered ? "yes" : "no"),
        el("td", { class: "reason" }, a.reason || e.no_signal || ""));
    };
    history.recent.slice(-RECENT).reverse().forEach((e) => recentBody.append(row(e, false)));

    const drawState = async () => {
      const st = await (state || api(`/v1/sessions/${encodeURIComponent(symbol)}`));
      state = null;
      document.getElementById("session-line").textContent =
        `${st.state}, generation ${st.generation}, ${st.bars} bars, last bar ${utc(st.last_bar_time)}; bundle ${st.strategy && st.strategy.bundle ? st.strategy.bundle : ""}`;
      drawLatest(latest, st.last_decision, acting);
      drawBreakers(breakers, st);
    };
    await drawState();
    timing.state_drawn = performance.now();
    window.__quiver = window.__quiver || { painted: {} };
    window.__quiver.timing = timing;
    const refresh = throttle(() => drawState().catch(() => {}), 500);

    const s = stream("live", {
      decision: (d) => {
        if (d.symbol !== symbol) return;
        const e = d.entry;
        push(e);
        price.setData([xs, close, orders]);
        prob.setData([xs, pUp, agree, ...per]);
        recentBody.prepend(row(e, true));
        while (recentBody.children.length > RECENT) recentBody.lastChild.remove();
        // When it shows: the animation frame that paints the new point and row (uPlot draws on
        // a microtask after setData, before this frame), wall clock for the browser test.
        requestAnimationFrame(() => {
          window.__quiver = window.__quiver || {};
          window.__quiver.painted = window.__quiver.painted || {};
          window.__quiver.painted[e.bar_time] = Date.now();
        });
        refresh();
      },
      plugins: () => refresh(),
    });
    disposers.push(() => s.close());
  })();
  return { ready, dispose: () => disposers.forEach((d) => d()) };
}

function drawLatest(where, d, acting) {
  where.replaceChildren(el("h2", {}, "Latest decision"));
  if (!d) {
    where.append(el("p", { class: "muted" }, "No bar stepped yet (only warm-up)."));
    return;
  }
  where.append(el("p", {}, `Bar ${utc(d.bar_time)}`));
  if (d.fused) {
    where.append(el("dl", { class: "figures" },
      figure("fused p_up", "p_up", d.fused.p_up, num(d.fused.p_up, 3)),
      figure("confidence", "confidence", d.fused.confidence, num(d.fused.confidence, 3)),
      figure("agreement", "agreement", d.fused.agreement, num(d.fused.agreement, 3)),
      figure("fusion", "fusion", d.fused.fusion, d.fused.fusion)));
    where.append(el("h2", {}, "Sources"), table(["Source", "num:p_up (0–1)", "num:Weight (0–1)"],
      d.fused.contributions.map((c) => el("tr", {}, el("td", {}, c.source),
        el("td", { class: "num" }, num(c.p_up, 3)), el("td", { class: "num" }, num(c.weight, 3))))));
  } else {
    where.append(el("p", { class: "muted" }, `No signal: ${d.no_signal}`));
  }
  where.append(el("h2", {}, "Policies"), table(
    ["Policy", "num:Fraction (% of equity)", "num:p (Kelly, 0–1)", "num:b (payoff ratio, ×)", "num:Volatility (% per bar)", "num:Cap (% of equity)", "Reason"],
    Object.entries(d.decisions).map(([name, p]) => el("tr", { dataset: { policy: name } },
      el("td", {}, name, p.acting ? el("span", { class: "badge ok" }, " acting") : null),
      el("td", { class: "num" }, pct(p.fraction)),
      el("td", { class: "num" }, p.inputs ? num(p.inputs.p_up, 3) : "—"),
      el("td", { class: "num" }, p.inputs ? num(p.inputs.payoff_ratio, 2) : "—"),
      el("td", { class: "num" }, p.inputs ? pct(p.inputs.volatility) : "—"),
      el("td", { class: "num" }, p.inputs ? pct(p.inputs.max_fraction, 0) : "—"),
      el("td", { class: "reason" }, p.reason, p.overridden_by_risk ? " (risk guard)" : "")))));
  void acting;
}

function drawBreakers(where, st) {
  where.replaceChildren(el("h2", {}, "Breakers"));
  const a = st.account || {};
  const b = a.breakers || {};
  where.append(el("ul", { class: "breakers" }, Object.entries(b).map(([name, state]) =>
    el("li", { dataset: { breaker: name } }, `${name}: `,
      el("span", { class: `badge ${state === "armed" ? "bad" : "ok"}` }, state)))));
  if (st.halted) where.append(el("p", { class: "badge bad" }, "session halted"));
  if (a.halt_reason) where.append(el("p", { class: "error" }, a.halt_reason));
  const events = a.breaker_events || [];
  if (events.length) {
    where.append(table(["Time (UTC)", "Breaker", "Event", "Reason"], events.slice().reverse().map((e) =>
      el("tr", {}, el("td", {}, utc(e.time)), el("td", {}, e.breaker), el("td", {}, e.event), el("td", { class: "reason" }, e.reason)))));
  }
}
