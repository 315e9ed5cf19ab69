"""Group commit (`SendGroups`) on the database alone: concurrent sends of one customer share a
transaction, each with its own answer, refusal, ledger entry and count; a charge refused inside
a group sends each member alone, so the balance and the quota stay exact."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sentd.auth.principal import Principal
from sentd.config import Settings
from sentd.db.database import Database
from sentd.db.repos import balances
from sentd.domain.messages import SendRequest
from sentd.errors.exceptions import ApiError
from sentd.pricing import price_list
from sentd.providers.registry import Providers
from sentd.services.messages import Admit, Environment
from sentd.services.send_groups import SendGroups
from tests.db.test_send_statement import LIMITS, SMS_PRICE, organization, run, subscribe


def environment() -> Environment:
    settings = Settings()
    return Environment(
        now=datetime.now(UTC),
        providers=Providers(settings),
        prices=price_list(settings.pricing_file),
    )


async def send_all(
    groups: SendGroups,
    sends: list[tuple[Principal, SendRequest]],
    admit: Admit | None = None,
) -> list[dict[str, Any] | BaseException]:
    """The sends at once, as concurrent requests of one process would make them; each one's
    answer or refusal, in order."""
    env = environment()
    return await asyncio.gather(
        *(
            groups.send(p, request, env, reference=f"req-{n}", admit=admit)
            for n, (p, request) in enumerate(sends)
        ),
        return_exceptions=True,
    )


def sms(*to: str) -> SendRequest:
    return SendRequest(to=list(to), channel=["sms"], text="Hello")


async def transactions_of(db: Database, principal: Principal) -> int:
    """How many transactions wrote the customer's messages (rows one transaction inserts share
    their xmin)."""
    async with db.connection() as conn:
        count: int = await conn.fetchval(
            "SELECT count(DISTINCT xmin::text) FROM messages WHERE customer_id = $1",
            principal.customer_id,
        )
    return count


async def ledger(db: Database, principal: Principal) -> list[tuple[str, int]]:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT reference, amount_micros FROM ledger_entries "
            "WHERE customer_id = $1 AND reason = 'messages' ORDER BY reference",
            principal.customer_id,
        )
    return [(r["reference"], r["amount_micros"]) for r in rows]


async def balance(db: Database, principal: Principal) -> int:
    async with db.connection() as conn:
        row = await balances.get(conn, principal.scope)
    assert row is not None
    return int(row["amount_micros"])


def test_concurrent_sends_share_one_transaction_each_with_its_own_answer(
    database_url: str,
) -> None:
    async def test(db: Database) -> None:
        principal = await organization(db, 10 * SMS_PRICE)
        other = await organization(db, 10 * SMS_PRICE)
        groups = SendGroups(db)
        numbers = [f"+1415555{n:04d}" for n in range(4)]
        answers = await send_all(
            groups,
            [(principal, sms(number)) for number in numbers] + [(other, sms("+14155559999"))],
        )
        assert [a["recipients"][0]["to"] for a in answers if isinstance(a, dict)] == [
            *numbers,
            "+14155559999",
        ]
        assert await transactions_of(db, principal) == 1
        assert await transactions_of(db, other) == 1  # another customer: a group of its own
        assert await ledger(db, principal) == [(f"req-{n}", -SMS_PRICE) for n in range(4)]
        assert await balance(db, principal) == 6 * SMS_PRICE
        async with db.connection() as conn:
            counted = await conn.fetchval(
                "SELECT count FROM daily_message_counts WHERE organization_id = $1",
                principal.organization_id,
            )
        assert counted == 4

    run(database_url, test)


def test_a_refused_send_leaves_its_group_and_its_neighbours_are_sent(database_url: str) -> None:
    async def test(db: Database) -> None:
        principal = await organization(db, 10 * SMS_PRICE)
        admitted: list[int] = []

        async def admit(size: int) -> None:
            admitted.append(size)
            if size == 3:
                raise ApiError("BUSINESS_002", {"messages_per_minute": ["Too many"]})

        answers = await send_all(
            SendGroups(db),
            [
                (principal, sms("+14155550201")),
                (principal, SendRequest(to=["+14155550202"], channel=["sms"])),  # no body
                (principal, sms("+14155550203", "+14155550204", "+14155550205")),
                (principal, sms("+14155550206", "+14155550201")),  # a number a neighbour adds
            ],
            admit,
        )
        assert isinstance(answers[0], dict) and isinstance(answers[3], dict)
        assert isinstance(answers[1], ApiError) and answers[1].code == "VALIDATION_001"
        assert isinstance(answers[2], ApiError) and answers[2].code == "BUSINESS_002"
        assert sorted(admitted) == [1, 2, 3]  # each planned send once; the shapeless never
        assert await transactions_of(db, principal) == 1
        assert await balance(db, principal) == 7 * SMS_PRICE
        async with db.connection() as conn:
            contacts = await conn.fetch(
                "SELECT phone_e164 FROM contacts WHERE customer_id = $1 ORDER BY 1",
                principal.customer_id,
            )
        assert [c["phone_e164"] for c in contacts] == ["+14155550201", "+14155550206"]

    run(database_url, test)


def test_a_balance_that_runs_out_inside_a_group_accepts_exactly_what_it_covers(
    database_url: str,
) -> None:
    async def test(db: Database) -> None:
        principal = await organization(db, 3 * SMS_PRICE)
        admitted: list[int] = []

        async def admit(size: int) -> None:
            admitted.append(size)

        answers = await send_all(
            SendGroups(db), [(principal, sms(f"+1415555030{n}")) for n in range(5)], admit
        )
        codes = [a.code if isinstance(a, ApiError) else 202 for a in answers]
        assert codes == [202, 202, 202, "BUSINESS_003", "BUSINESS_003"]
        assert admitted == [1] * 5  # admitted once, not again when sent alone
        assert await balance(db, principal) == 0
        assert await ledger(db, principal) == [(f"req-{n}", -SMS_PRICE) for n in range(3)]

    run(database_url, test)


def test_a_daily_quota_that_runs_out_inside_a_group_accepts_exactly_what_it_allows(
    database_url: str,
) -> None:
    async def test(db: Database) -> None:
        principal = await organization(db, 100 * SMS_PRICE)  # 5 messages a day (LIMITS)
        answers = await send_all(
            SendGroups(db), [(principal, sms(f"+1415555040{n}")) for n in range(7)]
        )
        codes = [a.code if isinstance(a, ApiError) else 202 for a in answers]
        assert codes == [202] * 5 + ["BUSINESS_008"] * 2
        assert await balance(db, principal) == 95 * SMS_PRICE
        async with db.connection() as conn:
            messages = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE customer_id = $1", principal.customer_id
            )
        assert messages == 5

    run(database_url, test)


async def written(db: Database, principal: Principal) -> list[tuple[Any, ...]]:
    """What the customer's sends wrote, without the ids a send draws: each message (with its
    contact's number) and its first status event, and each webhook event with its delivery."""
    async with db.connection() as conn:
        messages = await conn.fetch(
            """
            SELECT m.phone_e164, k.phone_e164 AS contact, m.channel, m.status, m.direction,
                m.body, m.price_micros, jsonb_path_query_array(m.charges, '$[*].micros'),
                m.template_parameters IS NULL AS no_parameters,
                m.media_urls, m.subject, m.scheduled_at, m.due_at, m.created_at, m.updated_at,
                e.status AS first_status, e.description, e.occurred_at
            FROM messages m JOIN contacts k ON k.id = m.contact_id
            JOIN message_events e ON e.message_id = m.id
            WHERE m.customer_id = $1 ORDER BY m.created_at, m.phone_e164
            """,
            principal.customer_id,
        )
        events = await conn.fetch(
            """
            SELECT e.event_type, e.created_at, e.envelope -> 'data' ->> 'to' AS recipient,
                d.state, d.next_attempt_at, d.created_at AS queued_at
            FROM events e JOIN webhook_deliveries d ON d.event_id = e.id
            WHERE e.customer_id = $1 ORDER BY e.created_at, recipient
            """,
            principal.customer_id,
        )
    return [tuple(r.values()) for r in messages] + [tuple(r.values()) for r in events]


