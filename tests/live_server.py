"""A real uvicorn server on a free loopback port, in a thread with its own event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

from sentd.api.proxies import uvicorn_proxy_options

T = TypeVar("T")


class LiveServer:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        settings = getattr(getattr(app, "state", None), "settings", None)
        # Forwarded headers are trusted as `sentd serve` trusts them.
        proxies = uvicorn_proxy_options(settings) if settings is not None else {}
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_config=None,
            lifespan="on",
            access_log=False,
            **proxies,
            server_header=False,  # as `sentd serve`
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="live-server", daemon=True)
        self.base_url = ""

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._server.serve())

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the server's loop (where its pool lives) and return the result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self.loop.close()
