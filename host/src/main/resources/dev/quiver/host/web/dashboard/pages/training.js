// Training: not available in this service yet (issue 12); says so and what to use instead.
import { api, el } from "../lib.js";

export function training(main) {
  const ready = (async () => {
    const t = (await api("/v1/dashboard")).training;
    main.append(el("h1", {}, "Training"),
      el("section", { class: "card", id: "training" },
        el("p", {}, el("span", { class: `badge ${t.available ? "ok" : "warn"}` }, t.available ? "available" : "not available"), " ", t.reason || "")));
  })();
  return { ready, dispose: () => {} };
}
