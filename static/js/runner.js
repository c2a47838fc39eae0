// The runner: sends the learner's cross-origin request with plain fetch() (never htmx, which
// would add HX-* headers and force a preflight), reports what JavaScript got, and keeps the run
// cards live from the session's event stream.
//
// window.CorsRunner is what the composer and the labs share (lab pages load this file before
// lab.js): creating a run, sending its request, recording what JavaScript got.
window.CorsRunner = (() => {
  "use strict";

  function parse(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // A card from the server and the element it replaces (null when the card is new), or null
  // when there is no card or the page already shows a newer version: events and replies may
  // arrive in any order.
  function cardUpdate(html) {
    const card = parse(html);
    if (!card || !card.id) return null;
    const current = document.getElementById(card.id);
    if (!current || Number(current.dataset.version) <= Number(card.dataset.version)) {
      return { card, current };
    }
    return null;
  }

  // What fetch() does with exactly these options, as JavaScript sees it.
  async function runFetch(target, init) {
    const options = {
      method: init.method,
      headers: init.headers,
      credentials: init.credentials,
      mode: init.mode,
    };
    if (init.body !== null) options.body = init.body;
    // A Request that cannot be constructed is refused before anything is sent.
    let sendable = true;
    try {
      new Request(target, options);
    } catch (e) {
      sendable = false;
    }
    try {
      const response = await fetch(target, options);
      const opaque = response.type === "opaque";
      let body = null;
      if (!opaque) {
        try { body = await response.text(); } catch (e) { body = null; }
      }
      return {
        outcome: opaque ? "opaque" : "allowed",
        status: response.status,
        headers: [...response.headers],
        body,
        error: null,
      };
    } catch (e) {
      return {
        outcome: sendable ? "blocked" : "error",
        status: null,
        headers: [],
        body: null,
        error: `${e.name}: ${e.message}`,
      };
    }
  }

  // Post a run's form to the session's runs endpoint: the reply and its JSON document.
  // Rejects when the playground cannot be reached or does not answer JSON.
  async function createRun(url, body) {
    const reply = await fetch(url, {
      method: "POST",
      body,
      headers: { Accept: "application/json" },
    });
    return { reply, doc: await reply.json() };
  }

  // Record what JavaScript got for the run; resolves with the playground's reply.
  function recordResult(runId, result) {
    return fetch(`/runs/${runId}/result`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(result),
    });
  }

  return Object.freeze({ parse, cardUpdate, runFetch, createRun, recordResult });
})();

(() => {
  "use strict";
  const app = document.getElementById("app");
  const form = document.getElementById("composer");
  const runs = document.getElementById("runs");
  const status = document.getElementById("send-status");
  if (!app || !form || !runs) return;
  const { cardUpdate, runFetch, createRun, recordResult } = window.CorsRunner;

  const say = (text) => { if (status) status.textContent = text; };

  // Replace a card by a newer version of itself, or put it on top when it is new.
  function applyCard(html) {
    const update = cardUpdate(html);
    if (!update) return;
    if (update.current) update.current.replaceWith(update.card);
    else runs.prepend(update.card);
  }

  async function send() {
    say("Sending…");
    let reply;
    let doc;
    try {
      ({ reply, doc } = await createRun(app.dataset.runs, new URLSearchParams(new FormData(form))));
    } catch (e) {
      say(`Could not reach the playground (${e.message}).`);
      return;
    }
    if (!reply.ok) {
      if (doc.fragment) document.getElementById("prediction").innerHTML = doc.fragment;
      say(doc.error ? `Not sent: ${doc.error.field}: ${doc.error.message}` : "Not sent.");
      const invalid = form.querySelector("[aria-invalid='true']");
      if (invalid) invalid.focus();
      return;
    }
    applyCard(doc.card);
    say("Sent: the run is below.");
    const result = await runFetch(doc.target, doc.init);
    try {
      const answer = await recordResult(doc.run_id, result);
      if (answer.ok) applyCard((await answer.json()).card);
    } catch (e) {
      say(`The result could not be recorded (${e.message}).`);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });

  // Live cards: the session's event stream (one partial per change, whole card).
  let streamOpen;
  const ready = new Promise((resolve) => { streamOpen = resolve; });
  const source = new EventSource(app.dataset.events);
  source.addEventListener("open", () => streamOpen());
  source.addEventListener("run", (event) => applyCard(event.data));
  window.setTimeout(() => streamOpen(), 3000);
  window.addEventListener("pagehide", () => source.close());

  // The server console beside the runs, on demand.
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-show-console]");
    if (!button) return;
    const frame = document.getElementById("console-frame");
    if (!frame.src) frame.src = button.dataset.showConsole;
    frame.hidden = !frame.hidden;
  });

  // Share link with run=1: send once, when the stream is listening, and drop run=1.
  if (app.dataset.autorun) {
    ready.then(() => {
      const url = new URL(window.location.href);
      url.searchParams.delete("run");
      window.history.replaceState(null, "", url);
      send();
    });
  }
})();
