"""What every browser driver shares: the fetch loop run in the page, its specs and results.

Chromium (Playwright), Firefox (WebDriver BiDi) and WebKitGTK (WebDriver) each run the same
``FETCH_ALL_JS`` in a page and turn its answer into ``FetchResult``s; this module holds that
loop, its bounds, the console bookkeeping by scenario key, the wrapper of a visit's script
(``visit_js``), finding an executable, launching a browser (with a clear BrowserUnavailable
when it cannot), starting and stopping process groups.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.harness.errors import BrowserUnavailable

# The page asks for this path (same-origin) before each fetch of a sequence (see target.py).
CONTROL_PATH = "/__harness/next"
FETCH_TIMEOUT_MS = 8_000
# Sequences whose timelines run side by side: few enough that no fetch waits long for its
# turn (a preflight answer cached late would outlive its max-age).
SEQUENCE_CONCURRENCY = 4
# A whole batch in the page, however many fetches time out (the harness's own bound is 180 s).
BATCH_DEADLINE = 150.0
MAX_CONSOLE_PER_KEY = 8
CLOSE_TIMEOUT = 10.0

# Runs in the page. Headers go as an array of pairs, exactly as given (duplicates included).
# Specs of one sequence (the same ``sequence`` key, one after another) run on its timeline:
# each starts ``at`` seconds after the first, or when the one before settles if that is later,
# and first tells the target (a same-origin request to ``control``) which fetch it is.
# Sequences run side by side (their URLs differ, so their preflight caches do not meet).
FETCH_ALL_JS = """
async ({specs, concurrency, sequenceConcurrency, timeoutMs, control}) => {
  const results = new Array(specs.length);
  async function one(spec) {
    const init = {method: spec.method, headers: spec.headers, credentials: spec.credentials,
                  mode: spec.mode, redirect: spec.redirect, signal: AbortSignal.timeout(timeoutMs)};
    if (spec.body !== null) init.body = spec.body;
    try {
      const response = await fetch(spec.url, init);
      const headers = [...response.headers.keys()];
      try { await response.arrayBuffer(); } catch (e) { /* the outcome is already known */ }
      return {ok: true, status: response.status, type: response.type, headers, error: null,
              redirected: response.redirected, url: response.url};
    } catch (e) {
      return {ok: false, status: null, type: null, headers: [], error: String(e),
              redirected: null, url: null};
    }
  }
  async function sequence(indexes) {
    const start = performance.now();
    for (const index of indexes) {
      const spec = specs[index];
      const wait = spec.at * 1000 - (performance.now() - start);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        await fetch(control + "?key=" + encodeURIComponent(spec.sequence) + "&fetch=" + spec.index,
                    {cache: "no-store"});
      } catch (e) { /* the fetch itself will say what went wrong */ }
      const started = (performance.now() - start) / 1000;
      results[index] = await one(spec);
      results[index].started = Math.round(started * 1000) / 1000;
    }
  }
  const jobs = [];
  for (let i = 0; i < specs.length; i++) {
    if (specs[i].sequence === null) { jobs.push([i]); continue; }
    if (i > 0 && specs[i - 1].sequence === specs[i].sequence) { jobs[jobs.length - 1].push(i); }
    else { jobs.push([i]); }
  }
  // Single fetches run `concurrency` at a time; every sequence runs on its own timeline.
  const single = jobs.filter((job) => specs[job[0]].sequence === null);
  let next = 0;
  async function worker() {
    while (next < single.length) {
      const job = single[next++];
      results[job[0]] = await one(specs[job[0]]);
    }
  }
  const timelines = jobs.filter((job) => specs[job[0]].sequence !== null);
  let nextTimeline = 0;
  async function timelineWorker() {
    while (nextTimeline < timelines.length) { await sequence(timelines[nextTimeline++]); }
  }
  await Promise.all([
    ...Array.from({length: Math.min(concurrency, single.length)}, worker),
    ...Array.from({length: Math.min(sequenceConcurrency, timelines.length)}, timelineWorker),
  ]);
  return results;
}
"""


def visit_js(script: str) -> str:
    """A function expression that calls ``script`` (a JavaScript function expression, e.g.
    ``async () => document.title``) in the page and resolves to its value as JSON text.

    Every driver takes the value as JSON text, so all three give the same Python value
    (``undefined`` is ``null``). Composed as text, not ``eval``: the page's CSP may forbid eval.
    """
    return f"async () => JSON.stringify(await ({script.strip()})()) ?? 'null'"


_KEY_IN_TEXT = re.compile(r"/t/([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class FetchSpec:
    """One fetch() as the page runs it (already rewritten onto the harness ports)."""

    key: str
    url: str
    method: str
    headers: tuple[tuple[str, str], ...]
    credentials: str
    mode: str
    body: str | None
    redirect: str = "follow"
    # Every URL the fetch may reach (its hops), for drivers that watch the network.
    urls: tuple[str, ...] = ()
    # In a sequence: its fetch number and when it starts (seconds after the first).
    index: int | None = None
    at: float = 0.0

    @property
    def watch_key(self) -> str:
        """The key a driver files this fetch's network events and messages under."""
        return self.key if self.index is None else f"{self.key}#{self.index}"

    def to_js(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "method": self.method,
            "headers": [list(h) for h in self.headers],
            "credentials": self.credentials,
            "mode": self.mode,
            "body": self.body,
            "redirect": self.redirect,
            "sequence": None if self.index is None else self.key,
            "index": self.index,
            "at": self.at,
        }


