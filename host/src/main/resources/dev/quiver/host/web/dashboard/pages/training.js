// Training: not available in this service yet (issue 12); says so and what to use instead.
import { el, getAbout } from "../lib.js";

export function training(main) {
  const t = (getAbout() || {}).training || { available: false, reason: "unknown" };
  main.append(el("h1", {}, "Training"),
    el("section", { class: "card", id: "training" },
      el("p", {}, el("span", { class: "badge warn" }, "not available"), " ", t.reason)));
  return { ready: Promise.resolve(), dispose: () => {} };
}
