"""cors-playground explain: JSON in, JSON out, clear errors with exit status 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli import main

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
