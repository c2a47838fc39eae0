// A lab page: send each lab form (runner.js, loaded before this file, does the run: plain
// fetch(), then what JavaScript got is recorded), one send at a time, and keep the lab's cards
// live: the lab session's event stream says when a run changed, and the lab's card is fetched.
(() => {
  "use strict";
  const lab = document.getElementById("lab");
  const log = document.getElementById("lab-log");
  const status = document.getElementById("lab-status");
  if (!lab || !log) return;
  // The run itself: static/js/runner.js, loaded before this file.
  const { parse, cardUpdate, send, listen } = window.CorsRunner;
  const forms = [...document.querySelectorAll("form[data-lab-form]")];
  let busy = false;

  const say = (text) => { if (status) status.textContent = text; };

  // Put a card in place of an older version of itself, or on top when it is new.
  function applyCard(html) {
    const update = cardUpdate(html);
    if (!update) return;
    const { card, current } = update;
    if (!current) {
      const empty = log.querySelector(".empty");
      if (empty) empty.remove();
      log.prepend(card);
    } else {
      // Keep the legs the learner opened open.
      const opened = new Set();
      for (const details of current.querySelectorAll("details[open]")) {
        const owner = details.closest("[data-run-id]");
        if (owner) opened.add(owner.dataset.runId);
      }
      const focused = current.contains(document.activeElement) ? document.activeElement : null;
      current.replaceWith(card);
      for (const details of card.querySelectorAll("details")) {
        const owner = details.closest("[data-run-id]");
        if (owner && opened.has(owner.dataset.runId)) details.open = true;
      }
      if (focused) refocus(focused, card);
    }
    startCountdowns();
  }

  // A live update must not take the keyboard's place away: focus the same control again.
  function refocus(focused, card) {
    let same = null;
    if (focused.dataset.labSeries) {
      same = card.querySelector(`[data-lab-series="${CSS.escape(focused.dataset.labSeries)}"]`);
    } else if (focused.tagName === "SUMMARY") {
      const owner = focused.closest("[data-run-id]");
      if (owner) {
        const match = card.dataset.runId === owner.dataset.runId
          ? card : card.querySelector(`[data-run-id="${CSS.escape(owner.dataset.runId)}"]`);
        same = match && match.querySelector("summary");
      }
    }
    if (same) same.focus();
  }

  async function refresh(runId) {
    try {
      const reply = await fetch(lab.dataset.fragment + encodeURIComponent(runId), {
        headers: { Accept: "text/html" },
      });
      if (reply.ok) applyCard(await reply.text());
    } catch (e) {
      // The next event or send brings the card up to date.
    }
  }

  // Several events in a burst (one per leg) fetch the card once.
  const pending = new Map();
  function schedule(runId) {
    if (pending.has(runId)) return;
    pending.set(runId, window.setTimeout(() => {
      pending.delete(runId);
      refresh(runId);
    }, 40));
  }

  function setBusy(value) {
    busy = value;
    for (const button of document.querySelectorAll("#lab button.send, #lab [data-lab-series]")) {
      if (value) {
        button.dataset.wasDisabled = button.disabled ? "1" : "";
        button.disabled = true;
      } else {
        button.disabled = button.dataset.wasDisabled === "1";
      }
    }
    lab.setAttribute("aria-busy", value ? "true" : "false");
  }

  // Predict first: every question of the form needs an answer before the send. The first
  // unanswered one is named and focused; nothing is sent.
  function unanswered(form) {
    for (const question of form.querySelectorAll("fieldset[data-question]")) {
      if (!question.querySelector("input[type=radio]:checked")) return question;
    }
    return null;
  }
  function askFirst(form) {
    const box = form.querySelector("fieldset[data-predict-first]");
    const question = unanswered(form);
    if (!question) {
      if (box) box.removeAttribute("data-missing");
      return true;
    }
    if (box) box.dataset.missing = "yes";
    const legend = question.querySelector("legend");
    say(`Predict first: ${legend ? legend.textContent.trim() : "answer the question"}`);
    const first = question.querySelector("input[type=radio]");
    if (first) first.focus();
    return false;
  }
  // After a send, the answers are cleared: the next send gets a fresh prediction.
  function clearAnswers(form) {
    for (const input of form.querySelectorAll("fieldset[data-question] input[type=radio]")) {
      input.checked = false;
    }
  }

  // One send at a time: the preflight cache lab depends on the order of sends.
  async function sendForm(form, extra) {
    if (busy) return;
    if (!askFirst(form)) return;
    // Keyboard users keep their place: the button that sent gets the focus back.
    const trigger = document.activeElement;
    const series = trigger instanceof HTMLElement ? trigger.dataset.labSeries : undefined;
    setBusy(true);
    say("Sending…");
    try {
      const body = new URLSearchParams(new FormData(form));
      for (const [name, value] of extra) body.set(name, value);
      const run = await send(lab.dataset.runs, body, { say, show: applyCard });
      if (!run || run.refused) return;
      clearAnswers(form);
      // The recorded card is the playground's; the lab shows its own card of the run.
      const { runId, result } = run;
      await refresh(runId);
      const reveal = form.querySelector("fieldset[data-predict-first]")
        ? " and the engine's answer for each browser" : "";
      say(result.error
        ? `Done: fetch() rejected (${result.error}). The card shows what reached the API origin${reveal}.`
        : `Done: fetch() resolved with status ${result.status}. The card shows what reached the API origin${reveal}.`);
    } finally {
      setBusy(false);
      const again = series ? log.querySelector(`[data-lab-series="${CSS.escape(series)}"]`) : trigger;
      if (again instanceof HTMLElement && again.isConnected && document.activeElement !== again) again.focus();
    }
  }

  for (const form of forms) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendForm(form, []);
    });
  }

  // "Send again to this URL" on a preflight-cache card: the first form, plus the card's URL.
  log.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-lab-series]");
    if (!button || !forms.length) return;
    sendForm(forms[0], [["series", button.dataset.labSeries]]);
  });

  // Countdowns to a cached preflight's expiry, from when the card arrived (no clock skew).
  function startCountdowns() {
    const now = performance.now();
    for (const el of log.querySelectorAll("[data-expires-in]:not([data-deadline])")) {
      el.dataset.deadline = String(now + 1000 * Number(el.dataset.expiresIn));
    }
  }
  function tick() {
    const now = performance.now();
    for (const el of log.querySelectorAll("[data-deadline]:not([data-expired])")) {
      const left = (Number(el.dataset.deadline) - now) / 1000;
      if (left <= 0) {
        el.dataset.expired = "yes";
        const holder = el.closest(".countdown");
        if (holder) {
          // The whole sentence changes: "expires in 0 s: send again before then" is wrong now.
          holder.dataset.cache = "expired";
          holder.textContent = holder.dataset.expiredText || "Expired.";
        } else {
          el.textContent = "expired";
        }
      } else {
        el.textContent = `${left.toFixed(1)} s`;
      }
    }
  }
  startCountdowns();
  window.setInterval(tick, 100);

  // Live: the lab session's stream sends a run's whole card on every change; fetch the lab's.
  listen(lab.dataset.events, (html) => {
    const card = parse(html);
    if (card && card.dataset.runId) schedule(card.dataset.runId);
  });
})();