@dataclass
class FetchResult:
    """What JavaScript saw, plus what DevTools and the console said about the request."""

    ok: bool
    status: int | None
    type: str | None
    headers: list[str]
    error: str | None
    cors_error: str | None = None
    failed_parameter: str | None = None
    net_error: str | None = None
    console: list[str] = field(default_factory=list)
    # response.redirected and response.url; when a fetch of a sequence started.
    redirected: bool | None = None
    url: str | None = None
    started: float | None = None


def batch_deadline(specs: Sequence[FetchSpec], concurrency: int) -> float:
    """Seconds a batch may take in the page: every round of fetches timing out (and every
    sequence's own timeline), bounded."""
    rounds = -(-len(specs) // concurrency)
    timelines = sum(s.at for s in specs if s.index is not None and _last(specs, s))
    waits = timelines / SEQUENCE_CONCURRENCY + max(
        (s.at for s in specs if s.index is not None), default=0.0
    )
    return min(FETCH_TIMEOUT_MS / 1000 * rounds + waits + 10, BATCH_DEADLINE + waits)


def _last(specs: Sequence[FetchSpec], spec: FetchSpec) -> bool:
    """Whether ``spec`` is the last fetch of its sequence (its ``at`` is the timeline's length)."""
    return spec.index is not None and all(
        s.key != spec.key or (s.index or 0) <= spec.index for s in specs
    )


def fetch_argument(specs: Sequence[FetchSpec], concurrency: int) -> dict[str, Any]:
    """``FETCH_ALL_JS``'s argument for these specs."""
    return {
        "specs": [s.to_js() for s in specs],
        "concurrency": concurrency,
        "sequenceConcurrency": SEQUENCE_CONCURRENCY,
        "timeoutMs": FETCH_TIMEOUT_MS,
        "control": CONTROL_PATH,
    }


def fetch_results(raw: Iterable[dict[str, Any]]) -> list[FetchResult]:
    """``FETCH_ALL_JS``'s answer as results, in specs order."""
    return [
        FetchResult(
            ok=bool(r["ok"]),
            status=r["status"],
            type=r["type"],
            headers=list(r["headers"]),
            error=r["error"],
            redirected=r.get("redirected"),
            url=r.get("url"),
            started=r.get("started"),
        )
        for r in raw
    ]


def collect_console(messages: dict[str, list[str]], keys: frozenset[str], text: str) -> bool:
    """File a console message under each batch key it names (at most MAX_CONSOLE_PER_KEY
    per key); whether it named any."""
    named = {k for k in _KEY_IN_TEXT.findall(text) if k in keys}
    for key in named:
        kept = messages.setdefault(key, [])
        if len(kept) < MAX_CONSOLE_PER_KEY:
            kept.append(text)
    return bool(named)


def find_executable(variable: str, *names: str) -> str | None:
    """The environment variable's value if set, else the first of ``names`` on PATH, else None."""
    configured = os.environ.get(variable)
    if configured:
        return configured
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


async def launch(
    start: Awaitable[None],
    close: Callable[[], Awaitable[None]],
    failure: Callable[[str, BaseException], str],
) -> None:
    """Await ``start``; if it fails, ``close`` what it left and raise BrowserUnavailable with the
    message ``failure(detail, exc)`` ("no answer in time" for a timeout). A cancellation is
    passed on as it is, after the close."""
    try:
        await start
    except BaseException as exc:
        await close()
        if isinstance(exc, asyncio.CancelledError):
            raise
        detail = "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
        raise BrowserUnavailable(failure(detail, exc)) from exc


async def start_process_group(
    program: str, *args: str, **options: Any
) -> asyncio.subprocess.Process:
    """Start a silent child (no input, output discarded) in its own process group, so that
    ``stop_process_group`` ends it and every process it starts."""
    return await asyncio.create_subprocess_exec(
        program,
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        **options,
    )


async def stop_process_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM a child started in its own process group, wait (bounded), SIGKILL what is left.

    Only that group is signalled: the browser (or driver, or display) and the processes it
    started, never anything else on the machine.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), CLOSE_TIMEOUT)
    # Content processes may outlive the parent for a moment: end the group for good.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
