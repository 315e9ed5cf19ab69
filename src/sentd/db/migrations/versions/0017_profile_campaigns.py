"""Profile campaigns (10DLC): a profile's campaigns, their use cases and their registry review.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE profile_campaigns (
            id                         uuid PRIMARY KEY,
            -- The sender profile the campaign belongs to (registration data, like the profile's
            -- brand: not split by mode).
            customer_id                uuid NOT NULL REFERENCES customers (id),
            name                       text NOT NULL,
            description                text NOT NULL,
            type                       text NOT NULL,
            -- [{id, messagingUseCaseUs, sampleMessages, createdAt, updatedAt}]
            use_cases                  jsonb NOT NULL,
            help_keywords              text,
            help_message               text,
            message_flow               text,
            optin_keywords             text,
            optin_message              text,
            optout_keywords            text,
            optout_message             text,
            privacy_policy_link        text,
            terms_and_conditions_link  text,
            volume                     text,
            status                     text NOT NULL DEFAULT 'SENT_CREATED'
                                       CHECK (status IN ('SENT_CREATED', 'ACTIVE', 'EXPIRED')),
            -- Where the registry review stands: 'draft' (editable; submitted once the profile
            -- is approved), 'in_review' (submitted; the simulator decides at review_due_at, or
            -- an operator with `sentd profiles campaigns review`), 'approved', 'rejected'
            -- (editable again; tcr_sync_error says why).
            registry_state             text NOT NULL DEFAULT 'draft'
                                       CHECK (registry_state IN ('draft', 'in_review',
                                                                 'approved', 'rejected')),
            review_due_at              timestamptz,
            submitted_at               timestamptz,
            tcr_campaign_id            text,
            tcr_sync_error             text,
            dca_elections_completed_at timestamptz,
            created_at                 timestamptz NOT NULL DEFAULT now(),
            updated_at                 timestamptz NOT NULL DEFAULT now(),
            deleted_at                 timestamptz
        );
        CREATE INDEX profile_campaigns_list_idx ON profile_campaigns (customer_id, created_at, id)
            WHERE deleted_at IS NULL;
        CREATE INDEX profile_campaigns_draft_idx ON profile_campaigns (customer_id)
            WHERE registry_state = 'draft' AND deleted_at IS NULL;
        CREATE INDEX profile_campaigns_review_due_idx ON profile_campaigns (review_due_at)
            WHERE review_due_at IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE profile_campaigns")
