"""app/web/server.py and app/web/app.py: one process, two origins; a first Ctrl-C stops it even
with streams open; a taken port is said plainly."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from app.web.app import create_app
from app.web.config import Settings
from app.web.server import YOUNG_THRESHOLD, BackgroundServer

REPO = Path(__file__).resolve().parents[2]


def open_stream(url: str, lines: list[str], done: threading.Event) -> threading.Thread:
    def listen() -> None:
        try:
            with httpx.Client(timeout=30) as c, c.stream("GET", url) as stream:
                for line in stream.iter_lines():
                    lines.append(line)
        except httpx.HTTPError as exc:
            lines.append(f"error: {exc!r}")
        done.set()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    return thread


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_each_port_reaches_its_own_origin() -> None:
    with BackgroundServer() as live, httpx.Client() as client:
        assert "The API origin" in client.get(f"{live.api_url}/").text
        assert client.get(f"{live.site_url}/", follow_redirects=False).status_code == 303
        assert client.get(f"{live.api_url}/api").status_code == 404


def test_settings_urls_and_page_hosts() -> None:
    settings = Settings(host="127.0.0.1", site_port=9000, api_port=9001)
    assert (
        settings.site_url == "http://127.0.0.1:9000" and settings.api_url == "http://127.0.0.1:9001"
    )
    pg = create_app(settings).playground
    assert pg.api_origin("localhost") == "http://localhost:9001"
    assert pg.api_origin("127.0.0.1") == "http://127.0.0.1:9001"
    # Any name that reached the playground is one it serves; the API origin follows it.
    assert pg.api_origin("laptop.local") == "http://laptop.local:9001"
    assert pg.api_origin("::1") == "http://[::1]:9001"
    assert pg.api_origin("not a name") == "http://127.0.0.1:9001"
    assert Settings(host="0.0.0.0").page_host(None) == "localhost"


def test_stop_ends_open_streams_promptly() -> None:
    live = BackgroundServer().start()
    client = httpx.Client()
    sid = client.get(f"{live.site_url}/", follow_redirects=True).url.path.rsplit("/", 1)[1]
    lines: list[str] = []
    done = threading.Event()
    open_stream(f"{live.site_url}/sessions/{sid}/events", lines, done)
    open_stream(f"{live.api_url}/console/{sid}/events", [], threading.Event())
    assert wait_for(lambda: any(line.startswith(": connected") for line in lines))
    started = time.monotonic()
    assert live.stop(timeout=5)
    assert time.monotonic() - started < 3
    assert done.wait(3)


def test_first_ctrl_c_stops_the_command_with_a_stream_open() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
         "--site-port", "0", "--api-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        site = re.search(r"site origin.*?(http://\S+)", "".join(banner))
        api = re.search(r"API origin.*?(http://\S+)", "".join(banner))
        assert site and api, banner
        sid = httpx.get(f"{site.group(1)}/", follow_redirects=True).url.path.rsplit("/", 1)[1]
        lines: list[str] = []
        done = threading.Event()
        open_stream(f"{site.group(1)}/sessions/{sid}/events", lines, done)
        assert wait_for(lambda: any(line.startswith(": connected") for line in lines))
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
        assert time.monotonic() - started < 3
        assert done.wait(3)
        assert "stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_taken_port_is_said_plainly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
             "--site-port", str(port), "--api-port", "0"],
            capture_output=True, text=True, timeout=30, cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--site-port" in result.stderr
    assert "Traceback" not in result.stderr



def test_the_serving_process_keeps_its_startup_objects_out_of_collections() -> None:
    """run_one settles the collector once the server is built, before it serves: a full
    collection over every object of the process paused the loop for 90 to 160 ms in the
    middle of a burst of legs."""
    code = (
        "import gc\n"
        "from app.web import server\n"
        "class Server:\n"
        "    def run(self, sockets):\n"
        "        print(gc.get_freeze_count(), gc.get_threshold()[0])\n"
        "server.build_server = lambda settings: Server()\n"
        "server.run_one(None, [])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    frozen, young = map(int, done.stdout.split())
    assert frozen > 10_000, done.stderr  # the modules and the application, at least
    assert young == YOUNG_THRESHOLD
