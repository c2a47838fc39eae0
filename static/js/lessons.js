// Lessons: after the answer is locked in, focus Send; when this lesson's newest run is done
// (runner.js keeps its card live in #runs), load the explanation of that run.
(() => {
  "use strict";
  const app = document.getElementById("app");
  const runs = document.getElementById("runs");
  const slot = document.getElementById("lesson-explanation");
  if (!app || !runs || !slot || !app.dataset.explain) return;

  const current = slot.querySelector("[data-run-id]");
  let shown = current ? current.dataset.runId : "";
  let asked = "";

  async function explain(runId) {
    asked = runId;
    let reply;
    try {
      reply = await fetch(app.dataset.explain + encodeURIComponent(runId), {
        headers: { Accept: "text/html" },
      });
    } catch (e) {
      return; // the run card still shows what happened
    }
    if (!reply.ok || asked !== runId) return;
    slot.innerHTML = await reply.text();
    shown = runId;
    const heading = slot.querySelector("h2");
    if (heading) heading.focus();
  }

  function check() {
    const card = runs.querySelector(".run"); // newest first
    if (!card || card.dataset.state !== "done") return;
    const runId = card.dataset.runId;
    if (runId && runId !== shown && runId !== asked) explain(runId);
  }

  new MutationObserver(check).observe(runs, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["data-state"],
  });

  // The answer fragment replaces the question; keep keyboard focus on the next step.
  document.addEventListener("htmx:after:settle", () => {
    const send = document.getElementById("send");
    if (send && (document.activeElement === document.body || !document.activeElement)) send.focus();
  });
})();
