"""Sending numbers belong to one customer: `sending_numbers` holds each number's single claim.

A customer's SMS number (`sending_phone_number`) and WhatsApp number (`whatsapp_phone_number`)
are claimed here; the primary key on the number makes a second customer's claim fail, even when
two claims race. Inbound messages are routed by this table.

Existing numbers are claimed for the customer that set them. A number that several customers set
before this revision goes to the oldest of them — the one inbound messages were already routed to
— and each such number is reported in the log (WARNING, logger `sentd.migrations`) with the
customers that also set it. Nothing is deleted: those customers keep the value in their profile,
but inbound messages to it are not theirs until the operator settles who owns it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

log = logging.getLogger("sentd.migrations")

SET_NUMBERS = """
    SELECT sending_phone_number AS phone_number, id, created_at FROM customers
    WHERE deleted_at IS NULL AND sending_phone_number IS NOT NULL
    UNION
    SELECT whatsapp_phone_number, id, created_at FROM customers
    WHERE deleted_at IS NULL AND whatsapp_phone_number IS NOT NULL
"""


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE sending_numbers (
            phone_number text PRIMARY KEY,   -- E.164
            customer_id  uuid NOT NULL REFERENCES customers (id),
            claimed_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX sending_numbers_customer_idx ON sending_numbers (customer_id);
        INSERT INTO sending_numbers (phone_number, customer_id, claimed_at)
        SELECT DISTINCT ON (phone_number) phone_number, id, now()
        FROM ({SET_NUMBERS}) AS set_numbers
        ORDER BY phone_number, created_at, id;
        """
    )
    duplicates = op.get_bind().execute(
        sa.text(
            f"""
            SELECT s.phone_number, n.customer_id AS owner,
                   array_agg(s.id::text ORDER BY s.created_at, s.id)
                       FILTER (WHERE s.id <> n.customer_id) AS others
            FROM ({SET_NUMBERS}) AS s JOIN sending_numbers n USING (phone_number)
            GROUP BY s.phone_number, n.customer_id
            HAVING count(DISTINCT s.id) > 1
            ORDER BY s.phone_number
            """
        )
    )
    for number, owner, others in duplicates:
        log.warning(
            "Sending number %s was set by several customers. It now belongs to %s (the oldest, "
            "which already received its inbound messages); also set by %s, which keep the value "
            "but receive no inbound messages on it. Nothing was deleted: give each of them a "
            "number of its own, or clear it (PATCH /v3/profiles/{id} with "
            '{"sending_phone_number": null} or {"whatsapp_phone_number": null}).',
            number,
            owner,
            ", ".join(others),
        )


def downgrade() -> None:
    op.execute("DROP TABLE sending_numbers")
