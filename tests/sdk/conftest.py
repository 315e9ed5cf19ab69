"""The official SDK as a client of the live server; every client is closed after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sent_dm

from tests.live_server import LiveServer

SdkFactory = Callable[..., sent_dm.Sent]


@pytest.fixture
def sdk(server: LiveServer) -> Iterator[SdkFactory]:
    """`sdk(api_key, strict=False, **options)` → a `sent_dm.Sent` pointed at the live server."""
    clients: list[sent_dm.Sent] = []

    def make(api_key: str, strict: bool = False, **options: Any) -> sent_dm.Sent:
        client = sent_dm.Sent(
            base_url=server.base_url,
            api_key=api_key,
            _strict_response_validation=strict,
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
