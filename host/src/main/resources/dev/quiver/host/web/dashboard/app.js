// The Quiver dashboard: one page app over the service's JSON API, live by server-sent events
// (one EventSource per page, /v1/events/{page}). Plain ES module, no build step; charts by uPlot
// (window.uPlot, from its WebJar). Times are shown in UTC with the zone; numbers with units.
import { api, setAbout, utc } from "./lib.js";

// Each page's module is fetched when the page is first shown (the first load asks only for the
// one it shows: fewer requests beside the page's data on the browser's six connections).
const PAGES = {
  live: () => import("./pages/live.js").then((m) => m.live),
  account: () => import("./pages/account.js").then((m) => m.account),
  models: () => import("./pages/models.js").then((m) => m.models),
  plugins: () => import("./pages/plugins.js").then((m) => m.plugins),
  rollouts: () => import("./pages/rollouts.js").then((m) => m.rollouts),
  reports: () => import("./pages/reports.js").then((m) => m.reports),
  training: () => import("./pages/training.js").then((m) => m.training),
};
const main = document.getElementById("page");
let current = null;

function tickClock() {
  document.getElementById("clock").textContent = utc(new Date().toISOString());
}

async function route(ev) {
  const [name, ...rest] = (location.hash.replace(/^#\/?/, "") || "live").split("/");
  const page = Object.hasOwn(PAGES, name) ? name : "live";
  for (const a of document.querySelectorAll("header nav a")) {
    if (a.dataset.page === page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (current) {
    current.dispose();
    current = null;
  }
  main.replaceChildren();
  // Keyboard and screen-reader users land on the new page's content, not back on the nav bar.
  if (ev) main.focus({ preventScroll: true });
  document.title = `Quiver · ${page[0].toUpperCase()}${page.slice(1)}`;
  const asked = location.hash;
  try {
    const make = await PAGES[page]();
    if (location.hash !== asked) return; // navigated on while the module loaded
    const view = make(main, rest.map(decodeURIComponent));
    current = view;
    await view.ready;
  } catch (e) {
    showError(main, e);
  }
  // When the page was drawn, ms since the navigation started (the browser test prints it).
  window.__quiver = window.__quiver || { painted: {} };
  if (!window.__quiver.ready) {
    window.__quiver.ready = performance.now();
    // The frame that shows it: after the next animation frame's paint.
    requestAnimationFrame(() => setTimeout(() => { window.__quiver.shown = performance.now(); }, 0));
  }
}

export function showError(where, e) {
  const p = document.createElement("p");
  p.className = "error";
  p.setAttribute("role", "alert");
  p.textContent = String(e && e.message ? e.message : e);
  where.prepend(p);
}

async function start() {
  tickClock();
  setInterval(tickClock, 1000);
  // The page does not wait for this: it is only needed for actions (and by Training).
  api("/v1/dashboard").then((about) => {
    setAbout(about);
    if (about.actions_need_token) document.getElementById("token-field").hidden = false;
  }).catch((e) => showError(main, e));
  window.addEventListener("hashchange", route);
  await route();
}

start();
