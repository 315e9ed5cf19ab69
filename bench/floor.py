"""The floor: the least an HTTP endpoint that writes to PostgreSQL can do — no framework, no
authentication, no validation; one INSERT and its commit per request. Every accept figure is
also reported as a ratio to this, so that numbers stay comparable on a noisy machine."""

from __future__ import annotations

import os
import uuid
from typing import Any

import asyncpg

pool: Any = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global pool
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                pool = await asyncpg.create_pool(
                    os.environ["FLOOR_DATABASE_URL"], min_size=4, max_size=10
                )
                await pool.execute(
                    "CREATE TABLE IF NOT EXISTS floor_writes (id uuid PRIMARY KEY, body bytea)"
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    await pool.execute("INSERT INTO floor_writes (id, body) VALUES ($1, $2)", uuid.uuid4(), body)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": b'{"ok":true}'})
