// The Quiver dashboard: one page app over the service's JSON API, live by server-sent events
// (one EventSource per page, /v1/events/{page}). Plain ES module, no build step; charts by uPlot
// (window.uPlot, from its WebJar). Times are shown in UTC with the zone; numbers with units.
import { live } from "./pages/live.js";
import { account } from "./pages/account.js";
import { models } from "./pages/models.js";
import { plugins } from "./pages/plugins.js";
import { rollouts } from "./pages/rollouts.js";
import { reports } from "./pages/reports.js";
import { training } from "./pages/training.js";
import { api, setAbout, utc } from "./lib.js";

const PAGES = { live, account, models, plugins, rollouts, reports, training };
const main = document.getElementById("page");
let current = null;

function tickClock() {
  document.getElementById("clock").textContent = utc(new Date().toISOString());
}

async function route(ev) {
  const [name, ...rest] = (location.hash.replace(/^#\/?/, "") || "live").split("/");
  const page = PAGES[name] ? name : "live";
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
  const view = PAGES[page](main, rest.map(decodeURIComponent));
  current = view;
  try {
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