def test_a_group_writes_each_send_as_it_would_be_written_alone(database_url: str) -> None:
    now = datetime.now(UTC)
    requests = [
        sms("+14155550701"),
        SendRequest(
            to=["+14155550702"],
            channel=["mms"],
            text="Look",
            media_urls=["https://example.com/a.png", "https://example.com/b,c.png"],
            subject="A picture",
        ),
        SendRequest(to=["+14155550703"], channel=["sms"], text="No media", media_urls=[]),
        SendRequest(
            to=["+14155550701"],
            channel=["sms"],
            text="Later",
            scheduled_at=now + timedelta(hours=1),
        ),
        sms("+14155550704", "+14155550705"),
    ]

    def environments() -> list[Environment]:  # each send its own moment
        return [replace(environment(), now=now + timedelta(milliseconds=n)) for n in range(5)]

    async def test(db: Database) -> None:
        together, alone = [
            replace(
                await organization(db, 10 * SMS_PRICE), limits=replace(LIMITS, messages_per_day=100)
            )
            for _ in range(2)
        ]
        for principal in (together, alone):
            await subscribe(db, principal, ["queued", "scheduled"])
        groups = SendGroups(db)
        answers = await asyncio.gather(
            *(
                groups.send(together, request, env, reference=f"req-{n}")
                for n, (request, env) in enumerate(zip(requests, environments(), strict=True))
            )
        )
        assert await transactions_of(db, together) == 1
        for n, (request, env) in enumerate(zip(requests, environments(), strict=True)):
            await groups.send(alone, request, env, reference=f"req-{n}")
        assert await transactions_of(db, alone) == 5
        assert [len(a["recipients"]) for a in answers] == [1, 1, 1, 1, 2]
        assert await written(db, together) == await written(db, alone)
        assert len(await written(db, together)) == 12  # 6 messages, 6 events with a delivery
        assert await ledger(db, together) == await ledger(db, alone)

    run(database_url, test)


