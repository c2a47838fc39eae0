// The runner, shared by every page that sends a learner's request (the playground, the lessons,
// the labs; each page loads it before its own script). It sends the request with plain fetch()
// (never htmx, which would add HX-* headers and force a preflight) exactly as the run's scenario
// says, records what JavaScript got, and puts the server's run cards on the page.
// Loaded once per page, though several scripts of a page may ask for it.
window.CorsRunner = window.CorsRunner || (() => {
  "use strict";

  /** The first element of an HTML fragment from the server (null when there is none). */
  function parse(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  /**
   * A card from the server and the element it replaces (null when the card is new), or null
   * when there is no card or the page already shows a newer version: events and replies may
   * arrive in any order.
   */
  function cardUpdate(html) {
    const card = parse(html);
    if (!card || !card.id) return null;
    const current = document.getElementById(card.id);
    if (!current || Number(current.dataset.version) <= Number(card.dataset.version)) {
      return { card, current };
    }
    return null;
  }

  /** Replace a card in `list` by a newer version of itself, or put it on top when it is new. */
  function placeCard(list, html) {
    const update = cardUpdate(html);
    if (!update) return;
    if (update.current) update.current.replaceWith(update.card);
    else list.prepend(update.card);
  }

  /**
   * Put a leg that just reached the API origin into its run's card: the server sends the card's
   * own exchange partial and legs summary, not the whole card. False when the page has no card
   * for that run (the caller may fetch it whole); a card already newer is left as it is.
   */
  function placeLeg(html) {
    const update = parse(html);
    if (!update || !update.dataset.runId) return true;
    const card = document.getElementById(`run-${update.dataset.runId}`);
    if (!card) return false;
    if (Number(card.dataset.version) >= Number(update.dataset.version)) return true;
    const legs = card.querySelector("details.legs");
    const exchange = update.querySelector(".exchange");
    const summary = update.querySelector("summary");
    if (legs && exchange) {
      const pending = legs.querySelector(`.pending[data-leg="${update.dataset.kind}"]`);
      if (pending) pending.replaceWith(exchange);
      else legs.insertBefore(exchange, legs.querySelector(":scope > .note"));
      const current = legs.querySelector(":scope > summary");
      if (current && summary) current.replaceWith(summary);
    }
    card.dataset.version = update.dataset.version;
    return true;
  }

  /** What fetch() does with exactly these options (the scenario's init), as JavaScript sees it. */
  async function runFetch(target, init) {
    const options = {
      method: init.method,
      headers: init.headers,
      credentials: init.credentials,
      mode: init.mode,
    };
    if (init.body !== null) options.body = init.body;
    if (init.redirect && init.redirect !== "follow") options.redirect = init.redirect;
    // A Request that cannot be constructed is refused before anything is sent.
    let sendable = true;
    try {
      new Request(target, options);
    } catch (e) {
      sendable = false;
    }
    try {
      const response = await fetch(target, options);
      // An opaque response (no-cors) or an opaque-redirect one (redirect: "manual").
      const opaque = response.type === "opaque" || response.type === "opaqueredirect";
      let body = null;
      if (!opaque) {
        try { body = await response.text(); } catch (e) { body = null; }
      }
      return {
        outcome: opaque ? response.type : "allowed",
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

  // Post a run's form to a runs endpoint: the reply and its JSON document.
  // Rejects when the playground cannot be reached or does not answer JSON.
  async function createRun(url, body) {
    const reply = await fetch(url, {
      method: "POST",
      body,
      headers: { Accept: "application/json" },
    });
    return { reply, doc: await reply.json() };
  }

  // Record what JavaScript got for the run at `url`; resolves with the playground's reply.
  function recordResult(url, result) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(result),
    });
  }

  /**
   * One run from start to end: post `body` (the form's fields) to the runs endpoint `url`, show
   * the new run's card with `show(html)`, send its fetch() and record what JavaScript got.
   * `say(text)` reports progress and problems; `sent`, when given, is said once the run exists.
   * Resolves with null when the playground could not be reached, { refused: doc } when it
   * refused the form, else { runId, result, card }: what fetch() gave JavaScript and the run's
   * card as recorded (null when the result could not be recorded).
   */
  async function send(url, body, { say, show, sent }) {
    let reply;
    let doc;
    try {
      ({ reply, doc } = await createRun(url, body));
    } catch (e) {
      say(`Could not reach the playground (${e.message}).`);
      return null;
    }
    if (!reply.ok) {
      say(doc.error ? `Not sent: ${doc.error.label || doc.error.field}: ${doc.error.message}` : "Not sent.");
      return { refused: doc };
    }
    show(doc.card);
    if (sent) say(sent);
    const result = await runFetch(doc.target, doc.init);
    let card = null;
    try {
      // The session's own result URL answers with the card its page shows; any other page
      // posts to the run's public one.
      const answer = await recordResult(doc.result || `/runs/${doc.run_id}/result`, result);
      if (answer.ok) card = (await answer.json()).card;
    } catch (e) {
      say(`The result could not be recorded (${e.message}).`);
    }
    return { runId: doc.run_id, result, card };
  }

  // The page's event streams, by address: a page holds ONE stream per address however many
  // of its scripts listen to it (the page's own script for run cards, the room banner for room
  // events), since browsers allow six connections per host name.
  const streams = new Map();

  /**
   * The stream at `url`, opened on first use. It is held only while the page is visible: a
   * stream held by every tab would leave a seventh tab unable to load. Shown again, the page
   * reopens it from the last event it had and the server first sends what changed meanwhile.
   * `on(name, handler)` adds a handler for one event name (it gets the event's data);
   * `ready` resolves once the stream first listens (or after 3 s, so a slow stream blocks
   * nothing).
   */
  function stream(url) {
    const key = new URL(url, window.location.href).href;
    const known = streams.get(key);
    if (known) return known;
    const handlers = new Map(); // event name -> [handler]
    let source = null;
    let last = null; // the id of the newest event this page has had
    let resumed = false;
    let listening;
    const ready = new Promise((resolve) => {
      listening = resolve;
      window.setTimeout(resolve, 3000);
    });

    function seen(event) {
      if (!/^[0-9]+$/.test(event.lastEventId)) return;
      const id = Number(event.lastEventId);
      if (last === null || id > last) last = id;
    }

    function dispatch(event) {
      seen(event);
      (handlers.get(event.type) || []).forEach((handler) => handler(event.data));
    }

    // A stream the server refused (a 503 while its shared store is away, a 429 past the
    // streams a session may hold) is one the browser gives up on for good: the page tries
    // again itself, waiting longer each time, and resumes from the last event it had.
    const RETRY_FIRST = 2000;
    const RETRY_MOST = 30000;
    let retry = RETRY_FIRST;
    let retrying = null;

    function open() {
      if (source) return;
      window.clearTimeout(retrying);
      const address = new URL(key);
      if (resumed) address.searchParams.set("since", String(last === null ? 0 : last));
      resumed = true;
      const opened = new EventSource(address);
      source = opened;
      opened.addEventListener("open", () => {
        retry = RETRY_FIRST;
        listening();
      });
      opened.addEventListener("error", () => {
        if (opened.readyState !== EventSource.CLOSED || source !== opened) return;
        source = null;
        retrying = window.setTimeout(() => {
          if (document.visibilityState !== "hidden") open();
        }, retry);
        retry = Math.min(retry * 2, RETRY_MOST);
      });
      opened.addEventListener("ready", seen);
      handlers.forEach((_, name) => opened.addEventListener(name, dispatch));
    }

    function close() {
      window.clearTimeout(retrying);
      if (!source) return;
      source.close();
      source = null;
    }

    function on(name, handler) {
      if (!handlers.has(name)) {
        handlers.set(name, []);
        if (source) source.addEventListener(name, dispatch);
      }
      handlers.get(name).push(handler);
    }

    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") close();
      else open();
    });
    window.addEventListener("pagehide", close);
    window.addEventListener("pageshow", (event) => {
      if (event.persisted && document.visibilityState !== "hidden") open();
    });
    const made = { url: key, on, ready };
    streams.set(key, made);
    if (document.visibilityState !== "hidden") open();
    return made;
  }

  /** Listen to `name` events of the stream at `url`: `handler(data)` for each. */
  function subscribe(url, name, handler) {
    const opened = stream(url);
    opened.on(name, handler);
    return opened.ready;
  }

  /**
   * Listen to a session's event stream: `onRun(html)` gets a run's whole card when it is done
   * (or when the page reconnects), `onLeg(html)` each leg as it reaches the API origin (without
   * `onLeg`, `onRun` gets the legs too). Resolves once the stream is first listening (or after
   * 3 s).
   */
  function listen(url, onRun, onLeg) {
    subscribe(url, "leg", onLeg || onRun);
    return subscribe(url, "run", onRun);
  }

  /**
   * What a page with a list of run cards does with a live leg: put it into its card, or fetch
   * the whole card from `cardUrl(runId)` when the page does not show that run yet.
   */
  function legPlacer(list, cardUrl) {
    return async (html) => {
      if (placeLeg(html)) return;
      const runId = parse(html).dataset.runId;
      try {
        const reply = await fetch(cardUrl(runId), { headers: { Accept: "text/html" } });
        if (reply.ok) placeCard(list, await reply.text());
      } catch (e) {
        // The whole card comes with the next change or the page's next load.
      }
    };
  }

  /** The address of the first stream this page opened (null when it has none). */
  function pageStream() {
    const first = streams.keys().next();
    return first.done ? null : first.value;
  }

  return Object.freeze({
    parse, cardUpdate, placeCard, placeLeg, legPlacer, runFetch, send, listen, subscribe,
    pageStream,
  });
})();
