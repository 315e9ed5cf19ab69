"""Helpers for tests that run the `sentd` console script as a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import STATUS_TOKEN

SENTD = str(Path(sys.executable).parent / "sentd")
DEMO_MICROS = 25_000_000
EXPIRED = "2000-01-01T00:00:00+00:00"


def cli_env(**values: str) -> dict[str, str]:
    """The caller's environment without any SENTD_* setting, plus `values` (and the operator's
    status token: send `tests.conftest.OPERATOR` to read /status details)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTD_")}
    quiet = {"SENTD_LOG_JSON": "false", "SENTD_LOG_LEVEL": "WARNING"}
    return env | quiet | {"SENTD_STATUS_TOKEN": STATUS_TOKEN} | values


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SENTD, *args], env=env, capture_output=True, text=True, timeout=60)


def cli_json(env: dict[str, str], *args: str) -> Any:
    result = run_cli(env, *args)
    assert result.returncode == 0, f"sentd {' '.join(args)} failed:\n{result.stderr}"
    return json.loads(result.stdout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(base_url: str, serve: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert serve.poll() is None, f"sentd serve exited with {serve.returncode}"
        try:
            if httpx.get(f"{base_url}/healthcheck", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"sentd serve did not answer {base_url}/healthcheck within {timeout} s")
