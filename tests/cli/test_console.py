"""What a person at a terminal sees: `sentd init`'s first-request lines and the README's examples
work when pasted into a shell; logs are readable lines on a terminal and JSON otherwise; `make run`
takes HOST and PORT."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.support import SENTD, cli_env, free_port, run_cli, wait_healthy
from tests.conftest import build_app
from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
README_URL = "http://127.0.0.1:8000"


@pytest.fixture
def live(env: dict[str, str], db_url: str) -> Iterator[LiveServer]:
    migrated = run_cli(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    server = LiveServer(build_app(db_url)).start()
    yield server
    server.stop()


def shell(script: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SENTD_TEST_KEY"}
    return subprocess.run(
        ["bash", "-euc", script], env=env, capture_output=True, text=True, timeout=60
    )


def readme_blocks_using_the_key() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    found = [b for b in blocks if "$SENTD_TEST_KEY" in b]
    assert found, "the README has no example that uses $SENTD_TEST_KEY"
    return found


def test_init_prints_lines_that_work_when_pasted(env: dict[str, str], live: LiveServer) -> None:
    port = live.base_url.rsplit(":", 1)[1]
    printed = run_cli(env | {"SENTD_PORT": port}, "init")
    assert printed.returncode == 0, printed.stderr
    lines = [line.strip() for line in printed.stdout.splitlines()]
    [export] = [line for line in lines if line.startswith("export SENTD_TEST_KEY=sk_test_")]
    [curl] = [line for line in lines if line.startswith("curl ")]
    assert f"http://127.0.0.1:{port}/v3/me" in curl

    # What init printed, pasted as it is.
    me = shell(f"{export}\n{curl}\n")
    assert me.returncode == 0, me.stderr
    body: dict[str, Any] = json.loads(me.stdout)
    assert body["success"] is True and body["data"]["mode"] == "test"

    # The README's examples, with the export line pasted first (only the port differs).
    for block in readme_blocks_using_the_key():
        result = shell(f"{export}\n{block.replace(README_URL, live.base_url)}")
        assert result.returncode == 0, (block, result.stderr)
        answer = json.loads(result.stdout)
        assert answer["success"] is True, (block, answer)


def _serve_lines(env: dict[str, str], tmp_path: Path, *, terminal: bool, wanted: str) -> list[str]:
    """Start `sentd serve`, with stderr on a pseudo-terminal or a pipe; return its output lines up
    to the first that contains `wanted`."""
    port = free_port()
    args = [SENTD, "serve", "--port", str(port), "--no-worker"]
    master = None
    if terminal:
        master, slave = pty.openpty()
        serve = subprocess.Popen(args, env=env, stdout=slave, stderr=slave)
        os.close(slave)
    else:
        serve = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    source = master if master is not None else serve.stdout.fileno()  # type: ignore[union-attr]
    output = b""
    try:
        wait_healthy(f"http://127.0.0.1:{port}", serve)
        deadline = time.monotonic() + 30
        while wanted.encode() not in output:
            assert time.monotonic() < deadline, output.decode(errors="replace")
            ready, _, _ = select.select([source], [], [], 0.5)
            if ready:
                output += os.read(source, 65536)
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        if master is not None:
            os.close(master)
        if serve.stdout is not None:
            serve.stdout.close()
    text = output.decode(errors="replace").replace("\r\n", "\n")
    return [line for line in text.split("\n") if line.strip()]


STARTED = "Application startup complete"
CONSOLE_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3}  (\x1b\[[0-9;]*m)?INFO ")


def test_logs_are_readable_on_a_terminal_and_json_otherwise(
    db_url: str, tmp_path: Path, env: dict[str, str]
) -> None:
    assert run_cli(env, "migrate").returncode == 0
    # As a person runs it: no log setting at all.
    env = cli_env(SENTD_DATABASE_URL=db_url, SENTD_DATA_DIR=str(tmp_path), SENTD_LOG_LEVEL="INFO")
    del env["SENTD_LOG_JSON"]

    on_terminal = _serve_lines(env, tmp_path, terminal=True, wanted=STARTED)
    [started] = [line for line in on_terminal if STARTED in line]
    assert CONSOLE_LINE.match(started), on_terminal
    assert "uvicorn.error" in started
    assert not any(line.lstrip().startswith("{") for line in on_terminal), on_terminal

    piped = _serve_lines(env, tmp_path, terminal=False, wanted=STARTED)
    [started] = [json.loads(line) for line in piped if STARTED in line]
    assert (started["level"], started["logger"]) == ("info", "uvicorn.error")

    forced = _serve_lines(
        env | {"SENTD_LOG_FORMAT": "json"}, tmp_path, terminal=True, wanted=STARTED
    )
    assert json.loads(next(line for line in forced if STARTED in line))["level"] == "info"


def test_make_run_takes_host_and_port() -> None:
    def dry_run(*args: str) -> list[str]:
        result = subprocess.run(
            ["make", "-n", "-C", str(ROOT), "run", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if k not in ("HOST", "PORT")},
        )
        assert result.returncode == 0, result.stderr
        return [line for line in result.stdout.splitlines() if "sentd " in line]

    custom = dry_run("PORT=8123", "HOST=0.0.0.0")
    assert custom[-2].endswith("sentd init") and custom[-1].endswith("sentd serve")
    assert all("SENTD_HOST=0.0.0.0 SENTD_PORT=8123 " in line for line in custom[-2:])
    default = dry_run()
    assert not any("SENTD_PORT" in line or "SENTD_HOST" in line for line in default)
