"""`avf serve`, the README's main command, as a real process: it builds, serves the portal,
the cities and the service on one port, and stops cleanly on SIGTERM and Ctrl+C."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, free_port, post, write_city


def start_serve(content: Path, output: Path, data: Path, *extra: str,
                ) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    environ = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "AVF_DATA_DIR": str(data),
               "AVF_SECRET_KEY": "test-secret-key"}
    process = subprocess.Popen(
        [sys.executable, "-m", "avf.cli", "serve", "--content", str(content),
         "--output", str(output), "--port", str(port), "--jobs", "2", *extra],
        cwd=PROJECT_ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    deadline = time.monotonic() + 120  # the first start builds the network
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"avf serve exited with {process.returncode}: "
                        f"{process.communicate()[1]}")
        try:
            status, _body = fetch(port, "/")
            if status == 200:
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    pytest.fail("avf serve never answered")


def fetch(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def stop(process: subprocess.Popen[str], signum: signal.Signals) -> str:
    process.send_signal(signum)
    try:
        _out, errors = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
    return errors


def test_serve_builds_and_serves_the_network_then_stops_cleanly(network: Path,
                                                                tmp_path: Path) -> None:
    write_city(network, "lyon", {"posts/2026-10-01-rentree.md": post("Rentrée à Lyon")})
    output, data = tmp_path / "output", tmp_path / "var"

    process, port = start_serve(network, output, data)
    portal = fetch(port, "/")[1]
    assert "AVF Lyon" in portal
    status, city = fetch(port, "/lyon/")
    assert status == 200 and "Rentrée à Lyon" in city
    stylesheet = city[city.index("/theme/"):city.index('"', city.index("/theme/"))]
    assert fetch(port, stylesheet)[0] == 200
    assert fetch(port, "/lyon/nulle-part.html")[0] == 404
    errors = stop(process, signal.SIGTERM)
    assert "Service arrêté." in errors
    assert (data / "avf.sqlite3").exists()  # the service's own state, in AVF_DATA_DIR

    # The production unit runs it without building; Ctrl+C stops it as cleanly.
    process, port = start_serve(network, output, data, "--no-build")
    assert fetch(port, "/lyon/")[0] == 200
    stop(process, signal.SIGINT)


def test_serve_without_a_build_refuses_an_empty_output(network: Path, tmp_path: Path) -> None:
    environ = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT),
               "AVF_DATA_DIR": str(tmp_path / "var")}
    finished = subprocess.run(
        [sys.executable, "-m", "avf.cli", "serve", "--content", str(network),
         "--output", str(tmp_path / "output"), "--port", str(free_port()), "--no-build"],
        cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1
    assert "lancez d'abord avf build" in finished.stderr
