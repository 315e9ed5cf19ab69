"""Message templates: their definition, status and review.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE templates (
            id                    uuid PRIMARY KEY,
            customer_id           uuid NOT NULL REFERENCES customers (id),
            organization_id       uuid NOT NULL REFERENCES customers (id),  -- quota, inheritance
            livemode              boolean NOT NULL,
            name                  text NOT NULL,
            category              text NOT NULL
                                  CHECK (category IN ('MARKETING', 'UTILITY', 'AUTHENTICATION')),
            language              text NOT NULL,
            status                text NOT NULL DEFAULT 'DRAFT'
                                  CHECK (status IN ('DRAFT', 'PENDING', 'APPROVED', 'REJECTED',
                                                    'PAUSED', 'DISABLED', 'REVOKED')),
            definition            jsonb NOT NULL,     -- the normalised camelCase definition
            channels              text[] NOT NULL,
            variables             text[] NOT NULL,
            is_published          boolean NOT NULL DEFAULT false,
            creation_source       text NOT NULL DEFAULT 'from-api',
            rejection_reason      text,
            -- The review in progress (status PENDING), or a pending removal at WhatsApp:
            -- review_backend is the backend chosen when it was submitted; review_state says what
            -- the worker does next ('scheduled': the simulator decides at review_due_at;
            -- 'submitting': send it to WhatsApp at review_due_at; 'submitted': WhatsApp has it and
            -- its webhook brings the verdict; 'awaiting_operator': `sentd templates review`;
            -- 'deleting': remove it from the WhatsApp Business Account at review_due_at).
            review_backend        text
                                  CHECK (review_backend IN ('simulator', 'whatsapp', 'manual')),
            review_state          text CHECK (review_state IN ('scheduled', 'submitting',
                                              'submitted', 'awaiting_operator', 'deleting')),
            review_due_at         timestamptz,
            review_attempts       integer NOT NULL DEFAULT 0,
            submitted_at          timestamptz,
            reviewed_at           timestamptz,
            whatsapp_template_id  text,
            whatsapp_name         text,
            whatsapp_waba_id      text,
            search_text           text GENERATED ALWAYS AS (
                                      name || ' ' ||
                                      coalesce(definition #>> '{body,multiChannel,template}', '')
                                      || ' ' || coalesce(definition #>> '{body,sms,template}', '')
                                      || ' ' ||
                                      coalesce(definition #>> '{body,whatsapp,template}', '')
                                      || ' ' || coalesce(definition #>> '{body,rcs,template}', '')
                                      || ' ' || coalesce(definition #>> '{body,mms,template}', '')
                                  ) STORED,
            created_at            timestamptz NOT NULL DEFAULT now(),
            updated_at            timestamptz NOT NULL DEFAULT now(),
            deleted_at            timestamptz
        );
        CREATE UNIQUE INDEX templates_name_key ON templates (customer_id, livemode, name)
            WHERE deleted_at IS NULL;
        CREATE INDEX templates_list_idx ON templates (customer_id, livemode, created_at, id)
            WHERE deleted_at IS NULL;
        CREATE INDEX templates_organization_idx ON templates (organization_id, livemode)
            WHERE deleted_at IS NULL;
        CREATE INDEX templates_review_due_idx ON templates (review_due_at)
            WHERE review_due_at IS NOT NULL;
        CREATE INDEX templates_whatsapp_id_idx ON templates (whatsapp_template_id)
            WHERE whatsapp_template_id IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE templates")
