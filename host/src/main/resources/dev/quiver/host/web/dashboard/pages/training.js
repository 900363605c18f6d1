// Training (issue 12): the recent training jobs (state, progress with its note, who and why, the
// registered version or the error), the configured schedules with their next run, and cancel for a
// queued or running job through the confirm dialog with who and why (POST
// /v1/training/jobs/{id}/cancel does the work). Re-read on the page's tick.
import { api, confirmDialog, el, stream, table, throttle, utc } from "../lib.js";

const ACTIVE = ["queued", "running"];

export function training(main) {
  const disposers = [];
  const body = el("div", { id: "training" });
  let last = null;
  const draw = async () => {
    const about = await api("/v1/dashboard");
    if (!about.training.available) {
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
  const ready = (async () => {
    main.append(el("h1", {}, "Training"), body);
    await draw();
    const refresh = throttle(() => draw().catch(() => {}), 1000);
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

let dialog = null;

function openDialog(j) {
  dialog.open(`Cancel training job ${j.id}?`, `This will stop the ${j.kind} job (state now: ${j.state}); it ends cancelled.`, "Cancel job",
    (actor, reason) => api(`/v1/training/jobs/${encodeURIComponent(j.id)}/cancel`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ actor, reason }),
    }));
}
