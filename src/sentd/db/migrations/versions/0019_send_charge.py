"""`sentd_charge(...)`: a send's final statement as one function call, its plans cached.

Sent as literals with the COMMIT, the statement was parsed and planned on every send (about as
long as it ran); a PL/pgSQL function keeps the plans of its statements for the session.

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-03
"""

from alembic import op

revision = "0019"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION sentd_charge(
            organization uuid, mode boolean, today date, adding integer, day_limit integer,
            funding uuid[], total bigint, entry uuid, reference text, message_ids uuid[]
        ) RETURNS void
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            counted integer;
            payer uuid;
            remaining bigint;
        BEGIN
            -- Today's count: refused past the organization's daily quota.
            INSERT INTO daily_message_counts AS d (organization_id, livemode, day, count)
            VALUES (organization, mode, today, adding)
            ON CONFLICT (organization_id, livemode, day) DO UPDATE
                SET count = d.count + EXCLUDED.count
                WHERE d.count + EXCLUDED.count <= day_limit
            RETURNING d.count INTO counted;
            IF counted IS NULL OR counted > day_limit THEN
                PERFORM sentd_refuse('BUSINESS_008');
            END IF;
            IF total <= 0 THEN
                RETURN;
            END IF;
            -- The first balance of `funding` that covers the total once its lock is held.
            FOREACH payer IN ARRAY funding LOOP
                UPDATE balances b SET amount_micros = b.amount_micros - total, updated_at = now()
                WHERE b.customer_id = payer AND b.livemode = mode AND b.amount_micros >= total
                RETURNING b.amount_micros INTO remaining;
                IF FOUND THEN
                    INSERT INTO ledger_entries (id, customer_id, livemode, amount_micros,
                        balance_after_micros, reason, reference)
                    VALUES (entry, payer, mode, -total, remaining, 'messages', reference);
                    IF payer <> funding[1] THEN
                        UPDATE messages m SET charges = jsonb_build_array(jsonb_build_object(
                            'customer_id', payer::text, 'micros', m.price_micros))
                        WHERE m.id = ANY(message_ids) AND m.price_micros > 0;
                    END IF;
                    RETURN;
                END IF;
            END LOOP;
            PERFORM sentd_refuse('BUSINESS_003');
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION sentd_charge(uuid, boolean, date, integer, integer, uuid[], bigint, uuid, "
        "text, uuid[])"
    )
