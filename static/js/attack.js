// The attack lab: keep the live view (the victim API's console, the attacker's log, the
// verdicts and the fix) up to date, and read the account from this page, the site the API must
// keep serving. The policy and fix forms are plain forms; the attacker's page runs the attack
// in its own window (static/js/attacker.js, on the attacker's origin).
(() => {
  "use strict";
  const root = document.getElementById("attack");
  if (!root) return;
  const { send, listen } = window.CorsRunner;
  const status = document.getElementById("site-status");
  const checkButton = document.getElementById("site-check");

  const say = (text) => { if (status) status.textContent = text; };

  async function refresh() {
    let html;
    try {
      const reply = await fetch(root.dataset.view, { headers: { Accept: "text/html" } });
      if (!reply.ok) return;
      html = await reply.text();
    } catch (e) {
      return; // the next event brings it up to date
    }
    const current = document.getElementById("attack-live");
    if (!current) return;
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.firstElementChild;
    if (!fresh) return;
    // Keep what the learner opened open, and the keyboard where it was.
    const opened = new Set([...current.querySelectorAll("details[open]")].map((d) => d.className));
    const focused = current.contains(document.activeElement) && document.activeElement.id;
    current.replaceWith(fresh);
    for (const details of fresh.querySelectorAll("details")) {
      if (opened.has(details.className)) details.open = true;
    }
    if (focused) {
      const again = document.getElementById(focused);
      if (again) again.focus();
    }
  }

  // Several events in a burst (one per leg and report) fetch the view once.
  let pending = null;
  function schedule() {
    if (pending !== null) return;
    pending = window.setTimeout(() => {
      pending = null;
      refresh();
    }, 60);
  }

  if (checkButton) {
    checkButton.addEventListener("click", async () => {
      checkButton.disabled = true;
      say("Reading your account from this page…");
      try {
        const run = await send(root.dataset.siteCheck, new URLSearchParams(), { say, show: () => {} });
        if (run && run.result) {
          say(run.result.error
            ? `fetch() rejected (${run.result.error}).`
            : `fetch() resolved with status ${run.result.status}.`);
        }
      } finally {
        checkButton.disabled = false;
        refresh();
      }
    });
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") schedule();
  });
  listen(root.dataset.events, schedule);
})();
