"""cors-playground explain: JSON in, JSON out, clear errors with exit status 2; what serve and
explain import, and what verify and serve need before they start."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import cli
from app.cli import main

REPO = Path(__file__).resolve().parents[1]

PUT = {"id": "put", "request": {"method": "PUT", "headers": [["X-Token", "1"]]}}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_explain_one_scenario_prints_one_prediction(tmp_path: Path, capsys) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(PUT))
    status, out, _ = run(capsys, "explain", str(path))
    prediction = json.loads(out)
    assert status == 0
    assert prediction["id"] == "put" and prediction["preflight"] is True
    assert prediction["preflight_request"]["headers"][-1] == ["Access-Control-Request-Headers",
                                                             "x-token"]  # fmt: skip


CHAIN = {
    "id": "chain",
    "origin": "http://localhost:8000",
    "url": "http://localhost:8001/r/a",
    "response": {"status": 307, "headers": [["Location", "http://127.0.0.1:8002/r/b"],
                                            ["Access-Control-Allow-Origin", "*"]]},
    "hops": [{"url": "http://127.0.0.1:8002/r/b",
              "response": {"status": 200, "headers": [["Access-Control-Allow-Origin", "*"]]}}],
}  # fmt: skip
SEQUENCE = {"id": "twice", "sequence": [{"at": 0, "scenario": PUT}, {"at": 1, "scenario": PUT}]}


def test_explain_takes_whole_fetches_and_sequences(tmp_path: Path, capsys) -> None:
    path = tmp_path / "v2.json"
    path.write_text(json.dumps([CHAIN, SEQUENCE]))
    status, out, _ = run(capsys, "explain", str(path), "--browser", "spec")
    chain, sequence = json.loads(out)
    assert status == 0
    assert [leg["url"] for leg in chain["legs"]] == [CHAIN["url"], CHAIN["hops"][0]["url"]]
    assert chain["legs"][1]["headers"][0] == ["Origin", "null"]
    assert (chain["redirected"], chain["response_url"]) == (True, "http://127.0.0.1:8002/r/b")
    assert sequence["id"] == "twice"
    assert [p["preflight_cache"] for p in sequence["sequence"]] == ["miss", "miss"]


def test_explain_names_a_location_that_leads_nowhere(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([PUT, {**CHAIN, "hops": []}]))
    status, _, err = run(capsys, "explain", str(path))
    assert status == 2
    assert "[1].response.headers[0]: Location leads to http://127.0.0.1:8002/r/b" in err


def test_explain_an_array_keeps_the_order(tmp_path: Path, capsys) -> None:
    path = tmp_path / "many.json"
    path.write_text(json.dumps([{"id": "a"}, PUT, {"id": "c", "request": {"method": "TRACE"}}]))
    status, out, _ = run(capsys, "explain", str(path))
    assert status == 0
    assert [p["id"] for p in json.loads(out)] == ["a", "put", "c"]
    assert json.loads(out)[2]["outcome"] == "error"


def test_explain_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(PUT)))
    status, out, _ = run(capsys, "explain", "-", "--browser", "spec")
    assert status == 0 and json.loads(out)["browser"] == "spec"


@pytest.mark.parametrize(
    ("document", "message"),
    [("{not json", "not valid JSON"),
     (json.dumps({"request": {"credentials": "yes"}}), "request.credentials: must be one of"),
     (json.dumps([{}, {"response": {"status": 99}}]), "[1].response.status"),
     (json.dumps({"request": {"headers": [["A"]]}}), "request.headers[0]"),
     (json.dumps({"preflight_respnse": {"status": 204}}),
      "preflight_respnse: unknown key 'preflight_respnse' (did you mean 'preflight_response'?)"),
     (json.dumps([{}, {"reqest": {"method": "PUT"}}]),
      "[1].reqest: unknown key 'reqest' (did you mean 'request'?)"),
     (json.dumps({"request": {"metod": "PUT"}}), "request.metod: unknown key 'metod'"),
     (json.dumps({"origin": "localhost:8000"}),
      "origin: 'localhost:8000' has no scheme (did you mean 'http://localhost:8000'?)")],
)  # fmt: skip
def test_malformed_input_names_the_field_and_exits_2(
    tmp_path: Path, capsys, document: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(document)
    status, out, err = run(capsys, "explain", str(path))
    assert status == 2 and out == ""
    assert message in err


def test_missing_file_exits_2(tmp_path: Path, capsys) -> None:
    status, _, err = run(capsys, "explain", str(tmp_path / "nope.json"))
    assert status == 2 and "cannot read" in err


def test_unknown_browser_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["explain", "x.json", "--browser", "netscape"])
    assert info.value.code == 2


# -- what serve and explain may import, and what verify needs -----------------------------------

HARNESS_ONLY = ("playwright", "selenium", "websockets")

# Runs in a fresh interpreter: the three packages count as missing (importing one is recorded
# and fails), `serve` builds both origins on free ports but does not run the server, `explain`
# predicts one scenario, and the harness package is imported (its drivers import them only
# when their browser starts). Prints what was imported anyway.
SERVE_AND_EXPLAIN = f"""
import io, json, sys
from importlib.machinery import ModuleSpec

