// Training (issue 12): the recent training jobs (state, progress with its note, who and why, the
// registered version or the error), the configured schedules with their next run, and cancel for a
// queued or running job through the confirm dialog with who and why (POST
// /v1/training/jobs/{id}/cancel does the work), and the drift per feature of each open session
// (GET /v1/training/drift: PSI and Kolmogorov-Smirnov between the served bundle's training window
// and the session's last bars) with the declared triggers. Re-read on the page's tick; the drift,
// a computation over the training window, at most once a minute.
import { api, confirmDialog, el, num, stream, table, throttle, utc } from "../lib.js";

const ACTIVE = ["queued", "running"];
/** How often the drift is measured again while the page is open, ms. */
const DRIFT_EVERY_MS = 60000;
/** PSI above which a feature is marked as shifted (the usual reading: 0.1 moderate, 0.25 major). */
const PSI_MAJOR = 0.25;
const PSI_MODERATE = 0.1;

export function training(main) {
  const disposers = [];
  const body = el("div", { id: "training" });
  const driftBox = el("div", { id: "training-drift-box" });
  let last = null;
  let available = false;
  const draw = async () => {
    const about = await api("/v1/dashboard");
    available = about.training.available;
    if (!available) {
      const text = JSON.stringify(about.training);
      if (text === last) return;
      last = text;
      body.replaceChildren(el("section", { class: "card" },
        el("p", {}, el("span", { class: "badge warn" }, "not available"), " ", about.training.reason || "")));
      return;
    }
    const [jobs, config] = await Promise.all([api("/v1/training/jobs?limit=50"), api("/v1/training/config")]);
    // Unchanged: keep the page as it is (focus, the element under the pointer).
    const text = JSON.stringify([jobs, config]);
    if (text === last) return;
    last = text;
    body.replaceChildren(jobsCard(jobs.jobs), schedulesCard(config));
  };
  // The drift: measured when the page opens and again at most once a minute, drawn apart from the
  // jobs so that its computation never holds them up.
  let driftAt = 0;
  const drawDrift = async () => {
    if (!available || Date.now() - driftAt < DRIFT_EVERY_MS) return;
    driftAt = Date.now();
    const x = await Promise.all([api("/v1/training/drift"), api("/v1/training/triggers")])
      .then(([d, t]) => ({ d, t }), (e) => ({ error: e.message }));
    x.at = new Date().toISOString();
    driftBox.replaceChildren(driftCard(x));
  };
  const ready = (async () => {
    main.append(el("h1", {}, "Training"), body, driftBox);
    await draw();
    drawDrift().catch(() => {});
    const refresh = throttle(() => draw().then(drawDrift).catch(() => {}), 1000);
    dialog = confirmDialog(() => draw(), "Who and reason are both required: they are recorded with the job.");
    disposers.push(() => dialog.dispose());
    const s = stream("training", { tick: refresh });
    disposers.push(() => s.close());
  })();
  return { ready, dispose: () => disposers.forEach((d) => d()) };
}

function jobsCard(jobs) {
  return el("section", { class: "card", id: "training-jobs", "aria-label": "Training jobs" },
    el("h2", {}, "Recent jobs"),
    jobs.length === 0
      ? el("p", { class: "muted", id: "no-jobs" }, "No training job yet. Ask for one with POST /v1/training/jobs, or configure a schedule.")
      : table(["Job", "Kind", "State", "Progress", "Trigger", "Who / why", "Created (UTC)", "Finished (UTC)", "Result or error", "Action"],
        jobs.map(row)));
}

function row(j) {
  const active = ACTIVE.includes(j.state);
  const badge = j.state === "succeeded" ? "ok" : j.state === "failed" ? "bad" : active ? "warn" : "";
  const progress = Number(j.progress) || 0;
  return el("tr", { dataset: { job: j.id } },
    el("td", { class: "nowrap" }, el("code", {}, j.id)),
    el("td", {}, j.kind),
    el("td", {}, el("span", { class: `badge ${badge}`, "data-state": j.state }, j.state),
      j.cancel_asked && active ? el("span", { class: "muted" }, " cancel asked") : null),
    el("td", {},
      el("progress", { max: "1", value: String(progress), "aria-label": `Progress of job ${j.id}` }),
      ` ${Math.round(progress * 100)} %`,
      j.progress_note ? el("div", { class: "muted" }, j.progress_note) : null),
    el("td", {}, j.trigger),
    el("td", { class: "reason" }, el("span", { class: "actor" }, j.actor), j.reason ? `: ${j.reason}` : ""),
    el("td", {}, utc(j.created_at)),
    el("td", {}, utc(j.finished_at)),
    el("td", { class: "reason anywhere" }, outcome(j)),
    el("td", {}, active ? el("button", {
      type: "button", class: "danger", dataset: { cancel: j.id }, "aria-label": `Cancel job ${j.id}`,
      onclick: () => openDialog(j),
    }, "Cancel") : null));
}

