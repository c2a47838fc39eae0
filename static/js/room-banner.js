// The room banner on an attendee's pages: the current question, answered where the attendee
// already is, and, once the instructor reveals it, sent for real by this browser (runner.js
// sends it like any run: the run's card reaches the page's run list through its stream).
// Room events arrive on the page's ONE event stream (the session's: the page's own script has
// usually opened it already), never on a second one. An attack question runs in a frame: the
// victim API's login, then the attacker's page, whose script attacks from this browser and
// reports to the attacker's log (the room hears of it from there).
(() => {
  "use strict";
  const banner = document.getElementById("room-banner");
  if (!banner) return;
  const { subscribe, pageStream, send } = window.CorsRunner;
  const { el, rich, scenario, bars, attackResult } = window.CorsRooms;
  const api = banner.dataset.api;
  const body = banner.querySelector(".room-question");
  const status = banner.querySelector(".room-status");
  const you = banner.querySelector(".room-you");
  const attacker = banner.dataset.attacker;
  // Where an attack question's attacker's page runs: beside the question, never redrawn
  // with it (a frame moved in the page would load again).
  const attackBox = el("div", { class: "room-attack", hidden: true });
  banner.querySelector(".room-body").append(attackBox);
  let state;
  try {
    state = JSON.parse(banner.dataset.state);
  } catch (e) {
    return;
  }
  let me = state.you;
  let note = ""; // what happened to the last answer or send, in words
  const sending = new Set();

  const say = (text) => { status.textContent = text; };

  function apply(doc) {
    if (doc.room) state.room = doc.room;
    if ("question" in doc) state.question = doc.question;
    if (doc.you) me = doc.you;
    render();
    sendWhenRevealed();
  }

  function render() {
    const q = state.question;
    if (attackBox.dataset.question && (!q || String(q.number) !== attackBox.dataset.question)) {
      attackBox.replaceChildren();
      attackBox.hidden = true;
      delete attackBox.dataset.question;
    }
    you.textContent = me ? `· you are ${me.name}` : "";
    banner.dataset.state = state.room.state;
    if (me && me.left) {
      banner.remove();
      return;
    }
    if (state.room.state === "closed") {
      say("This room has closed. Your session, its runs and lessons keep working.");
      body.replaceChildren();
      banner.dataset.question = q ? String(q.number) : "";
      return;
    }
    if (!q) {
      say("Waiting for the instructor's first question.");
      return;
    }
    banner.dataset.question = String(q.number);
    banner.dataset.questionState = q.state;
    const mine = me && me.question === q.number ? me : null;
    const parts = [
      el("p", { class: "prompt" }, el("strong", { text: `Question ${q.number}: ` }), rich(q.prompt)),
      el("details", { class: "scenario-details", open: q.state === "asking" },
        el("summary", { text: q.title }), scenario(q.scenario, window.location.origin, attacker)),
    ];
    if (q.state === "asking") {
      const choices = el("div", { class: "choices", role: "group", "aria-label": "Your answer" });
      q.choices.forEach((c) => {
        const button = el("button", { type: "button", class: "choice", "data-choice": c.value }, rich(c.label));
        if (mine && mine.answer) {
          button.disabled = true;
          if (mine.answer === c.value) button.setAttribute("aria-pressed", "true");
        }
        button.addEventListener("click", () => answer(q.number, c.value));
        choices.append(button);
      });
      parts.push(choices);
      say(mine && mine.answer ? "Answer kept: waiting for the instructor to reveal." : "Predict first: pick an answer.");
    } else if (q.state === "revealed") {
      const reveal = q.reveal;
      const right = mine && mine.right_answer ? mine.right_answer : reveal.expected;
      const label = q.choices.find((c) => c.value === right);
      const verdict = !mine || !mine.answer ? "You did not answer." : mine.correct ? "You were right." : `You answered “${mine.answer}”.`;
      parts.push(el("p", { class: "expected", "data-expected": right }, "Answer for your browser: ",
        el("strong", {}, rich(label ? label.label : right)), ` ${verdict}`));
      parts.push(el("p", { class: "why", text: reveal.why }));
      parts.push(el("p", { class: "hint", text: `The room answered (${reveal.tally.answered}):` }), bars(reveal.tally, reveal.expected));
      const result = mine && mine.result;
      if (result && q.attack) {
        parts.push(el("p", { class: "your-result", "data-outcome": result.outcome, "data-verdict": result.verdict,
          "data-stolen": result.stolen ? "yes" : "no" },
        `Your browser: ${attackResult(result)}${result.verdict === "stolen" ? "." : ""}`,
        result.agreement ? " CORS did what the engine predicts for your browser." : ` Not what the engine predicts: ${result.differences.join("; ")}`));
      } else if (result) {
        parts.push(el("p", { class: "your-result", "data-outcome": result.outcome },
          `Your browser: ${result.outcome}${result.agreement ? ", as the engine predicts for it." : ". Not what the engine predicts: " + result.differences.join("; ")}`,
          " Its run card, with why and how to fix it, is in your runs."));
      }
      say(result ? "Sent: see what your browser did below." : mine && mine.sent ? "Your browser is sending it…" : "Revealed: your browser sends it now.");
    } else {
      say("The instructor moved on from this question.");
    }
    if (note) parts.push(el("p", { class: "note", text: note }));
    body.replaceChildren(...parts);
  }

  async function post(path, doc) {
    const reply = await fetch(api + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(doc),
    });
    const answer = await reply.json().catch(() => ({}));
    return { ok: reply.ok, answer };
  }

  async function answer(number, choice) {
    note = "";
    let reply;
    try {
      reply = await post("/answer", { question: number, choice });
    } catch (e) {
      note = `Your answer did not reach the playground (${e.message}).`;
      render();
      return;
    }
    if (reply.ok) apply(reply.answer);
    else {
      note = reply.answer.error ? `Not kept: ${reply.answer.error.message}.` : "Not kept.";
      render();
    }
  }

  // Once revealed, this browser sends the question's scenario, once (the server refuses a
  // second send from another tab). Only a visible page sends: a hidden one resumes its stream
  // when shown and sends then.
  async function sendWhenRevealed() {
    const q = state.question;
    if (!q || q.state !== "revealed" || state.room.state !== "open" || !me || me.left) return;
    if (me.question === q.number && me.sent) return;
    if (sending.has(q.number) || document.visibilityState === "hidden") return;
    sending.add(q.number);
    if (q.attack) {
      await runAttack(q.number);
      return;
    }
    const run = await send(api + "/send", JSON.stringify({ question: q.number }), {
      say: (text) => { note = text; },
      show: () => {},
    });
    if (run && run.refused) note = run.refused.error ? `Not sent: ${run.refused.error.message}.` : "Not sent.";
    render();
  }

  // An attack question: the room makes this browser's round, then the frame logs in to the
  // victim API (a login cookie of your own) and goes on to the attacker's page, which runs it.
  async function runAttack(number) {
    let reply;
    try {
      reply = await post("/send", { question: number });
    } catch (e) {
      note = `The attack did not start (${e.message}).`;
      render();
      return;
    }
    if (!reply.ok || !reply.answer.attack) {
      note = reply.answer.error ? `Not run: ${reply.answer.error.message}.` : "Not run.";
      render();
      return;
    }
    const attack = reply.answer.attack;
    const frame = el("iframe", { src: attack.frame, title: "The attacker's page", class: "attacker-frame" });
    attackBox.replaceChildren(
      el("p", { class: "attack-note" }, "Logged in to the victim API for you (",
        el("code", { text: attack.api }), " set its login cookie in your browser), then the attacker's page at ",
        el("code", { text: attack.attacker }),
        ` opened below: its script asks for your account ${attack.attempt} and sends whatever your browser lets it read to the attacker's log.`),
      frame,
    );
    attackBox.hidden = false;
    attackBox.dataset.question = String(number);
    note = "";
    render();
  }

  document.addEventListener("visibilitychange", sendWhenRevealed);

  banner.querySelector(".room-toggle").addEventListener("click", (event) => {
    const open = banner.classList.toggle("folded") === false;
    event.target.setAttribute("aria-expanded", open ? "true" : "false");
    event.target.textContent = open ? "Hide" : "Show";
  });

  // The page's own stream when it has one (run cards and room events share it), else the
  // session's.
  subscribe(pageStream() || banner.dataset.events, "room", (data) => apply(JSON.parse(data)));
  render();
  sendWhenRevealed();
})();