HARNESS_ONLY = {HARNESS_ONLY!r}
attempts = []

class Missing:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in HARNESS_ONLY:
            attempts.append(name)
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Missing)

import uvicorn
uvicorn.Server.run = lambda self, *args, **kwargs: None
import app.cli
app.cli.missing_htmx = lambda static=None: []
assert app.cli.main(["serve", "--host", "127.0.0.1", "--site-port", "0", "--api-port", "0"]) == 0
sys.stdin = io.StringIO(json.dumps({{"request": {{"method": "PUT"}}}}))
assert app.cli.main(["explain", "-"]) == 0
import app.harness, app.harness.record
loaded = sorted(n for n in sys.modules if n.split(".")[0] in HARNESS_ONLY)
print("IMPORTED", json.dumps(sorted(set(attempts + loaded))))
"""


def run_serve_and_explain(prelude: str = "") -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", prelude + SERVE_AND_EXPLAIN],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("IMPORTED "))
    imported: list[str] = json.loads(line.removeprefix("IMPORTED "))
    return imported


def test_serve_and_explain_run_without_the_real_browser_harness() -> None:
    assert run_serve_and_explain() == []


def test_the_import_check_sees_a_harness_package_imported_on_the_way() -> None:
    # The same check, with the web app made to import Playwright (as a careless top-level
    # import would): it must notice.
    prelude = (
        "import builtins\n"
        "_import = builtins.__import__\n"
        "def _careless(name, *args, **kwargs):\n"
        "    if name.startswith('app.web'):\n"
        "        try:\n"
        "            _import('playwright.async_api')\n"
        "        except ImportError:\n"
        "            pass\n"
        "    return _import(name, *args, **kwargs)\n"
        "builtins.__import__ = _careless\n"
    )
    assert run_serve_and_explain(prelude) == ["playwright"]


@pytest.mark.parametrize(("browser", "package"), [("chromium", "playwright"),
                                                  ("firefox", "websockets"),
                                                  ("webkit", "selenium")])  # fmt: skip
def test_verify_without_the_harness_says_how_to_install_it(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, browser: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # as if it were not installed
    path = tmp_path / "one.json"
    path.write_text(json.dumps(PUT))
    status, out, err = run(capsys, "verify", str(path), "--browser", browser)
    assert status == 2 and out == ""
    assert err.strip().splitlines() == [
        "verify needs the real-browser harness: pip install 'cors-playground[verify]' "
        f"({package} is not installed)"
    ]


def test_serve_refuses_to_start_without_htmx_and_names_the_fix(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    static = tmp_path / "static"
    (static / "vendor").mkdir(parents=True)
    (static / "vendor" / "hx-sse.min.js").write_text("")
    monkeypatch.setattr(cli, "resource_dir", lambda name: tmp_path / name)
    status, out, err = run(capsys, "serve", "--site-port", "0", "--api-port", "0")
    assert status == 1 and out == ""
    assert "htmx.min.js is missing" in err and "hx-sse" not in err
    assert "npm ci" in err and "./dev run" in err
    assert cli.missing_htmx(static) == ["htmx.min.js"]