function outcome(j) {
  if (j.error) return el("span", { class: "error" }, j.error);
  const r = j.result;
  if (!r) return "—";
  if (r.registered) return el("span", { "data-registered": r.registered }, r.registered);
  return r.bundle_id ? `bundle ${r.bundle_id} (not registered)` : "done";
}

function schedulesCard(config) {
  const s = config.schedules || [];
  return el("section", { class: "card", id: "training-schedules", "aria-label": "Training schedules" },
    el("h2", {}, "Schedules"),
    s.length === 0
      ? el("p", { class: "muted", id: "no-schedules" }, "No schedule configured. Set them with PUT /v1/training/config.")
      : table(["Name", "Kind", "When (UTC)", "Next run (UTC)", "Parameters"], s.map((x) =>
        el("tr", { dataset: { schedule: x.name } },
          el("td", { class: "nowrap" }, x.name), el("td", { class: "nowrap" }, x.kind),
          el("td", { class: "nowrap" }, x.cron ? `cron ${x.cron}` : `every ${x.every}`),
          el("td", { class: "next-run nowrap", "data-value": x.next_run }, utc(x.next_run)),
          el("td", { class: "anywhere" }, el("code", {}, JSON.stringify(x.params)))))),
    el("p", { class: "muted" }, `Job kinds: ${(config.kinds || []).join(", ") || "—"}.`));
}

/** Per open session, each feature's PSI and KS against the bundle's training window. */
function driftCard(x) {
  const card = el("section", { class: "card", id: "training-drift", "aria-label": "Feature drift" },
    el("h2", {}, "Feature drift: training window against each session's last bars"));
  if (x.error) {
    card.append(el("p", { class: "muted" }, `Not measured: ${x.error}`));
    return card;
  }
  card.append(el("p", { class: "muted" }, `Measured ${utc(x.at)} over the last ${x.d.bars} bars of each session; again within a minute while this page is open. ` +
    `PSI (population stability index, deciles of the training window): below ${PSI_MODERATE} stable, ${PSI_MODERATE}–${PSI_MAJOR} moderate, above ${PSI_MAJOR} major. ` +
    "KS: the two-sample Kolmogorov-Smirnov statistic D (0–1) with its p-value."));
  if (x.d.sessions.length === 0) card.append(el("p", { class: "muted" }, "No open session."));
  for (const s of x.d.sessions) {
    const w = s.training_window;
    card.append(el("h3", {}, `${s.symbol}`),
      el("p", {}, w ? `Training window: ${w.dataset}, ${utc(w.first_bar)} to ${utc(w.last_bar)}; ` : "",
        s.unavailable ? "" : `live bars ${utc(s.live_from)} to ${utc(s.live_to)}.`));
    if (s.unavailable) {
      card.append(el("p", { class: "muted" }, `Unavailable: ${s.unavailable}`));
      continue;
    }
    card.append(table(["Feature", "num:PSI", "Shift", "num:KS D (0–1)", "num:KS p-value", "num:Training values", "num:Live values"],
      Object.entries(s.features).map(([name, f]) => {
        const level = f.psi === null ? "" : f.psi > PSI_MAJOR ? "major" : f.psi > PSI_MODERATE ? "moderate" : "stable";
        return el("tr", { dataset: { feature: name, symbol: s.symbol } },
          el("td", {}, name), el("td", { class: "num", "data-value": f.psi ?? "" }, num(f.psi, 3)),
          el("td", {}, level ? el("span", { class: `badge ${level === "major" ? "bad" : level === "moderate" ? "warn" : "ok"}` }, level) : "—"),
          el("td", { class: "num" }, num(f.ks, 3)), el("td", { class: "num" }, f.ks_p_value === null ? "—" : f.ks_p_value < 0.001 ? "< 0.001" : num(f.ks_p_value, 3)),
          el("td", { class: "num" }, num(f.reference_values, 0)), el("td", { class: "num" }, num(f.live_values, 0)));
      })));
  }
  const triggers = x.t.triggers || [];
  card.append(el("h3", {}, "Triggers"), triggers.length === 0
    ? el("p", { class: "muted" }, "No drift or bundle-age trigger declared (PUT /v1/training/triggers).")
    : table(["Name", "On", "Rule"], triggers.map((t) => el("tr", { dataset: { trigger: t.name } },
      el("td", {}, t.name), el("td", {}, t.on), el("td", { class: "anywhere" }, el("code", {}, JSON.stringify(t)))))));
  return card;
}

let dialog = null;

function openDialog(j) {
  dialog.open(`Cancel training job ${j.id}?`, `This will stop the ${j.kind} job (state now: ${j.state}); it ends cancelled.`, "Cancel job",
    (actor, reason) => api(`/v1/training/jobs/${encodeURIComponent(j.id)}/cancel`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ actor, reason }),
    }));
}
