// The playground page: the composer form (header rows, the policy builder, field messages) and
// sending it (runner.js, loaded before this file, does the run itself), with the run cards kept
// live from the session's event stream. The live prediction is htmx (hx-post on the form); this
// script keeps the form's field ids in step with the server's so messages land by their fields.
(() => {
  "use strict";
  const app = document.getElementById("app");
  const form = document.getElementById("composer");
  const template = document.getElementById("row-template");
  const prediction = document.getElementById("prediction");
  const runs = document.getElementById("runs");
  const status = document.getElementById("send-status");
  if (!app || !form || !template || !prediction || !runs) return;
  const { parse, placeCard, legPlacer, send, listen } = window.CorsRunner;

  const refresh = () => form.dispatchEvent(new Event("refresh"));

  // A header row's two fields: the name (a text area that wraps) and the value.
  const fields = (row) => [row.querySelector(".name"), row.querySelector(".value")];

  // Header names wrap instead of being cut off: each name's text area is as tall as its text
  // (CSS field-sizing does this where it is supported), and Enter sends, as in a single-line
  // field.
  function fit(area) {
    if (CSS.supports("field-sizing", "content")) return;
    area.style.height = "auto";
    area.style.height = `${area.scrollHeight + area.offsetHeight - area.clientHeight}px`;
  }
  form.addEventListener("input", (event) => {
    if (event.target instanceof HTMLTextAreaElement && event.target.matches(".name")) fit(event.target);
  });
  form.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key !== "Enter" || event.isComposing) return;
    if (!(target instanceof HTMLTextAreaElement) || !target.matches(".name")) return;
    event.preventDefault();
    form.requestSubmit();
  });
  const fitAll = () => form.querySelectorAll("textarea.name").forEach(fit);
  window.addEventListener("resize", fitAll);
  fitAll();

  // Ids follow positions: the fieldset carries the server's id of each part of a row, with
  // "index" standing for the row's position (data-name-id, data-value-id).
  function renumber(fieldset) {
    const prefix = fieldset.dataset.rows;
    fieldset.querySelectorAll("li.row").forEach((row, index) => {
      const inputs = fields(row);
      const labels = row.querySelectorAll("label");
      const slots = row.querySelectorAll(".msg");
      ["name", "value"].forEach((part, i) => {
        const id = fieldset.dataset[`${part}Id`].replace("index", String(index));
        inputs[i].id = id;
        inputs[i].name = `${prefix}_${part}`;
        inputs[i].setAttribute("aria-describedby", "m-" + id);
        labels[i].htmlFor = id;
        // The label the server gives this field (its messages use it too).
        const noun = fieldset.dataset.noun;
        labels[i].textContent = `${noun[0].toUpperCase()}${noun.slice(1)} ${index + 1} ${part}`;
        slots[i].id = "m-" + id;
      });
      const remove = row.querySelector("[data-remove-row]");
      if (remove) remove.setAttribute("aria-label", `Remove ${fieldset.dataset.noun} ${index + 1}`);
    });
  }

  function newRow(name, value) {
    const row = template.content.firstElementChild.cloneNode(true);
    const inputs = fields(row);
    inputs[0].value = name || "";
    inputs[1].value = value || "";
    return row;
  }

  function setPolicyRows(prefix, rows) {
    const fieldset = form.querySelector(`fieldset[data-rows="${prefix}"]`);
    fieldset.querySelectorAll("li.row").forEach((row) => {
      const name = row.querySelector(".name").value.trim().toLowerCase();
      if (name.startsWith("access-control-")) row.remove();
    });
    const list = fieldset.querySelector("ol.rows");
    rows.forEach(([name, value]) => list.append(newRow(name, value)));
    renumber(fieldset);
    fitAll();
  }

  function applyPolicy() {
    const value = (id) => document.getElementById(id).value.trim();
    const choice = value("p-origin");
    const allowOrigin = {
      none: null,
      star: "*",
      this: window.location.origin,
      other: value("p-origin-other"),
      null: "null",
    }[choice];
    const common = [];
    if (allowOrigin !== null && allowOrigin !== undefined) {
      common.push(["Access-Control-Allow-Origin", allowOrigin]);
    }
    if (document.getElementById("p-credentials").checked) {
      common.push(["Access-Control-Allow-Credentials", "true"]);
    }
    const preflight = [...common];
    if (value("p-methods")) preflight.push(["Access-Control-Allow-Methods", value("p-methods")]);
    if (value("p-headers")) preflight.push(["Access-Control-Allow-Headers", value("p-headers")]);
    if (value("p-max-age")) preflight.push(["Access-Control-Max-Age", value("p-max-age")]);
    const response = [...common];
    if (value("p-expose")) response.push(["Access-Control-Expose-Headers", value("p-expose")]);
    setPolicyRows("pf", preflight);
    setPolicyRows("rs", response);
    refresh();
  }

  form.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const add = target.closest("[data-add-row]");
    if (add) {
      const fieldset = add.closest("fieldset");
      const row = newRow();
      fieldset.querySelector("ol.rows").append(row);
      renumber(fieldset);
      fields(row)[0].focus();
      refresh();
      return;
    }
    const remove = target.closest("[data-remove-row]");
    if (remove) {
      const fieldset = remove.closest("fieldset");
      const row = remove.closest("li");
      const neighbour = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber(fieldset);
      (neighbour ? fields(neighbour)[0] : fieldset.querySelector("[data-add-row]")).focus();
      refresh();
      return;
    }
    if (target.closest("[data-apply-policy]")) applyPolicy();
  });

  // Typing a body means sending one.
  const body = document.getElementById("f-request-body");
  const hasBody = document.getElementById("f-has-body");
  if (body && hasBody) body.addEventListener("input", () => { hasBody.checked = true; });

  // Put each message from the prediction fragment next to its field, and announce the
  // prediction's one line when it changes (the panel itself is not a live region: a screen
  // reader would read all of it again after each keystroke).
  const announcer = document.getElementById("prediction-status");
  function placeMessages() {
    const messages = new Map();
    prediction.querySelectorAll(".field-messages li[data-field]").forEach((item) => {
      const id = item.dataset.field;
      const kind = item.dataset.kind;
      if (messages.has(id) && (kind === "note" || messages.get(id).kind === "error")) return;
      messages.set(id, { kind, text: item.querySelector(".text").textContent });
    });
    form.querySelectorAll(".msg").forEach((slot) => {
      const message = messages.get(slot.id.replace(/^m-/, ""));
      const text = message ? message.text : "";
      const className = message ? `msg ${message.kind}` : "msg";
      if (slot.textContent !== text) slot.textContent = text;
      if (slot.className !== className) slot.className = className;
    });
    form.querySelectorAll("[aria-invalid]").forEach((el) => {
      const message = messages.get(el.id);
      if (!message || message.kind !== "error") el.removeAttribute("aria-invalid");
    });
    messages.forEach((message, id) => {
      const field = document.getElementById(id);
      if (message.kind === "error" && field) field.setAttribute("aria-invalid", "true");
    });
    const body = prediction.querySelector(".prediction-body[data-announce]");
    const line = body ? body.dataset.announce : "";
    if (announcer && line && announcer.textContent !== line) announcer.textContent = line;
  }
  new MutationObserver(placeMessages).observe(prediction, { childList: true, subtree: true });

  // Sending: the run's card goes on top of the runs; a refused form shows why, by its fields.
  const say = (text) => { if (status) status.textContent = text; };
  const show = (html) => placeCard(runs, html);

  // Bring a new run's card into view without moving focus: scroll the Send row (and the
  // outcome beside it) to the top when the card's top then fits below it, else the card itself.
  function reveal(card) {
    const top = card.getBoundingClientRect().top;
    const margin = 16;
    if (top >= margin && top <= window.innerHeight * 0.6) return; // already in sight
    const actions = form.querySelector(".actions");
    const from = actions ? actions.getBoundingClientRect().top : top;
    const fits = top - from < window.innerHeight * 0.6;
    (fits && actions ? actions : card).scrollIntoView({ block: "start" });
    window.scrollBy(0, -margin);
  }

  async function sendForm() {
    say("Sending…");
    const body = new URLSearchParams(new FormData(form));
    let shown = null;
    const placeAndReveal = (html) => {
      show(html);
      const placed = parse(html);
      const card = placed && document.getElementById(placed.id);
      if (card && !shown) {
        shown = placed.id;
        reveal(card);
      }
    };
    const run = await send(app.dataset.runs, body, {
      say, show: placeAndReveal, sent: "Sent: waiting for the browser's result…",
    });
    if (run && run.refused) {
      if (run.refused.fragment) prediction.innerHTML = run.refused.fragment;
      const invalid = form.querySelector("[aria-invalid='true']");
      if (invalid) invalid.focus();
    } else if (run && run.card) {
      show(run.card);
    }
    // The outcome, in one line beside Send (the status region announces it).
    const card = shown && document.getElementById(shown);
    if (card && card.dataset.state === "done" && card.dataset.outcomeLine) {
      say(card.dataset.outcomeLine);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendForm();
  });

  // Live cards: the session's event stream (each leg as it arrives, the whole card when done).
  const listening = listen(
    app.dataset.events, show, legPlacer(runs, (id) => `${app.dataset.runs}/${encodeURIComponent(id)}/card`),
  );

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
    listening.then(() => {
      const url = new URL(window.location.href);
      url.searchParams.delete("run");
      window.history.replaceState(null, "", url);
      sendForm();
    });
  }
})();
