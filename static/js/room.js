// A room's host page (data-role="host") and projector view (data-role="view"), kept live
// from the room's event stream (JSON events; runner.js holds the stream, resumes it, and
// releases it while the page is hidden). The host page also asks, reveals, closes, and shows
// lesson progress and the room console. Names and answers go into the page as text only.
(() => {
  "use strict";
  const root = document.getElementById("room");
  if (!root) return;
  const { subscribe } = window.CorsRunner;
  const { el, rich, scenario, bars, answeredLine, groups, attackGroups, attackResult } = window.CorsRooms;
  const host = root.dataset.role === "host";
  const api = root.dataset.api;
  const $ = (id) => document.getElementById(id);
  const model = { room: null, attendees: new Map(), questions: new Map(), view: null };

  // --- rendering (coalesced: a burst of answers redraws once) -------------------------------
  let scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    window.setTimeout(() => {
      scheduled = false;
      render();
    }, 40);
  }

  function current() {
    if (!host) return model.view;
    let found = null;
    model.questions.forEach((q) => { if (!found || q.number > found.number) found = q; });
    return found;
  }

  function renderCounts() {
    let attendees;
    let connected;
    if (host) {
      const present = [...model.attendees.values()].filter((a) => !a.left);
      attendees = present.length;
      connected = present.filter((a) => a.connected).length;
    } else if (model.room) {
      ({ attendees, connected } = model.room);
    } else {
      return;
    }
    const closed = model.room && model.room.state === "closed" ? " · this room is closed" : "";
    $("room-counts").textContent = attendees
      ? `${attendees} ${attendees === 1 ? "attendee" : "attendees"} joined · ${connected} connected now${closed}`
      : `No attendee yet.${closed}`;
    root.dataset.attendees = String(attendees);
    root.dataset.connected = String(connected);
    if (host && model.room && model.room.state === "closed") {
      $("ask").disabled = true;
      $("close-room").disabled = true;
      $("close-room").textContent = "Closed";
    }
  }

  function renderQuestion() {
    const q = current();
    const box = $("question");
    const title = $("question-title");
    if (!q) return;
    title.textContent = `Question ${q.number}: ${q.title}`;
    box.dataset.state = q.state;
    box.dataset.number = String(q.number);
    box.replaceChildren(
      el("p", { class: "prompt" }, rich(q.prompt)),
      scenario(q.scenario, window.location.origin, root.dataset.attacker),
    );
    const tally = q.tally || { answered: 0, connected: 0, attendees: 0 };
    const revealed = q.state === "revealed";
    const parts = [el("p", { class: "answered", "data-answered": tally.answered, text: answeredLine(tally) })];
    if (tally.counts) parts.push(bars(tally, revealed ? q.reveal.expected : null));
    else parts.push(el("ol", { class: "choices" }, q.choices.map((c) => el("li", {}, rich(c.label)))));
    if (revealed) {
      const reveal = q.reveal;
      const answer = el("p", { class: "expected", "data-expected": reveal.expected }, "Answer: ",
        el("strong", {}, rich(reveal.expected_label)));
      const others = Object.entries(reveal.answers).filter(([engine, value]) => engine !== "chromium" && value !== reveal.expected);
      others.forEach(([engine, value]) => answer.append(` (${engine}: ${value})`));
      if (typeof tally.correct === "number") answer.append(` · ${tally.correct} of ${tally.answered} right`);
      parts.push(answer, el("p", { class: "why", text: reveal.why }));
    }
    $("tally").replaceChildren(...parts);
    const results = $("results");
    if (revealed) {
      const found = (q.findings || []).map((f) => el("li", { text: f }));
      results.replaceChildren(
        el("h3", { text: q.attack ? "What the attacker's page got in the room's browsers" : "What the room's browsers did" }),
        el("p", { class: "hint", text: host ? `${q.results || 0} of ${q.sent || 0} sent have reported.` : "" }),
        q.attack ? attackGroups(q.attack_groups) : "",
        groups(q.groups),
        found.length ? el("ul", { class: "findings" }, found) : "",
      );
    } else {
      results.replaceChildren();
    }
    if (host) {
      const reveal = $("reveal");
      reveal.hidden = q.state !== "asking" || (model.room && model.room.state === "closed");
      reveal.dataset.number = String(q.number);
      if (revealed) explain(q.number);
    }
  }

  function renderAttendees() {
    const body = $("attendees").tBodies[0];
    const q = current();
    const revealed = q && q.state === "revealed";
    const select = $("console-attendee");
    [...model.attendees.values()].sort((a, b) => a.number - b.number).forEach((a) => {
      let row = body.querySelector(`tr[data-attendee="${a.number}"]`);
      if (!row) {
        row = el("tr", { "data-attendee": a.number },
          el("td", { text: a.number }), el("td", { class: "name" }), el("td", { class: "browser" }),
          el("td", { class: "online" }), el("td", { class: "answer" }), el("td", { class: "result" }));
        body.append(row);
        select.append(el("option", { value: a.number, text: `#${a.number}` }));
      }
      const cells = row.cells;
      cells[1].textContent = a.name;
      select.querySelector(`option[value="${a.number}"]`).textContent = `#${a.number} ${a.name}`;
      cells[2].textContent = a.browser || "(not reported yet)";
      row.dataset.engine = a.engine;
      row.dataset.connected = a.connected ? "yes" : "no";
      row.dataset.left = a.left ? "yes" : "no";
      cells[3].textContent = a.left ? "left" : a.connected ? "● online" : "○ away";
      const answer = q && a.question === q.number ? a.answer : null;
      cells[4].textContent = answer ? answer.choice + (revealed ? (answer.correct ? " ✓" : " ✗") : "") : "";
      cells[4].dataset.choice = answer ? answer.choice : "";
      const result = q && a.question === q.number ? a.result : null;
      const did = result && result.verdict ? attackResult(result) : result ? result.outcome : "";
      cells[5].textContent = result
        ? `${did}${result.agreement ? " (as predicted)" : " — differs: " + result.differences.join("; ")}`
        : (q && a.question === q.number && a.sent ? "sending…" : "");
      cells[5].dataset.outcome = result ? result.outcome : "";
      cells[5].dataset.verdict = result && result.verdict ? result.verdict : "";
    });
  }

  function render() {
    renderCounts();
    renderQuestion();
    if (host) renderAttendees();
  }

  // --- events --------------------------------------------------------------------------------
  const url = root.dataset.events;
  const on = (name, handler) => subscribe(url, name, (data) => {
    handler(JSON.parse(data));
    schedule();
  });
  on("snapshot", (doc) => {
    model.room = doc.room;
    if (host) {
      model.attendees = new Map(doc.attendees.map((a) => [a.number, a]));
      model.questions = new Map(doc.questions.map((q) => [q.number, q]));
    } else {
      model.view = doc.question;
    }
  });
  on("room", (doc) => { model.room = doc; });
  on("question", (doc) => {
    if (host) model.questions.set(doc.number, doc);
    else model.view = doc;
  });
  on("attendee", (row) => {
    if (host && !model.attendees.has(row.number)) progressSoon();
    model.attendees.set(row.number, row);
  });
  on("answer", (doc) => {
    const q = model.questions.get(doc.question);
    if (q) q.tally = doc.tally;
    const row = model.attendees.get(doc.attendee);
    if (row && row.question === doc.question) row.answer = { choice: doc.choice, correct: doc.correct };
  });
  on("tally", (doc) => {
    if (model.view && model.view.number === doc.question) model.view.tally = doc;
  });
  on("result", (doc) => {
    const q = model.questions.get(doc.question);
    if (q) Object.assign(q, { groups: doc.groups, findings: doc.findings, sent: doc.sent, results: doc.results });
    if (q && doc.attack_groups) q.attack_groups = doc.attack_groups;
    const row = model.attendees.get(doc.attendee);
    if (row && row.question === doc.question) row.result = doc.result;
    refreshConsole();
  });
  on("results", (doc) => {
    if (model.view && model.view.number === doc.question) Object.assign(model.view, doc);
  });

  if (!host) return;

  // --- the host's actions ----------------------------------------------------------------------
  async function post(path, doc) {
    const reply = await fetch(api + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(doc || {}),
    });
    const answer = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(answer.error ? answer.error.message : `refused (${reply.status})`);
    return answer;
  }

  $("ask-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const source = form.get("source");
    const doc = { source, kind: source === "attack" ? null : form.get("kind") || null };
    if (source === "classic") doc.classic = form.get("classic");
    if (source === "attack") doc.attack = form.get("attack");
    if (source === "lesson") doc.lesson = form.get("lesson");
    if (source === "composer") doc.share = form.get("share");
    const status = $("ask-status");
    status.textContent = "Asking…";
    try {
      const asked = await post("/questions", doc);
      status.textContent = `Asked question ${asked.number}.`;
    } catch (e) {
      status.textContent = `Not asked: ${e.message}.`;
    }
  });
  // Choosing a scenario chooses its source.
  [["ask-classic", "src-classic"], ["ask-attack", "src-attack"], ["ask-lesson", "src-lesson"], ["ask-share", "src-composer"]].forEach(([field, radio]) => {
    $(field).addEventListener("focus", () => { $(radio).checked = true; });
    $(field).addEventListener("change", () => { $(radio).checked = true; });
  });

  $("reveal").addEventListener("click", async (event) => {
    const status = $("reveal-status");
    status.textContent = "Revealing…";
    try {
      await post(`/questions/${event.target.dataset.number}/reveal`);
      status.textContent = "Revealed: the attendees' browsers are sending it.";
    } catch (e) {
      status.textContent = `Not revealed: ${e.message}.`;
    }
  });

  // Closing takes two clicks (no dialog: a projector shows it to everyone).
  $("close-room").addEventListener("click", async (event) => {
    const button = event.target;
    if (button.dataset.armed !== "yes") {
      button.dataset.armed = "yes";
      button.textContent = "Click again to close the room for everyone";
      window.setTimeout(() => {
        if (button.dataset.armed === "yes" && !button.disabled) {
          button.dataset.armed = "";
          button.textContent = "Close the room";
        }
      }, 5000);
      return;
    }
    try {
      await post("/close");
    } catch (e) {
      button.textContent = `Not closed: ${e.message}`;
    }
  });

  // The explanation of a revealed question: the playground's own "why" and "fix it".
  const explained = new Set();
  async function explain(number) {
    if (explained.has(number)) return;
    explained.add(number);
    try {
      const reply = await fetch(root.dataset.explain + number + "/explanation", { headers: { Accept: "text/html" } });
      if (reply.ok) $("explanation").innerHTML = await reply.text(); // server-rendered, escaped
    } catch (e) {
      explained.delete(number);
    }
  }

  // Lesson progress: the whole grid when the page opens, when an attendee joins and when the
  // stream starts again (it may have missed changes); each answer or send then arrives as a
  // "progress" event and changes its one cell.
  function progressCell(lesson, cell) {
    const mark = cell.answer === "right" ? "✓" : cell.answer === "wrong" ? "✗" : "·";
    return el("td", {
      "data-lesson": lesson.slug, "data-answer": cell.answer || "none", "data-sent": cell.sent ? "yes" : "no",
      title: `${lesson.title}: ${cell.answer ? "answered " + cell.answer : "not started"}${cell.sent ? ", sent" : ""}`,
      text: mark + (cell.sent ? "●" : ""),
    });
  }
  let lessons = null; // by slug, once the grid is drawn
  async function refreshProgress() {
    if (document.visibilityState === "hidden") return;
    let doc;
    try {
      const reply = await fetch(api + "/progress", { headers: { Accept: "application/json" } });
      if (!reply.ok) return;
      doc = await reply.json();
    } catch (e) {
      return;
    }
    const head = el("tr", {}, el("th", { scope: "col", text: "Attendee" }),
      doc.lessons.map((l) => el("th", { scope: "col", title: l.title, text: l.number })));
    const rows = doc.attendees.map((a) => el("tr", { "data-attendee": a.number },
      el("th", { scope: "row", text: `#${a.number} ${a.name}` }),
      a.cells.map((cell, i) => progressCell(doc.lessons[i], cell))));
    $("progress").replaceChildren(el("table", { class: "grid" }, el("thead", {}, head), el("tbody", {}, rows)));
    lessons = new Map(doc.lessons.map((l) => [l.slug, l]));
  }
  refreshProgress();
  subscribe(url, "progress", (data) => {
    const doc = JSON.parse(data);
    const old = $("progress").querySelector(`tr[data-attendee="${doc.attendee}"] td[data-lesson="${doc.lesson}"]`);
    if (old && lessons && lessons.has(doc.lesson)) old.replaceWith(progressCell(lessons.get(doc.lesson), doc));
    else progressSoon(); // a row the grid does not have yet
  });
  subscribe(url, "snapshot", () => progressSoon());
  let progressTimer = null;
  // A new attendee gets their row soon, not at the next refresh.
  function progressSoon() {
    if (progressTimer) return;
    progressTimer = window.setTimeout(() => {
      progressTimer = null;
      refreshProgress();
    }, 1000);
  }

  // The room console: what the API origin received, per question, of everyone or one attendee.
  let consoleTimer = null;
  function refreshConsole() {
    if (consoleTimer) return;
    consoleTimer = window.setTimeout(async () => {
      consoleTimer = null;
      const who = $("console-attendee").value;
      let doc;
      try {
        const reply = await fetch(`${api}/console${who ? "?attendee=" + encodeURIComponent(who) : ""}`, { headers: { Accept: "application/json" } });
        if (!reply.ok) return;
        doc = await reply.json();
      } catch (e) {
        return;
      }
      const counted = (map) => Object.entries(map).map(([k, n]) => `${k} ×${n}`).join(", ") || "none";
      $("console").replaceChildren(...doc.questions.map((q) => el("div", { class: "console-question", "data-question": q.question },
        el("h3", { text: `Question ${q.question}: ${q.title}` }),
        el("p", { text: `${q.runs} runs · legs: ${counted(q.legs)}` }),
        el("p", { text: `Statuses: ${Object.entries(q.statuses).map(([kind, m]) => `${kind} ${counted(m)}`).join("; ") || "none"}` }),
        el("p", {}, "Origin values: ", el("code", { text: counted(q.origins) })))));
    }, 1000);
  }
  $("console-attendee").addEventListener("change", refreshConsole);
  refreshConsole();
})();
