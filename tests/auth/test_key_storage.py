"""Keys are stored only as digests; use is recorded; formats are as documented."""

from __future__ import annotations

import httpx

from sentd.auth import keys as key_format
from tests.factories import make_org
from tests.live_server import LiveServer


def test_no_plaintext_key_in_the_database(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    client.get("/v3/me", headers={"x-api-key": org.live_key})

    async def dump() -> str:
        async with server.app.state.db.connection() as conn:
            rows = await conn.fetch("SELECT row_to_json(k)::text AS t FROM api_keys k")
        return "\n".join(r["t"] for r in rows)

    text = server.run(dump())
    for key in (org.live_key, org.test_key):
        random_part = key.split("_", 2)[2]
        assert random_part not in text
        assert random_part[8:24] not in text


def test_last_used_at_is_recorded(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)

    async def last_used() -> object:
        async with server.app.state.db.connection() as conn:
            return await conn.fetchval(
                "SELECT last_used_at FROM api_keys WHERE key_hash = $1",
                key_format.digest(org.test_key),
            )

    assert server.run(last_used()) is None
    client.get("/v3/me", headers={"x-api-key": org.test_key})
    assert server.run(last_used()) is not None


def test_generated_key_format() -> None:
    live, test = key_format.generate(True), key_format.generate(False)
    assert live.plaintext.startswith("sk_live_") and test.plaintext.startswith("sk_test_")
    assert len(live.plaintext) == len("sk_live_") + 40
    assert key_format.is_well_formed(live.plaintext)
    assert live.digest == key_format.digest(live.plaintext) != test.digest
    assert live.prefix == live.plaintext[:12]
