"""`pip install .` gives a working command: the engine, templates, static files and htmx
included; the real-browser harness is the `verify` extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel and unpacked into a fresh directory."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("cors_playground-*.whl")
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def run_installed(target: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=target, check=False, timeout=60,
    )  # fmt: skip


def test_wheel_carries_templates_static_files_and_htmx(installed: Path) -> None:
    assert (installed / "app" / "cors" / "browser.py").is_file()
    assert (installed / "app" / "templates" / "base.html").is_file()
    assert (installed / "app" / "static" / "css" / "app.css").is_file()
    assert (installed / "app" / "static" / "js" / "runner.js").is_file()
    # htmx comes from node_modules (npm ci), not from a copy in static/vendor.
    vendor = installed / "app" / "static" / "vendor"
    npm = REPO / "node_modules" / "htmx.org" / "dist"
    assert (vendor / "htmx.min.js").read_bytes() == (npm / "htmx.min.js").read_bytes()
    assert (vendor / "hx-sse.min.js").read_bytes() == (npm / "ext" / "hx-sse.min.js").read_bytes()
    assert sorted(p.name for p in vendor.iterdir()) == ["htmx.min.js", "hx-sse.min.js"]
    entry_points = next(installed.glob("cors_playground-*.dist-info")) / "entry_points.txt"
    assert "cors-playground = app.cli:main" in entry_points.read_text()


def test_the_real_browser_harness_is_the_verify_extra(installed: Path) -> None:
    metadata = next(installed.glob("cors_playground-*.dist-info")) / "METADATA"
    requires = Parser().parsestr(metadata.read_text()).get_all("Requires-Dist") or []
    for package in ("playwright", "selenium", "websockets"):
        (verify,) = [r for r in requires if r.startswith(package) and "extra == 'verify'" in r]
        assert [r for r in requires if r.startswith(package) and "extra" not in r] == []
        assert any(r.startswith(package) and "extra == 'test'" in r for r in requires), verify


def test_installed_serve_refuses_to_start_without_htmx(installed: Path, tmp_path: Path) -> None:
    shutil.copytree(installed / "app", tmp_path / "app")
    (tmp_path / "app" / "static" / "vendor" / "htmx.min.js").unlink()
    result = run_installed(tmp_path, "serve", "--host", "127.0.0.1", "--site-port", "0",
                           "--api-port", "0")  # fmt: skip
    assert result.returncode == 1 and "CORS playground: open" not in result.stdout
    assert "htmx.min.js is missing" in result.stderr and "npm ci" in result.stderr


def test_installed_explain_works_outside_the_checkout(installed: Path) -> None:
    result = run_installed(
        installed, "explain", "-", stdin=json.dumps({"request": {"method": "PUT"}})
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["preflight"] is True


def test_installed_package_finds_its_own_resources(installed: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    code = "import app; print(app.resource_dir('templates')); print(app.__file__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=installed, check=True).stdout.split()  # fmt: skip
    assert all(line.startswith(str(installed)) for line in out)


def test_the_build_without_npm_ci_stops_and_says_so(tmp_path: Path) -> None:
    source = tmp_path / "clone"
    source.mkdir()
    for name in ("pyproject.toml", "hatch_build.py", "README.md", "package.json"):
        shutil.copy(REPO / name, source / name)
    for name in ("app", "templates", "static"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("vendor"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "out"),
         str(source)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "run `npm ci` first: htmx comes from the npm registry" in result.stdout + result.stderr
    assert not list((tmp_path / "out").glob("*.whl"))
