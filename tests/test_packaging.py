"""`pip install .` gives a working command: the engine, templates and static files included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
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
        input=stdin, capture_output=True, text=True, env=env, cwd=target, check=False,
    )  # fmt: skip


def test_wheel_carries_templates_static_files_and_htmx(installed: Path) -> None:
    assert (installed / "app" / "cors" / "browser.py").is_file()
    assert (installed / "app" / "templates" / "base.html").is_file()
    assert (installed / "app" / "static" / "vendor" / "htmx.min.js").is_file()
    entry_points = next(installed.glob("cors_playground-*.dist-info")) / "entry_points.txt"
    assert "cors-playground = app.cli:main" in entry_points.read_text()


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
