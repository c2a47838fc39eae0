// A lesson page: Send posts the lesson's hidden composer form (runner.js, loaded before this
// file, does the run) and the run cards stay live; after the answer is locked in, focus Send;
// when this lesson's newest run is done, load the explanation of that run.
(() => {
  "use strict";
  const app = document.getElementById("app");
  const form = document.getElementById("composer");
  const runs = document.getElementById("runs");
  const slot = document.getElementById("lesson-explanation");
  const status = document.getElementById("send-status");
  if (!app || !form || !runs || !slot || !app.dataset.explain) return;
  const { placeCard, legPlacer, send, listen } = window.CorsRunner;

  const say = (text) => { if (status) status.textContent = text; };
  const show = (html) => placeCard(runs, html);

  async function sendForm() {
    say("Sending…");
    const body = new URLSearchParams(new FormData(form));
    const run = await send(app.dataset.runs, body, {
      say, show, sent: "Sent: the explanation appears below once your browser has the result.",
    });
    if (run && run.refused) {
      const prediction = document.getElementById("prediction");
      if (run.refused.fragment && prediction) prediction.innerHTML = run.refused.fragment;
    } else if (run && run.card) {
      show(run.card);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendForm();
  });

  // Live cards: the session's event stream (each leg as it arrives, the whole card when done).
  listen(
    app.dataset.events, show, legPlacer(runs, (id) => `${app.dataset.runs}/${encodeURIComponent(id)}/card`),
  );

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
    const button = document.getElementById("send");
    if (button && (document.activeElement === document.body || !document.activeElement)) button.focus();
  });
})();
