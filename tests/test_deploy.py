"""docker-compose.yml's topology without Docker: the repository's haproxy.cfg (Debian's
haproxy) in front of two playground processes on one real Redis, all on loopback addresses.

The proxy listens on 127.0.0.2 and the replicas on 127.0.0.3 and 127.0.0.4, on the same ports,
as the compose file's containers do: the ports a browser uses are the ones each replica
serves, so every page's origins come out right.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.redis_server import RedisServer
from tests.streams import EventReader, serving_processes

ROOT = Path(__file__).resolve().parents[1]
PROXY, REPLICAS = "127.0.0.2", ("127.0.0.3", "127.0.0.4")


def free_ports(count: int) -> list[int]:
    """Ports free on every address (bound on the wildcard to be sure)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("0.0.0.0", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def wait_for(address: tuple[str, int], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(address, timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {address}")


@pytest.fixture
def deployment() -> Iterator[tuple[str, str]]:
    """The proxy's site and API origins, with two replicas and Redis behind it."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.path.exists(haproxy):
        raise RuntimeError("haproxy is not installed: ./dev test installs it (Debian: haproxy)")
    site, api, attacker = free_ports(3)
    processes: list[subprocess.Popen[bytes]] = []
    with RedisServer() as redis:
        try:
            for host in REPLICAS:
                command = [
                    sys.executable, "-m", "app.cli", "serve", "--host", host,
                    "--site-port", str(site), "--api-port", str(api),
                    "--attacker-port", str(attacker), "--redis", redis.url,
                ]  # fmt: skip
                processes.append(
                    subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
                )
            env = {
                **os.environ,
                "PROXY_HOST": PROXY, "PROXY_MAXCONN": "256",
                "REPLICA_1": REPLICAS[0], "REPLICA_2": REPLICAS[1],
                "SITE_PORT": str(site), "API_PORT": str(api), "ATTACKER_PORT": str(attacker),
            }  # fmt: skip
            for host in REPLICAS:
                wait_for((host, site))
            processes.append(
                subprocess.Popen(
                    [haproxy, "-db", "-f", str(ROOT / "haproxy.cfg")],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_for((PROXY, site))
            yield f"http://{PROXY}:{site}", f"http://{PROXY}:{api}"
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


def test_two_replicas_behind_the_proxy_serve_one_playground(
    deployment: tuple[str, str],
) -> None:
    site, api = deployment
    processes = serving_processes(site, 40)
    assert len(processes) == 2, "the proxy sent every connection to one replica"
    with httpx.Client(timeout=10) as client:
        page = client.get(f"{site}/", follow_redirects=False).headers["location"]
        sid = page.split("/sessions/")[1].split("?")[0]
    stream = EventReader(
        f"{site}/sessions/{sid}/events", lambda events: [n for n, _ in events].count("leg") >= 4
    )
    assert stream.ready.wait(10)
    scenario = {
        "response": {
            "status": 200,
            "headers": [["Access-Control-Allow-Origin", site], ["X-Replica-Test", "kept"]],
        }
    }
    for _ in range(4):  # new connections each time: both replicas record legs
        with httpx.Client(timeout=10) as client:
            run = client.post(f"{site}/api/runs?session={sid}", json=scenario).json()
        assert run["target"].startswith(api), (run["target"], api)
        with httpx.Client(timeout=10) as client:
            answer = client.get(run["target"], headers={"Origin": site})
        assert answer.status_code == 200
        # Byte for byte through the proxy: the configured headers, then only the framing.
        names = [k.lower() for k in answer.headers]
        assert names[:2] == ["access-control-allow-origin", "x-replica-test"], names
        assert set(names[2:]) <= {"content-type", "content-length"}, names
    stream.join(20)
    legs = stream.names().count("leg")
    assert legs == 4, stream.names()  # every leg reached the stream, whichever replica took it