def test_sends_queued_behind_a_group_form_the_next_one(database_url: str) -> None:
    async def test(db: Database) -> None:
        principal = await organization(db, 100 * SMS_PRICE)
        groups = SendGroups(db, max_sends=2)
        answers = await send_all(groups, [(principal, sms(f"+1415555050{n}")) for n in range(5)])
        ids = {uuid.UUID(a["recipients"][0]["message_id"]) for a in answers if isinstance(a, dict)}
        assert len(ids) == 5
        assert await transactions_of(db, principal) == 3  # 2 + 2 + 1

    run(database_url, test)


def test_a_send_whose_rows_the_database_refuses_fails_alone(database_url: str) -> None:
    poison = "+14155550666"

    async def test(db: Database) -> None:
        principal = await organization(db, 10 * SMS_PRICE)
        trigger = f"poison_{principal.customer_id.hex}"
        async with db.connection() as conn:  # a fault no valid request reaches
            await conn.execute(
                f"""
                CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.phone_e164 = '{poison}' THEN RAISE EXCEPTION 'poisoned row'; END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER {trigger} BEFORE INSERT ON messages
                    FOR EACH ROW EXECUTE FUNCTION {trigger}();
                """
            )
        try:
            answers = await send_all(
                SendGroups(db),
                [(principal, sms(n)) for n in ("+14155550601", poison, "+14155550602")],
            )
        finally:
            async with db.connection() as conn:
                await conn.execute(f"DROP TRIGGER {trigger} ON messages; DROP FUNCTION {trigger}()")
        assert isinstance(answers[0], dict) and isinstance(answers[2], dict)
        assert isinstance(answers[1], Exception) and "poisoned row" in str(answers[1])
        assert await ledger(db, principal) == [("req-0", -SMS_PRICE), ("req-2", -SMS_PRICE)]
        assert await balance(db, principal) == 8 * SMS_PRICE

    run(database_url, test)
