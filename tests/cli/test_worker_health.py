"""`sentd worker-health`: the health check of a worker container, which has no HTTP."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from tests.cli.support import SENTD, run_cli


def test_healthy_only_while_a_worker_of_this_host_beats(
    env: dict[str, str], demo: dict[str, Any], tmp_path: Path
) -> None:
    idle = run_cli(env, "worker-health")
    assert idle.returncode == 1 and "no worker loop on" in idle.stderr
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([SENTD, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while (check := run_cli(env, "worker-health")).returncode != 0:
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, check.stderr
            time.sleep(0.5)
        assert "worker loops alive on" in check.stdout
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
