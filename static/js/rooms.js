// What the room's pages share (the host page, the projector view and the attendee's banner):
// building elements from the room's JSON events. Everything an attendee typed, and every text
// from the server, goes in as text (textContent), never as HTML.
window.CorsRooms = window.CorsRooms || (() => {
  "use strict";

  /** An element with attributes (`text` sets its text, `class` its class) and children. */
  function el(tag, attributes, ...children) {
    const made = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => {
      if (value === null || value === undefined || value === false) return;
      if (name === "text") made.textContent = String(value);
      else if (name === "class") made.className = value;
      else made.setAttribute(name, value === true ? "" : String(value));
    });
    children.flat().forEach((child) => {
      if (child === null || child === undefined) return;
      made.append(child instanceof Node ? child : document.createTextNode(String(child)));
    });
    return made;
  }

  /** Text with `backticks` as <code>, as the lessons write it. */
  function rich(text) {
    const span = el("span");
    String(text).split("`").forEach((part, index) => {
      if (!part) return;
      span.append(index % 2 ? el("code", { text: part }) : document.createTextNode(part));
    });
    return span;
  }

  /** Header rows as a definition-like list of `Name: value` lines. */
  function headerLines(headers, pageOrigin, attacker) {
    return el(
      "ul",
      { class: "header-lines" },
      (headers || []).map(([name, value]) =>
        el("li", {}, el("code", { text: `${name}: ${fill(value, pageOrigin, attacker)}` }))),
    );
  }

  /** A value with the page's origin (and the attacker's) in place of their placeholders. */
  function fill(value, pageOrigin, attacker) {
    return String(value).split("{page-origin}").join(pageOrigin).split("{attacker-origin}").join(attacker || "");
  }

  /**
   * A scenario (as rooms keep it: `{page-origin}` for the page's origin) in a few lines. An
   * attack's request comes from the attacker's page (`{attacker-origin}`, on this page's host
   * name) or a sandboxed frame on it (origin `null`), and asks for your account.
   */
  function scenario(doc, pageOrigin, attacker) {
    const request = doc.request || {};
    const options = [];
    if (request.method && request.method !== "GET") options.push(`method: ${JSON.stringify(request.method)}`);
    (request.headers || []).forEach(([name, value]) => options.push(`${name}: ${value}`));
    if (request.credentials && request.credentials !== "same-origin") options.push(`credentials: "${request.credentials}"`);
    if (request.mode && request.mode !== "cors") options.push(`mode: "${request.mode}"`);
    if (request.body !== undefined && request.body !== null) options.push(`body: ${JSON.stringify(request.body)}`);
    const from = doc.origin ? fill(doc.origin, pageOrigin, attacker) : pageOrigin;
    const attack = Boolean(doc.origin);
    const call = `fetch(${attack ? "your account on the victim API" : "API origin"}${options.length ? ", { " + options.join(", ") + " }" : ""})`;
    const who = !attack ? ["The page at ", el("code", { text: pageOrigin })]
      : from === "null" ? ["A sandboxed frame on the attacker's page (its origin: ", el("code", { text: "null" }), ")"]
        : ["The attacker's page at ", el("code", { text: from })];
    const parts = [el("p", { class: "call" }, ...who, " runs ", el("code", { text: fill(call, pageOrigin, attacker) }))];
    if (attack) parts.push(el("p", { class: "hint", text: "You are logged in to the victim API: your browser holds its login cookie." }));
    const preflight = doc.preflight_response;
    if (preflight) {
      parts.push(el("p", { class: "answer-line" }, `If the browser sends a preflight, the server answers it with ${preflight.status || 204}`,
        (preflight.headers || []).length ? ":" : " and no headers."));
      parts.push(headerLines(preflight.headers, pageOrigin, attacker));
    }
    const response = doc.response || {};
    parts.push(el("p", { class: "answer-line" }, `The server answers the request with ${response.status || 200}`,
      (response.headers || []).length ? ":" : " and no headers."));
    parts.push(headerLines(response.headers, pageOrigin, attacker));
    return el("div", { class: "room-scenario" }, parts);
  }

  /** The split of a tally as bars (counts and widths), readable on a projector. */
  function bars(tally, expected) {
    const counts = tally.counts || [];
    const most = Math.max(1, ...counts.map((c) => c.count));
    const list = el("ol", { class: "bars" });
    counts.forEach((c) => {
      const bar = el("span", { class: "bar" });
      bar.style.width = `${Math.round((100 * c.count) / most)}%`; // CSSOM: allowed by the CSP
      list.append(el("li", { "data-choice": c.value, class: c.value === expected ? "expected" : null },
        el("span", { class: "label" }, rich(c.label)),
        el("span", { class: "track" }, bar),
        el("span", { class: "count", text: c.count })));
    });
    return list;
  }

  /** "12 of 30 connected answered". */
  function answeredLine(tally) {
    return `${tally.answered} answered · ${tally.connected} of ${tally.attendees} connected`;
  }

  /** What the room's browsers did, by engine and outcome. */
  function groups(list) {
    if (!list || !list.length) return el("p", { class: "hint", text: "No browser has reported yet." });
    return el("ul", { class: "groups" }, list.map((g) => el("li", {
      "data-engine": g.engine, "data-outcome": g.outcome, "data-count": g.count, "data-matched": g.matched,
    }, el("strong", { class: "count", text: g.count }), ` ${g.label} ${g.outcome}`,
    el("span", { class: g.matched === g.count ? "matched" : "unmatched",
      text: g.matched === g.count ? " · as predicted" : ` · ${g.count - g.matched} not as predicted (${g.predicted})` }))));
  }

  /** An attack question's results per engine: stolen, refused, kept back by a cookie policy. */
  function attackGroups(list) {
    if (!list || !list.length) return el("p", { class: "hint", text: "No attacker's page has reported yet." });
    const rows = list.map((g) => el("tr", {
      "data-engine": g.engine, "data-count": g.count, "data-stolen": g.stolen, "data-refused": g.refused,
      "data-cookie": g.cookie, "data-nothing": g.nothing, "data-matched": g.matched, "data-expected": g.expected,
    }, el("th", { scope: "row", text: g.label }),
    el("td", { class: "stolen", text: g.stolen }), el("td", { class: "refused", text: g.refused }),
    el("td", { class: "cookie", text: g.cookie }), el("td", { class: "nothing", text: g.nothing }),
    el("td", { class: g.matched === g.count ? "matched" : "unmatched",
      text: g.matched === g.count ? `all ${g.count} as predicted (${g.expected === "yes" ? "read" : "refused"})` : `${g.count - g.matched} of ${g.count} not as predicted` })));
    return el("table", { class: "attack-groups" },
      el("caption", { text: "Did the attacker's page get the secret?" }),
      el("thead", {}, el("tr", {}, ["Engine", "Secret stolen", "Refused by CORS", "Cookie kept back (not CORS)", "Nothing secret", "The engine's prediction"]
        .map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows));
  }

  /** An attack result in words: stolen, or why not. */
  function attackResult(result) {
    if (result.verdict === "stolen") return "the attacker's page read the secret: stolen";
    return result.reason || result.verdict;
  }

  return Object.freeze({ el, rich, scenario, bars, answeredLine, groups, attackGroups, attackResult });
})();
